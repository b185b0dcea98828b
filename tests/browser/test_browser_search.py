"""The site's search (Material's worker over search/search_index.json) finds a review by its title and by each of its
key terms (front matter ``key_terms``). Every review must name key terms that occur in its text; the queries run in
the browser on the fixed sample of reviews of :func:`tests.browser.support.sampled_reviews`. One page load serves
every query: each query is typed into the same search box."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from kbsite.checker import key_term_problems
from kbsite.reviews import Review, read_front_matter
from tests.browser.support import NetLog, Served, reviews, sampled_reviews
from tests.helpers import ROOT


@pytest.mark.parametrize("review", reviews(), ids=lambda r: r.slug)
def test_review_names_key_terms_of_its_own_text(review: Review) -> None:
    """The same rule as ``make check`` (kbsite.checker.key_term_problems): terms that the page contains."""
    assert [str(p) for p in key_term_problems(review)] == []


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("", "docs/reviews/demo.md:1: front matter lacks 'key_terms' — add key_terms:"),
        ("key_terms: []\n", "docs/reviews/demo.md:3: front matter 'key_terms' is [] — expected a list of one to three"),
        ("key_terms: [a, b, c, d]\n", "docs/reviews/demo.md:3: front matter 'key_terms' is ['a', 'b', 'c', 'd']"),
        ("key_terms: [quantum annealing]\n", "docs/reviews/demo.md:3: key term 'quantum annealing' does not occur"),
    ],
)
def test_missing_or_foreign_key_terms_name_the_file_and_the_field(field: str, problem: str) -> None:
    text = f"---\ntitle: Demo\n{field}---\n\n# Demo\n\nA pairwise   interaction of a and b, c and d.\n"
    review = Review(
        "demo",
        ROOT / "docs/reviews/demo.md",
        "docs/reviews/demo.md",
        text,
        read_front_matter(text, "docs/reviews/demo.md"),
    )
    problems = [str(p) for p in key_term_problems(review)]
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    ok = text.replace(field, "key_terms: [Pairwise interaction, a]\n") if field else text
    if field:
        assert key_term_problems(Review("demo", review.path, review.rel, ok, read_front_matter(ok, review.rel))) == []


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
        ".md-search-result__item > a.md-search-result__link", "links => links.map(a => a.href)"
    )
    return list(dict.fromkeys(urlsplit(h).path for h in hrefs))  # a page and its sections: one entry


def test_search_finds_sampled_reviews_by_title_and_key_terms(page: Page, net: NetLog, served: Served) -> None:
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(served(), wait_until="load")

    problems, ranks = [], []
    for review in sampled_reviews():
        target = f"/reviews/{review.slug}/"
        bad_terms = key_term_problems(review)
        problems += bad_terms
        queries = [("title", review.title)] + ([] if bad_terms else [("key term", t) for t in review.key_terms])
        for kind, query in queries:
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
