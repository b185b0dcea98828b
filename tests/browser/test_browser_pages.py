"""Every page of the site in Chromium: it loads without a console error, a failed request or a request to another
host, no raw TeX in its text, and axe-core finds no serious or critical violation, light and (on the sampled pages)
dark. Review pages get the same checks in test_browser_reviews.py, from the one page load their own checks use."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import accessibility
from tests.browser.accessibility import axe_problems
from tests.browser.support import (
    MATH_JS,
    NetLog,
    Relay,
    Report,
    Served,
    SharedTab,
    built_page_paths,
    is_sampled_page,
    load_problems,
    page_paths,
    recorded_context,
    review_slugs,
    use_small_search_index,
    wait_until_quiet,
)

PAGES = page_paths()
REVIEW_PAGES = {f"reviews/{slug}/" for slug in review_slugs()}


def test_every_built_page_is_visited(served: Served) -> None:
    """The pages are listed from docs/ when the tests are collected; the build must make no other."""
    assert built_page_paths(served.site) == sorted(PAGES)


@pytest.mark.parametrize("path", [p for p in PAGES if p not in REVIEW_PAGES], ids=lambda p: p or "home")
def test_page_is_clean_and_accessible(
    page_of_shared_context: Page, net: NetLog, served: Served, report: Report, path: str
) -> None:
    """The API page of a review outside the sample gets the light pass only (:func:`tests.browser.support.
    is_sampled_page`); every page gets a search index of no documents (the search tests load the real one). Each
    page opens in the worker's shared context (see ``page_of_shared_context``)."""
    page = page_of_shared_context
    sampled = is_sampled_page(path)
    response = page.goto(served(path), wait_until="load")
    wait_until_quiet(page, net)  # fonts, the search index and the favicon come after "load"
    problems = load_problems(response, net, served)
    problems += [f"raw TeX in the text: {t!r}" for t in page.evaluate(MATH_JS)["raw"]]
    problems += axe_problems(page, path, report, dark=sampled)
    assert problems == [], f"/{path}:\n" + "\n".join(problems)


def test_requests_to_other_hosts_are_recorded_and_never_sent(page: Page, net: NetLog, served: Served) -> None:
    """The guard every test relies on: a third-party request is seen, and aborted before it leaves."""
    use_small_search_index(page.context, served)
    page.goto(served(), wait_until="load")
    outcome = page.evaluate(
        """() => fetch("https://example.invalid/x.js").then(() => "sent", e => "blocked: " + e.message)"""
    )
    assert outcome.startswith("blocked")
    assert net.third_party == ["https://example.invalid/x.js"]
    assert any("example.invalid" in line and "ERR_BLOCKED_BY_CLIENT" in line for line in net.failed)
    net.third_party.clear()  # expected here: keep the session's count of third-party requests meaningful


def test_the_shared_context_reports_to_the_test_that_uses_it(
    page_of_shared_context: Page, net: NetLog, served: Served
) -> None:
    """The page checks share one context per worker: what goes wrong on a page still reaches its own test."""
    page = page_of_shared_context
    assert page.goto(served("no-such-page/")).status == 404
    assert [f for f in net.failed if "/no-such-page/" in f and "HTTP 404" in f], net.failed


def test_the_shared_tab_is_reused_and_left_as_a_new_one(browser: Browser, served: Served) -> None:
    """The shared context's tab goes to the next test with nothing of the last one: no stored data, the light
    system scheme, about:blank."""
    context = recorded_context(browser, served, Relay())
    try:
        tab = SharedTab(context)
        page = tab.page()
        page.goto(served("tags/"))
        page.evaluate("() => { localStorage.setItem('kb-left', '1'); sessionStorage.setItem('kb-left', '1'); }")
        page.emulate_media(color_scheme="dark")
        tab.reset()
        assert tab.page() is page and page.url == "about:blank"
        page.goto(served("tags/"))
        left = """() => [localStorage.getItem('kb-left'), sessionStorage.getItem('kb-left'),
                        matchMedia('(prefers-color-scheme: dark)').matches]"""
        assert page.evaluate(left) == [None, None, False]
    finally:
        context.close()


# A page with one violation of each kind the check must catch, light and dark: an image without a text alternative
# (critical) and grey text on a grey box (serious); its script plays Material's palette, which follows the system.
_FLAWED_PAGE = """<!doctype html><html lang="en"><head><title>Flawed</title></head><body><main>
<h1>Flawed</h1><img width="40" height="40">
<p style="color: #777; background: #888">Grey on grey.</p>
<script>const dark = matchMedia("(prefers-color-scheme: dark)");
const follow = () => { document.body.dataset.mdColorScheme = dark.matches ? "slate" : "default"; };
dark.addEventListener("change", follow); follow();</script></main></body></html>"""


@pytest.mark.parametrize("flawed", [True, False], ids=["flawed", "fixed"])
def test_the_accessibility_check_reports_what_axe_finds(
    page: Page, monkeypatch: pytest.MonkeyPatch, flawed: bool
) -> None:
    """``axe_problems`` turns axe's serious and critical violations into problems, in the light pass and in the
    dark one, and reports nothing on the same page once it is fixed."""
    # A page with its own styles: its styling paths must not count as judged for the site's pages.
    monkeypatch.setattr(accessibility, "_JUDGED", accessibility.JudgedPaths())
    html = _FLAWED_PAGE if flawed else _FLAWED_PAGE.replace(" width=", ' alt="A dot" width=').replace("#777", "#000")
    page.set_content(html)
    problems = axe_problems(page, "flawed/", Report(), dark=True)
    if not flawed:
        assert problems == []
        return
    found = sorted(line.split(" (")[0] for line in problems)
    assert found == ["axe [dark] color-contrast", "axe [light] color-contrast", "axe [light] image-alt"], problems


def test_the_reviews_index_table_fits_a_desktop_window(
    page_of_shared_context: Page, net: NetLog, served: Served
) -> None:
    """At the suite's 1280 px window the index's table is shown whole, no column cut off behind a sideways scroll:
    the page has no table of contents, so the table gets its width. A snippet module's name wraps only after
    "snippets." (it broke inside the name, "snippets.al|bert", before the index marked where it may wrap)."""
    page = page_of_shared_context
    page.goto(served("reviews/"), wait_until="load")
    wait_until_quiet(page, net)
    fits = """() => [...document.querySelectorAll(".kb-reviews-index .md-typeset__scrollwrap")]
        .map(w => [w.scrollWidth, w.clientWidth])"""
    widths = page.evaluate(fits)
    assert len(widths) == 1 and widths[0][0] <= widths[0][1], widths
    # A module name in the Snippet column may wrap after "snippets.", never inside the module's own name.
    lines_of_names = """() => [...document.querySelectorAll(".kb-reviews-index td a[href*='api/'] code")].map(code => {
        const name = code.lastChild, range = document.createRange();
        range.selectNodeContents(name);
        return [code.textContent, new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
    })"""
    names = page.evaluate(lines_of_names)
    assert len(names) == len(review_slugs()), names
    assert all(text.startswith("snippets.") and lines == 1 for text, lines in names), names
