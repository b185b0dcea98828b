"""axe-core checks for the browser tests: every rule in the light scheme, the colour rules again in the dark one.

axe-core comes bundled with axe-playwright-python (a maintained wrapper) and is injected from disk. The dark scheme
changes only colours, so after the system turns dark (the palette's first state follows it) only the colour rules
run again. Every violation found, whatever its impact, is recorded in the session report (build/browser/axe.json).
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.support import Report

AXE_SCRIPT = Axe().axe_script
BLOCKING = {"serious", "critical"}
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
SCHEMES = (("light", "default", None), ("dark", "slate", COLOUR_RULES))  # (system, Material scheme, axe rules)

# Violations from Material's own templates that the site has not fixed, as (rule, CSS selector) pairs: each would be
# one rule on the elements one selector matches, never a whole rule or region, and would still appear in the report
# as "known". Empty: docs/assets/javascripts/a11y.js names the search dialog and makes wide tables focusable.
KNOWN_THEME_VIOLATIONS: set[tuple[str, str]] = set()


def _is_known(page: Page, rule: str, target: list) -> bool:
    selectors = [sel for known_rule, sel in KNOWN_THEME_VIOLATIONS if known_rule == rule]
    if not selectors or len(target) != 1 or not isinstance(target[0], str):
        return False  # never for elements inside frames or shadow roots (a nested target)
    return page.evaluate(
        "([t, sels]) => { const e = document.querySelector(t); return !!e && sels.some(s => e.matches(s)); }",
        [target[0], selectors],
    )


def _axe(page: Page, scheme: str, rules: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the injected axe; every violating element as a record, and the blocking ones as readable lines."""
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    found, blocking = [], []
    for v in page.evaluate("options => axe.run(document, options)", options)["violations"]:
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
    return found, blocking


def set_scheme(page: Page, scheme: str) -> None:
    """Turn the emulated system light or dark and wait until the palette (in its first, automatic state) follows."""
    material = {"light": "default", "dark": "slate"}[scheme]
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function("s => document.body.dataset.mdColorScheme === s", arg=material)


def axe_problems(page: Page, path: str, report: Report, on_scheme=None, dark: bool = True) -> list[str]:
    """Serious or critical violations, light then (unless ``dark`` is false) dark; ``on_scheme(scheme)`` runs after
    each pass (screenshots)."""
    page.evaluate(AXE_SCRIPT)
    problems = []
    for scheme, _, rules in SCHEMES if dark else SCHEMES[:1]:
        set_scheme(page, scheme)
        found, blocking = _axe(page, scheme, rules)
        report.axe[f"{path or '/'} [{scheme}]"] = found
        problems += blocking
        if on_scheme is not None:
            on_scheme(scheme)
    set_scheme(page, "light")
    return problems
