"""bench/without.py, the site build benchmark's way of switching a part of the kb plugin off."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import without

PAGE = '<p><span class="arithmatex">\\(x\\)</span> <script>alert(1)</script></p>'


def test_every_part_is_replaced_by_a_function_that_leaves_the_page_and_counts_its_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kbsite import html_policy
    from kbsite import math as kb_math
    from kbsite.plugin import navigation, paper_card
    from kbsite.plugin import plugin as kb_plugin

    # What two of the parts do before: the page has math, and the script tag is a problem.
    assert kb_math.has_math(PAGE) and html_policy.html_problems(PAGE, "x.md") != []
    monkeypatch.setattr(without, "CALLS", Counter())
    for part in without.PARTS:
        without.switch_off(part, assign=monkeypatch.setattr)
    assert without.CALLS == {
        f"{part}: {name}": 0 for part, names in without.REPLACEMENTS.items() for _, name, _ in names
    }
    assert (kb_math.prerender(PAGE), kb_math.has_math(PAGE)) == (0, False)
    assert paper_card.add_paper_card("# T\n", None, None, "") == ("# T\n", [])
    cited = kb_plugin.render_citations("see [@nokey]", None, "x.md")
    assert (cited.markdown, cited.problems) == ("see [@nokey]", [])
    assert html_policy.html_problems(PAGE, "x.md") == []
    assert navigation.add_pages(None, None, [], "", "", 0) == []
    assert set(without.PARTS) == set(without.REPLACEMENTS)
    assert without.CALLS == {
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


def test_every_replaced_name_is_one_the_kb_plugin_calls_its_parts_by() -> None:
    """The replacements take effect only if the plugin's hooks look the functions up by these names at call time
    (a module attribute or a global of the plugin's module); the benchmark also refuses a build in which one was
    never called."""
    from kbsite.plugin.plugin import KbPlugin

    names = {n for hook in vars(KbPlugin).values() if callable(hook) for n in hook.__code__.co_names}
    for part, replaced in without.REPLACEMENTS.items():
        for module, name, _ in replaced:
            assert name in names, f"{part}: no hook of KbPlugin calls {module}.{name} by that name"
