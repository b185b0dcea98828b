"""Every review in Chromium: its first view (weight, math, copy buttons, citations, screenshots); and math that survives
instant navigation between the sampled reviews. Math is typeset at build time, so it is there when the page is: no
waiting."""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.accessibility import axe_problems
from tests.browser.support import (
    CITATIONS_JS,
    COPY_JS,
    HIDE_AGAIN_JS,
    LAYOUT_SHIFT_JS,
    LAYOUT_SHIFT_MAX,
    MATH_JS,
    RENDER_EVERY_BLOCK_CSS,
    SCREENSHOTS,
    SHOW_EVERY_BLOCK_JS,
    TAKE_SCREENSHOTS,
    UNREACHABLE_BLOCKS_JS,
    WEIGHT_BUDGET_BYTES,
    WEIGHT_EXCLUDED,
    NetLog,
    Report,
    Served,
    is_sampled_page,
    katex_scripts,
    load_problems,
    relative_href,
    review_slugs,
    sampled_reviews,
    use_small_search_index,
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


def _copy_button_problems(page: Page) -> list[str]:
    """Every code block gets Material's copy button once it is in view (Material sets blocks up as they come into
    view: content.lazy in mkdocs.yml): every block is shown and scrolled to, then the page is put back as it was.
    Before that, a block not yet set up must take keyboard focus (a11y.js), so that a keyboard user can reach a
    block that scrolls."""
    unreachable = page.evaluate(UNREACHABLE_BLOCKS_JS)
    problems = [f"code block not set up and not reachable by keyboard: {t!r}" for t in unreachable]
    page.evaluate(SHOW_EVERY_BLOCK_JS, RENDER_EVERY_BLOCK_CSS)
    copy = page.evaluate(COPY_JS)
    page.evaluate(HIDE_AGAIN_JS)
    if not copy["blocks"]:
        problems.append("no code block (a review embeds its snippet and a runnable example)")
    return problems + [f"code block without a copy button once in view: {t!r}" for t in copy["missing"]]


def _content_problems(page: Page) -> list[str]:
    """Math rendered, every citation pointing at one reference item."""
    problems = _math_problems(page)
    citations = page.evaluate(CITATIONS_JS)
    if not citations:
        problems.append("no citation (a review cites at least its paper)")
    for c in citations:
        if not c["samePage"] or c["targets"] != 1 or not c["isReference"]:
            problems.append(
                f"citation {c['text']!r} -> {c['href']}: {c['targets']} targets, a reference item: {c['isReference']}"
            )
    return problems


def _copy_button_copies(page: Page) -> list[str]:
    """The copy button of the first visible block puts exactly that block's code on the clipboard."""
    block = page.locator(".md-content pre:visible").first
    # In the middle of the viewport: scrolled just into view, the block's top (where the button sits) can lie under
    # the sticky header, and Playwright's click then retries with pauses of up to 500 ms (about 1 s per page here).
    block.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    block.hover()  # Material shows the button on hover
    button = block.locator("button.md-code__button[data-md-type=copy]")
    # Material adds the button when the block comes into view. Wait for it first: a click on a button that is not
    # there yet retries after 20, 100, 100 and 500 ms, and that pause was most of this check's time.
    button.wait_for()
    button.click()
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
        state = page.evaluate(
            """h => ({url: location.href, scrollY, historyLength: history.length,
            targetTop: document.getElementById(h.slice(1)).getBoundingClientRect().top})""",
            fragment,
        )
        return [f"clicking the citation {fragment} did not bring its reference into view: {state}"]
    return []


@pytest.mark.parametrize("slug", SLUGS)
def test_review_page(page_of_shared_context: Page, net: NetLog, served: Served, report: Report, slug: str) -> None:
    """A review's first view (empty cache), all from one page load: it loads cleanly and within the weight budget;
    its math, code blocks and citations render; it does not move under the reader (layout shift); axe finds nothing
    serious, light and (for a sampled review) dark; with KB_SCREENSHOTS=1, screenshots of it go to
    screenshots/<slug>-light.png and -dark.png (git-ignored); on a sampled review, its copy button copies and a
    citation click lands.
    The page gets a search index of no documents (:func:`tests.browser.support.use_small_search_index`) and loads in
    the worker's shared tab (:class:`tests.browser.support.SharedTab`), which starts each test on about:blank."""
    page = page_of_shared_context
    path = f"reviews/{slug}/"
    sampled = is_sampled_page(path)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    responses: list[Response] = []

    def collect(response: Response) -> None:
        responses.append(response)

    page.on("response", collect)  # this test's only: the tab goes on to the next test
    try:
        response = page.goto(served(path), wait_until="load")
        wait_until_quiet(page, net)  # fonts, the search index and the favicon come after "load"
    finally:
        page.remove_listener("response", collect)
    problems = load_problems(response, net, served)

    weight = report.weights[slug] = _first_view_weight(responses)
    print(f"\npage weight /{path}: {weight['gzip_bytes'] / 1000:.1f} kB gzip in {weight['responses']} responses")
    if weight["gzip_bytes"] > WEIGHT_BUDGET_BYTES:
        largest = ", ".join(f"{p} {gz / 1000:.1f} kB" for p, gz in list(weight["gzip_bytes_by_file"].items())[:5])
        problems.append(
            f"first view {weight['gzip_bytes'] / 1000:.1f} kB gzip > {WEIGHT_BUDGET_BYTES / 1000:.0f} kB; "
            f"largest: {largest}"
        )

    problems += _content_problems(page)
    shifts = page.evaluate(LAYOUT_SHIFT_JS)
    if sum(s["value"] for s in shifts) > LAYOUT_SHIFT_MAX:
        problems.append(
            f"layout shift {sum(s['value'] for s in shifts):.3f} > {LAYOUT_SHIFT_MAX} on load: {shifts[:3]}"
        )
    problems += _copy_button_problems(page)  # after the layout shifts are read: it scrolls the page

    def screenshot(scheme: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.evaluate("() => scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"{slug}-{scheme}.png", full_page=True, animations="disabled")

    problems += axe_problems(page, path, report, on_scheme=screenshot if TAKE_SCREENSHOTS else None, dark=sampled)
    # Interactions last, so the screenshots show the page as it opens; on the sampled reviews (every review has its
    # citations and copy buttons checked above, without clicking).
    if sampled:
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


def _link_in_nav(page: Page, served: Served, here: str, target: str) -> Locator:
    """The link to ``target`` in the primary navigation of the page at ``here``."""
    # Material rewrites links to absolute URLs once instant navigation is on; match either form.
    return page.locator(
        ", ".join(
            f'.md-sidebar--primary a.md-nav__link[href="{h}"]' for h in (relative_href(here, target), served(target))
        )
    ).first


def test_math_survives_instant_navigation_between_reviews(page: Page, net: NetLog, served: Served) -> None:
    """Load one review, then reach every sampled review (the first one last) by clicking its link in the navigation
    (through the reviews index when the page's navigation does not list it), then step back and forward in history:
    no full page load happens, and each review arrives with all of its math typeset (by the build: no KaTeX script
    is ever requested). The sample is :func:`tests.browser.support.sampled_reviews`; every review's math is checked
    on its own page load above. The pages get a search index of no documents, as the page checks do."""
    sample = [r.slug for r in sampled_reviews()]
    start = f"reviews/{sample[0]}/" if len(sample) > 1 else "reviews/"
    tour = [f"reviews/{s}/" for s in sample[1:] + sample[:1]]
    use_small_search_index(page.context, served)
    page.goto(served(start), wait_until="load")
    page.evaluate("() => { window.__kbMarker = 'no full page load'; }")  # a full page load would lose it

    def arrived(at: str) -> None:
        math_in_build = (served.site / at / "index.html").read_text(encoding="utf-8").count('class="arithmatex"')
        assert page.locator(".md-content .arithmatex").count() == math_in_build, at
        assert _math_problems(page) == [], at

    visited = [start]
    for target in tour:
        link = _link_in_nav(page, served, visited[-1], target)
        if link.count() == 0:  # a navigation that lists only some reviews: go by the index, which lists them all
            _navigate_without_reload(
                page, served, _link_in_nav(page, served, visited[-1], "reviews/").click, "reviews/"
            )
            visited.append("reviews/")
            link = page.locator(
                ", ".join(f'.md-content a[href="{h}"]' for h in (relative_href("reviews/", target), served(target)))
            ).first
        _navigate_without_reload(page, served, link.click, target)
        arrived(target)
        visited.append(target)
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].name") == served(start)

    _navigate_without_reload(page, served, page.go_back, visited[-2])
    arrived(visited[-2])
    _navigate_without_reload(page, served, page.go_forward, visited[-1])
    arrived(visited[-1])
    assert net.problems() == {}
    assert katex_scripts(net.requests) == []


def test_no_page_loads_katex_javascript(served: Served) -> None:
    """Math is typeset by the build: no built page references a KaTeX script, and the site ships none (the browser
    side of this, every request of every page the other tests load, is checked by ``load_problems``)."""
    referenced = [
        f"{p.relative_to(served.site)}: {src}"
        for p in html_pages(served.site)
        for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', p.read_text(encoding="utf-8"))
        if katex_scripts([src])
    ]
    shipped = [str(p.relative_to(served.site)) for p in served.site.rglob("*.js") if katex_scripts([p.as_posix()])]
    assert referenced == [] and shipped == []
    math_pages = [p for p in html_pages(served.site) if 'class="arithmatex' in p.read_text(encoding="utf-8")]
    assert len(math_pages) >= len(SLUGS)  # the math is there, typeset, without the scripts


def test_layout_shift_check_sees_a_late_block_push_the_text_down(page: Page) -> None:
    """LAYOUT_SHIFT_JS, which every review's check relies on, reports a shift that happened before it ran, and
    none on a page that did not move."""
    # The page moves itself, as a late image or font would, once it has been painted. It waits 600 ms: layout
    # shift ignores what happens within 500 ms of the reader's input, and Playwright's calls count as input.
    late_block = """<script>setTimeout(() => {
        const late = document.createElement("div");
        late.style.height = "200px";
        document.body.prepend(late);
    }, 600)</script>"""
    page.set_content("<p>A paragraph of text.</p>" * 20 + late_block)
    assert page.evaluate(LAYOUT_SHIFT_JS) == []
    try:
        page.wait_for_function(f"() => ({LAYOUT_SHIFT_JS})().length > 0", timeout=5000)
    except PlaywrightTimeoutError:
        pytest.fail("a block pushed the text down, and LAYOUT_SHIFT_JS reported no layout shift")
    shifts = page.evaluate(LAYOUT_SHIFT_JS)
    assert sum(s["value"] for s in shifts) > LAYOUT_SHIFT_MAX, shifts
    assert "P" in shifts[0]["moved"], shifts
