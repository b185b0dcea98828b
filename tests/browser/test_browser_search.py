"""The site's search (Material's worker over search/search_index.json) finds each review by its title and by a key
term of its content. One page load serves every query: each query is typed into the same search box."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests.browser.support import KEY_TERMS, NetLog, Served, reviews


def _search(page: Page, query: str) -> list[str]:
    """Put the query in the header's search box; the URL paths of the pages found, best first."""
    box, meta = page.locator("input.md-search__input"), page.locator(".md-search-result__meta")
    box.click()  # opens the search dialog
    box.fill("")
    box.press("End")  # Material searches on keyup
    meta.filter(has_text="Type to start searching").wait_for()  # no stale results from the query before
    box.fill(query)
    box.press("End")
    meta.filter(has_text="matching").wait_for()  # "N matching documents" or "No matching documents"
    hrefs = page.eval_on_selector_all(
        ".md-search-result__item > a.md-search-result__link", "links => links.map(a => a.href)")
    return list(dict.fromkeys(urlsplit(h).path for h in hrefs))  # a page and its sections: one entry


def test_search_finds_every_review_by_title_and_key_term(page: Page, net: NetLog, served: Served) -> None:
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(served(), wait_until="load")

    problems, ranks = [], []
    for review in reviews():
        target = f"/reviews/{review.slug}/"
        term = KEY_TERMS.get(review.slug)
        source = " ".join(review.path.read_text(encoding="utf-8").split()).casefold()
        if term is None:
            problems.append(f"{review.slug}: no key term; add one to KEY_TERMS in tests/browser/support.py")
        elif term.casefold() not in source:  # the term must be the review's own words, or the test passes on luck
            problems.append(f"{review.slug}: the key term {term!r} is not in {review.path.name}; pick one that is")
        for kind, query in (("title", review.title), ("key term", term)):
            if not query:
                continue
            warnings.clear()
            found = _search(page, query)  # the results Material shows first (it loads more on scrolling)
            if target in found:
                ranks.append(f"{review.slug} by {kind}: #{found.index(target) + 1} of {len(found)}")
            else:
                why = [w for w in warnings if w.startswith("Invalid query")][-1:]  # lunr could not parse the query
                problems.append(f"{review.slug}: the {kind} {query!r} finds {found[:5]} {' '.join(why)}".rstrip())
    print("\nsearch: " + "; ".join(ranks))
    assert problems == [], "\n".join(problems)
    assert net.problems() == {}
