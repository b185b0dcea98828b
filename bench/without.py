"""``python -m bench.without PART[,PART...] -- build MKDOCS-BUILD-ARGS``: one ``mkdocs build`` with parts of the kb
plugin replaced by functions that do nothing, so that the site build benchmark can say what each part costs.

This is a measuring tool, not a configuration of the site: a build without its citations or its allowlist is not
a site anyone should publish. The parts (:data:`PARTS`) are the kb plugin's own; the tags and mkdocstrings plugins
are left out by a configuration file instead (:func:`bench.site_build.without_plugin`).

A replacement counts its calls, and the build's last line on standard error gives the counts
(:data:`CALLS_LINE`), so that the benchmark can tell a part that was switched off from a part the plugin no longer
reaches through the replaced name (a refactoring that imports the function under another name): that part would
be measured as costing nothing.
"""

from __future__ import annotations

import atexit
import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

# What each part does in a build, as the benchmark page names it.
PARTS = {
    "math": "formulas typeset at build time (left as TeX instead)",
    "paper card": "the paper card and the Cite box with its two BibTeX entries",
    "citations": "citations and the reference list",
    "allowlist": "the HTML allowlist",
    "navigation": "the reviews and API pages in the sidebar, by topic",
}
CALLS_LINE = "bench.without calls: "


def _unchanged_markdown(markdown: str, *args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
    return markdown, []


def _no_citations(markdown: str, *args: Any, **kwargs: Any) -> Any:
    from kbsite.citations import CitedPage

    return CitedPage(markdown)


# part -> the (module, name) replaced and what replaces it.
REPLACEMENTS: dict[str, list[tuple[str, str, Callable[..., Any]]]] = {
    "math": [
        ("kbsite.math", "prerender", lambda *args, **kwargs: 0),
        ("kbsite.math", "has_math", lambda html: False),
    ],
    "paper card": [("kbsite.plugin.paper_card", "add_paper_card", _unchanged_markdown)],
    "citations": [("kbsite.plugin.plugin", "render_citations", _no_citations)],
    "allowlist": [("kbsite.html_policy", "html_problems", lambda *args, **kwargs: [])],
    "navigation": [("kbsite.plugin.navigation", "add_pages", lambda *args, **kwargs: [])],
}
CALLS: Counter[str] = Counter()


def switch_off(part: str, assign: Callable[[object, str, object], None] = setattr) -> None:
    """Replace the functions that do ``part`` by ones that leave the page as it is, each counting its calls;
    ``assign`` does the replacing (a test passes pytest's ``monkeypatch.setattr``, which undoes it afterwards)."""
    if part not in REPLACEMENTS:
        raise SystemExit(f"python -m bench.without: no part {part!r}; one of: {', '.join(PARTS)}")
    for module, name, replacement in REPLACEMENTS[part]:
        key = f"{part}: {name}"
        CALLS[key] += 0
        assign(importlib.import_module(module), name, _counting(key, replacement))


def _counting(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        CALLS[key] += 1
        return fn(*args, **kwargs)

    return counted


def calls(output: str) -> dict[str, int]:
    """The calls of every replacement, from a build's output (:data:`CALLS_LINE`)."""
    for line in reversed(output.splitlines()):
        if line.startswith(CALLS_LINE):
            return json.loads(line[len(CALLS_LINE) :])
    raise ValueError("no line of calls in the build's output")


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        raise SystemExit("usage: python -m bench.without PART[,PART...] -- build MKDOCS-BUILD-ARGS")
    for part in filter(None, argv[0].split(",")):
        switch_off(part)
    atexit.register(lambda: print(CALLS_LINE + json.dumps(dict(CALLS)), file=sys.stderr, flush=True))
    from mkdocs.__main__ import cli

    sys.argv = ["mkdocs", *argv[2:]]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
