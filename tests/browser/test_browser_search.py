"""The site's search (Material's worker over search/search_index.json) finds a review by its title and by each of its
key terms (front matter ``key_terms``). Every review must name key terms that occur in its text; the queries run in
the browser on the fixed sample of reviews of :func:`tests.browser.support.sampled_reviews`. One page load serves
every query: each query is typed into the same search box."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from kbsite.reviews import Review, field_line, read_front_matter
from tests.browser.support import NetLog, Served, reviews, sampled_reviews
from tests.helpers import ROOT

KEY_TERMS_FIELD = "key_terms"
KEY_TERMS_HINT = "a list of one to three phrases of the review's own text that site search must find it by"


def _words(text: str) -> str:
    """Lower-cased words separated by one space, a space either side: punctuation, hyphens and markup do not split a
    phrase for search (the content checker compares the same way)."""
    return " " + re.sub(r"[\W_]+", " ", text.casefold()).strip() + " "


def key_term_problems(review: Review) -> list[str]:
    """Why the review's ``key_terms`` cannot serve the search test; each line names the file and the field."""
    terms = review.meta.get(KEY_TERMS_FIELD)
    if terms is None:
        add = f"add {KEY_TERMS_FIELD}: [...], {KEY_TERMS_HINT}"
        return [f"{review.rel}:1: front matter has no '{KEY_TERMS_FIELD}' — {add}"]
    where = f"{review.rel}:{field_line(review.text, KEY_TERMS_FIELD)}: front matter '{KEY_TERMS_FIELD}'"
    if not (isinstance(terms, list) and 1 <= len(terms) <= 3 and all(isinstance(t, str) and t.strip() for t in terms)):
        return [f"{where} is {terms!r} — expected {KEY_TERMS_HINT}"]
    body = _words("\n".join(review.text.splitlines()[review.front.lines:]))  # the front matter holds the terms
    # The terms must be the review's own words, or the search test passes on luck.
    return [f"{where}: {t!r} does not occur in the review's text — pick a phrase that does"
            for t in terms if _words(t).rstrip() not in body]


@pytest.mark.parametrize("review", reviews(), ids=lambda r: r.slug)
def test_review_names_key_terms_of_its_own_text(review: Review) -> None:
    assert key_term_problems(review) == []


@pytest.mark.parametrize(("field", "problem"), [
    ("", "docs/reviews/demo.md:1: front matter has no 'key_terms' — add key_terms: [...]"),
    ("key_terms: []\n", "docs/reviews/demo.md:3: front matter 'key_terms' is [] — expected a list of one to three"),
    ("key_terms: [a, b, c, d]\n", "docs/reviews/demo.md:3: front matter 'key_terms' is ['a', 'b', 'c', 'd']"),
    ("key_terms: [quantum annealing]\n", "docs/reviews/demo.md:3: front matter 'key_terms': 'quantum annealing' does"),
])
def test_missing_or_foreign_key_terms_name_the_file_and_the_field(field: str, problem: str) -> None:
    text = f"---\ntitle: Demo\n{field}---\n\n# Demo\n\nA pairwise   interaction of a and b, c and d.\n"
    review = Review("demo", ROOT / "docs/reviews/demo.md", "docs/reviews/demo.md", text,
                    read_front_matter(text, "docs/reviews/demo.md"))
    problems = key_term_problems(review)
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
        ".md-search-result__item > a.md-search-result__link", "links => links.map(a => a.href)")
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
