"""axe-core checks for the browser tests: every rule in the light scheme, the colour rules again in the dark one.

axe-core comes bundled with axe-playwright-python (a maintained wrapper) and is injected from disk. The dark scheme
changes only colours, so after the system turns dark (the palette's first state follows it) only the colour rules
run again. Every violation found, whatever its impact, is recorded in the session report (build/browser/axe.json).

The colour rules are most of axe's time on a review page (thousands of KaTeX and code spans, each measured against
what lies under it), and what they judge is decided by the stylesheets: an element's colours follow from its tag
and classes and those of its ancestors, since the HTML allowlist forbids inline styles (kbsite/html_policy.py). So
they judge one visible element per *styling path* (the tags, classes and roles from ``body`` down to the element;
inside a formula, the formula's path, the glyph's tag and classes and its colour), for text and for links, and
each path once per scheme in a session: a page whose every path was judged on an earlier page runs the other rules
only. The processes of a session (pytest-xdist workers) tell each other which paths they have judged through the
session folder (:class:`JudgedPaths`). Every other rule judges every element of every page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.support import RENDER_EVERY_BLOCK_CSS, Report

AXE_SCRIPT = Axe().axe_script
BLOCKING = {"serious", "critical"}
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
SCHEMES = (("light", "default", None), ("dark", "slate", COLOUR_RULES))  # (system, Material scheme, axe rules)

# Violations from Material's own templates that the site has not fixed, as (rule, CSS selector) pairs: each would be
# one rule on the elements one selector matches, never a whole rule or region, and would still appear in the report
# as "known". Empty: docs/assets/javascripts/a11y.js names the search dialog and makes wide tables focusable.
KNOWN_THEME_VIOLATIONS: set[tuple[str, str]] = set()


# Mark one visible element per styling path not yet judged, among the elements with text of their own and the form
# fields (color-contrast) and among the links (link-in-text-block), and point the two rules at the marked elements
# only. Takes the paths judged so far; returns the paths it marked.
SAMPLE_COLOUR_TARGETS = r"""judged => {
  const done = new Set(judged);
  for (const e of document.querySelectorAll("[data-kb-colour-sample]")) e.removeAttribute("data-kb-colour-sample");
  const path = new Map([[document.body, "body"]]);
  // KaTeX writes an inline colour for \color, the one inline style a page holds: it is part of the path.
  const own = e => e.tagName + (e.classList.length ? "." + [...e.classList].sort().join(".") : "")
    + (e.getAttribute("role") ? `[role=${e.getAttribute("role")}]` : "")
    + (e.style && (e.style.color || e.style.backgroundColor) ? `{${e.style.color};${e.style.backgroundColor}}` : "");
  // Inside a formula the glyphs sit in nests of layout spans that set no colour: a glyph's path is the formula's
  // path, the glyph's own tag and classes, and the colour it ends up with (inherited, or from a \color group).
  const glyph = (e, formula) => path.get(formula) + ">…>" + own(e) + `{${getComputedStyle(e).color}}`;
  const visible = e => e.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const chosen = new Map();
  const offer = (key, e) => { if (!done.has(key) && !chosen.has(key) && visible(e)) chosen.set(key, e); };
  for (const e of document.body.querySelectorAll("*")) {
    const formula = e.parentElement.closest(".katex");
    const key = formula ? glyph(e, formula) : path.get(e.parentElement) + ">" + own(e);
    path.set(e, key);
    if ([...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) offer("text " + key, e);
    if (e.matches("input, select, textarea")) offer("text " + key, e);
    if (e.matches("a[href], [role=link]")) offer("link " + key, e);
  }
  for (const e of chosen.values()) e.setAttribute("data-kb-colour-sample", "");
  axe.configure({rules: [
    {id: "color-contrast", selector: "[data-kb-colour-sample]"},
    {id: "link-in-text-block", selector: "a[href][data-kb-colour-sample], [role=link][data-kb-colour-sample]"},
  ]});
  return [...chosen.keys()];
}"""


class JudgedPaths:
    """The styling paths judged so far in the session, by scheme: this process's own, and, once :meth:`share` has
    named the session's folder, those the session's other processes have recorded there. Each process appends a
    line (a JSON list) to its own file per scheme after each axe run, so a path counts as judged only once the run
    that judged it is over, and its violations are in that run's test; a reader drops a last line not yet ended."""

    def __init__(self) -> None:
        self.own: dict[str, set[str]] = {"light": set(), "dark": set()}
        self.folder: Path | None = None

    def share(self, folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        self.folder = folder

    def _file(self, scheme: str) -> Path:
        """This process's record for ``scheme``."""
        assert self.folder is not None
        return self.folder / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.{scheme}.jsonl"

    def paths(self, scheme: str) -> set[str]:
        judged = set(self.own[scheme])
        if self.folder is not None:
            mine = self._file(scheme)
            for other in self.folder.glob(f"*.{scheme}.jsonl"):
                if other != mine:
                    for line in other.read_text(encoding="utf-8").split("\n")[:-1]:
                        judged.update(json.loads(line))
        return judged

    def add(self, scheme: str, paths: list[str]) -> None:
        self.own[scheme].update(paths)
        if self.folder is not None and paths:
            with self._file(scheme).open("a", encoding="utf-8") as out:
                out.write(json.dumps(paths) + "\n")


_JUDGED = JudgedPaths()


def share_judged_paths(folder: Path) -> None:
    """Let this process skip the styling paths the session's other processes have judged (see :class:`JudgedPaths`)."""
    _JUDGED.share(folder)


def _is_known(page: Page, rule: str, target: list) -> bool:
    selectors = [sel for known_rule, sel in KNOWN_THEME_VIOLATIONS if known_rule == rule]
    if not selectors or len(target) != 1 or not isinstance(target[0], str):
        return False  # never for elements inside frames or shadow roots (a nested target)
    return page.evaluate(
        "([t, sels]) => { const e = document.querySelector(t); return !!e && sels.some(s => e.matches(s)); }",
        [target[0], selectors],
    )


def _axe(
    page: Page, scheme: str, rules: list[str] | None, sampled: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the injected axe, the colour rules on the ``sampled`` styling paths only (see SAMPLE_COLOUR_TARGETS);
    every violating element as a record, and the blocking ones as readable lines."""
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        rules = rules if sampled else [r for r in rules if r not in COLOUR_RULES]
        if not rules:
            return [], []
        options["runOnly"] = {"type": "rule", "values": rules}
    elif not sampled:
        options["rules"] = {rule: {"enabled": False} for rule in COLOUR_RULES}
    found, blocking = [], []
    # Only the violations cross to Python: axe's whole result also lists every rule that passed or did not apply,
    # about 110 kB per run, which the Playwright driver and client would serialize and validate for nothing.
    for v in page.evaluate("options => axe.run(document, options).then(result => result.violations)", options):
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            known = _is_known(page, v["id"], node["target"])
            found.append(
                {
                    "id": v["id"],
                    "impact": v["impact"],
                    "target": target,
                    "known": known,
                    "html": node["html"][:200],
                    "summary": node["failureSummary"],
                }
            )
            if v["impact"] in BLOCKING and not known:
                blocking.append(
                    f"axe [{scheme}] {v['id']} ({v['impact']}) {target}: {node['failureSummary']}\n"
                    f"    {node['html'][:160]}"
                )
    _JUDGED.add(scheme, sampled)
    return found, blocking


def set_scheme(page: Page, scheme: str) -> None:
    """Turn the emulated system light or dark and wait until the palette (in its first, automatic state) follows."""
    material = {"light": "default", "dark": "slate"}[scheme]
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function("s => document.body.dataset.mdColorScheme === s", arg=material)


# kb.css lets the browser skip rendering the article's blocks that are off screen (content-visibility: auto). A
# skipped block keeps the styles it had when it was skipped and has no real boxes, so axe would judge colours and
# positions it never sees: every block is rendered for the checks.
# Two animation frames let what watches sizes (ResizeObserver, as in a11y.js and Material) answer first.
RENDER_EVERYTHING = """css => { const s = document.createElement("style"); s.id = "kb-render-everything";
  s.textContent = css;
  document.head.append(s);
  return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true)))); }"""


def axe_problems(page: Page, path: str, report: Report, on_scheme=None, dark: bool = True) -> list[str]:
    """Serious or critical violations, light then (unless ``dark`` is false) dark, with every block rendered;
    ``on_scheme(scheme)`` runs after each pass (screenshots). The dark pass runs the colour rules only, so it is
    left out when every styling path of the page was judged dark already and no screenshot is wanted; the page
    stays in the last scheme checked."""
    page.evaluate(AXE_SCRIPT)
    page.evaluate(RENDER_EVERYTHING, RENDER_EVERY_BLOCK_CSS)
    problems = []
    for scheme, _, rules in SCHEMES if dark else SCHEMES[:1]:
        # Which paths the page shows does not depend on the scheme: sample them before switching.
        sampled = page.evaluate(SAMPLE_COLOUR_TARGETS, sorted(_JUDGED.paths(scheme)))
        if rules == COLOUR_RULES and not sampled and on_scheme is None:
            continue
        set_scheme(page, scheme)
        found, blocking = _axe(page, scheme, rules, sampled)
        report.axe[f"{path or '/'} [{scheme}]"] = found
        problems += blocking
        if on_scheme is not None:
            on_scheme(scheme)
    return problems
