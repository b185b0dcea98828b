"""Every review in Chromium: its first view (weight, math, copy buttons, citations, screenshots) and math that survives
instant navigation between reviews. Math is typeset at build time, so it is there when the page is: no waiting."""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.accessibility import axe_problems
from tests.browser.support import (
    CITATIONS_JS,
    COPY_JS,
    MATH_JS,
    SCREENSHOTS,
    WEIGHT_BUDGET_BYTES,
    WEIGHT_EXCLUDED,
    NetLog,
    Report,
    Served,
    katex_scripts,
    load_problems,
    relative_href,
    review_slugs,
    wait_until_quiet,
)
from tests.helpers import html_pages

SLUGS = review_slugs()


def _math_problems(page: Page) -> list[str]:
    math = page.evaluate(MATH_JS)
    problems = [f"not rendered by KaTeX: {t!r}" for t in math["unrendered"]]
    problems += [f"KaTeX error: {e!r}" for e in math["errors"]]
    problems += [f"raw TeX in the text: {t!r}" for t in math["raw"]]
    return problems


def _first_view_weight(responses: list[Response]) -> dict:
    """gzip-compressed sizes of everything the page loaded, the search index and worker aside."""
    rows = []
    for response in responses:
        path = urlsplit(response.url).path
        if any(p.search(path) for p in WEIGHT_EXCLUDED) or response.status != 200:
            continue
        body = response.body()
        rows.append((path, len(body), len(gzip.compress(body))))
    rows.sort(key=lambda r: -r[2])
    return {
        "responses": len(rows),
        "raw_bytes": sum(r[1] for r in rows),
        "gzip_bytes": sum(r[2] for r in rows),
        "budget_bytes": WEIGHT_BUDGET_BYTES,
        "gzip_bytes_by_file": {path: gz for path, _, gz in rows},
    }


def _content_problems(page: Page) -> list[str]:
    """Math rendered, a copy button on every code block, every citation pointing at one reference item."""
    problems = _math_problems(page)
    copy = page.evaluate(COPY_JS)
    if copy["blocks"] == 0:
        problems.append("no code block (a review embeds its snippet and a runnable example)")
    problems += [f"code block without a copy button: {t!r}" for t in copy["missing"]]
    citations = page.evaluate(CITATIONS_JS)
    if not citations:
        problems.append("no citation (a review cites at least its paper)")
    for c in citations:
        if not c["samePage"] or c["targets"] != 1 or not c["isReference"]:
            problems.append(f"citation {c['text']!r} -> {c['href']}: {c['targets']} targets, "
                            f"a reference item: {c['isReference']}")
    return problems


def _copy_button_copies(page: Page) -> list[str]:
    """The copy button of the first visible block puts exactly that block's code on the clipboard."""
    block = page.locator(".md-content pre:visible").first
    block.hover()  # Material shows the button on hover
    block.locator("button.md-code__button[data-md-type=copy]").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    shown = block.locator("code").inner_text()
    return [] if copied.rstrip("\n") == shown.rstrip("\n") else [f"copied {copied[:80]!r}, shown {shown[:80]!r}"]


def _citation_lands(page: Page) -> list[str]:
    """Clicking a citation puts its fragment in the address bar and scrolls its reference item into view."""
    cite = page.locator(".md-content a.kb-cite:visible").first
    fragment = cite.evaluate("a => a.hash")  # Material makes hrefs absolute at run time
    cite.click()
    landed = """h => { const r = document.getElementById(h.slice(1)).getBoundingClientRect();
        return location.hash === h && r.bottom > 0 && r.top < innerHeight; }"""
    try:
        page.wait_for_function(landed, arg=fragment, timeout=5000)
    except PlaywrightTimeoutError:
        state = page.evaluate("""h => ({url: location.href, scrollY, historyLength: history.length,
            targetTop: document.getElementById(h.slice(1)).getBoundingClientRect().top})""", fragment)
        return [f"clicking the citation {fragment} did not bring its reference into view: {state}"]
    return []


@pytest.mark.parametrize("slug", SLUGS)
def test_review_page(page: Page, net: NetLog, served: Served, report: Report, slug: str) -> None:
    """A review's first view (empty cache), all from one page load: it loads cleanly and within the weight budget;
    its math, code blocks and citations render; axe finds nothing serious, light or dark; screenshots of it go to
    screenshots/<slug>-light.png and -dark.png (git-ignored); its copy button copies and a citation click lands."""
    path = f"reviews/{slug}/"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    response = page.goto(served(path), wait_until="load")
    wait_until_quiet(page, net)  # fonts, the search index and the favicon come after "load"
    problems = load_problems(response, net, served)

    weight = report.weights[slug] = _first_view_weight(responses)
    print(f"\npage weight /{path}: {weight['gzip_bytes'] / 1000:.1f} kB gzip in {weight['responses']} responses")
    if weight["gzip_bytes"] > WEIGHT_BUDGET_BYTES:
        largest = ", ".join(f"{p} {gz / 1000:.1f} kB" for p, gz in list(weight["gzip_bytes_by_file"].items())[:5])
        problems.append(f"first view {weight['gzip_bytes'] / 1000:.1f} kB gzip > {WEIGHT_BUDGET_BYTES / 1000:.0f} kB; "
                        f"largest: {largest}")

    problems += _content_problems(page)

    SCREENSHOTS.mkdir(exist_ok=True)

    def screenshot(scheme: str) -> None:
        page.evaluate("() => scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"{slug}-{scheme}.png", full_page=True, animations="disabled")

    problems += axe_problems(page, path, report, on_scheme=screenshot)
    # Interactions last, so the screenshots show the page as it opens.
    problems += _citation_lands(page)
    problems += _copy_button_copies(page)
    assert problems == [], f"/{path}:\n" + "\n".join(problems)


def _navigate_without_reload(page: Page, served: Served, go, to: str) -> None:
    """Run ``go`` (a click, a step in history) and wait until instant navigation has swapped in the page ``to``."""
    page.evaluate("() => { document.querySelector('article').dataset.kbOld = ''; }")
    go()
    page.wait_for_url(served(to))
    page.wait_for_function("() => !document.querySelector('article[data-kb-old]')")
    assert page.evaluate("() => window.__kbMarker") == "no full page load", f"moving to /{to} reloaded the page"


def test_math_survives_instant_navigation_between_reviews(page: Page, net: NetLog, served: Served) -> None:
    """Load one review, then reach every review (the first one last) by clicking its link in the navigation, then
    step back and forward in history: no full page load happens, and each review arrives with all of its math typeset
    (by the build: no KaTeX script is ever requested)."""
    start = f"reviews/{SLUGS[0]}/" if len(SLUGS) > 1 else "reviews/"
    tour = [f"reviews/{s}/" for s in SLUGS[1:] + SLUGS[:1]]
    page.goto(served(start), wait_until="load")
    page.evaluate("() => { window.__kbMarker = 'no full page load'; }")  # a full page load would lose it

    def arrived(at: str) -> None:
        math_in_build = (served.site / at / "index.html").read_text(encoding="utf-8").count('class="arithmatex"')
        assert page.locator(".md-content .arithmatex").count() == math_in_build, at
        assert _math_problems(page) == [], at

    here = start
    for target in tour:
        # Material rewrites links to absolute URLs once instant navigation is on; match either form.
        link = ", ".join(f'.md-sidebar--primary a.md-nav__link[href="{h}"]'
                         for h in (relative_href(here, target), served(target)))
        _navigate_without_reload(page, served, page.locator(link).first.click, target)
        arrived(target)
        here = target
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].name") == served(start)

    before = ([start] + tour)[-2]
    _navigate_without_reload(page, served, page.go_back, before)
    arrived(before)
    _navigate_without_reload(page, served, page.go_forward, here)
    arrived(here)
    assert net.problems() == {}
    assert katex_scripts(net.requests) == []


def test_no_page_loads_katex_javascript(served: Served) -> None:
    """Math is typeset by the build: no built page references a KaTeX script, and the site ships none (the browser
    side of this, every request of every page the other tests load, is checked by ``load_problems``)."""
    referenced = [f"{p.relative_to(served.site)}: {src}" for p in html_pages(served.site)
                  for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', p.read_text(encoding="utf-8"))
                  if katex_scripts([src])]
    shipped = [str(p.relative_to(served.site)) for p in served.site.rglob("*.js") if katex_scripts([p.as_posix()])]
    assert referenced == [] and shipped == []
    math_pages = [p for p in html_pages(served.site) if 'class="arithmatex' in p.read_text(encoding="utf-8")]
    assert len(math_pages) >= len(SLUGS)  # the math is there, typeset, without the scripts
