"""bench/without.py, the site build benchmark's way of switching a part of the kb plugin off."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import without
from tests.helpers import ROOT

# In a process of its own: the replacements stay for the life of the process.
PROBE = """
import json, sys
from bench import without
for part in without.PARTS:
    without.switch_off(part)
from kbsite import html_policy, math as kb_math
from kbsite.plugin import navigation, paper_card, plugin
page = '<p><span class="arithmatex">\\\\(x\\\\)</span> <script>alert(1)</script></p>'
seen = {
    "math": [kb_math.prerender(page), kb_math.has_math(page)],
    "paper card": paper_card.add_paper_card("# T\\n", None, None, ""),
    "citations": plugin.render_citations("see [@nokey]", None, "x.md").markdown,
    "allowlist": html_policy.html_problems(page, "x.md"),
    "navigation": navigation.add_pages(None, None, [], "", "", 0),
}
print(json.dumps({"seen": seen, "calls": dict(without.CALLS)}))
"""


def test_every_part_is_replaced_by_a_function_that_leaves_the_page_and_counts_its_calls() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    result = json.loads(out)
    assert result["seen"] == {
        "math": [0, False],
        "paper card": ["# T\n", []],
        "citations": "see [@nokey]",
        "allowlist": [],
        "navigation": [],
    }
    assert set(without.PARTS) == set(without.REPLACEMENTS)
    assert result["calls"] == {
        f"{part}: {name}": 1 for part, names in without.REPLACEMENTS.items() for _, name, _ in names
    }


def test_an_unknown_part_is_an_error_that_names_the_parts() -> None:
    with pytest.raises(SystemExit, match="no part 'footnotes'; one of: math, paper card"):
        without.switch_off("footnotes")


def test_the_calls_are_read_from_the_last_line_that_gives_them() -> None:
    output = f'INFO - Building\n{without.CALLS_LINE}{{"math: has_math": 3}}\nWARNING - later\n'
    assert without.calls(output) == {"math: has_math": 3}
    with pytest.raises(ValueError, match="no line of calls"):
        without.calls("INFO - Building\n")
