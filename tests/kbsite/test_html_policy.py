"""The build's HTML allowlist reads a page's tags through a fast path (each distinct tag text tokenized once); it
must find exactly the tags Python's HTML tokenizer finds, and fall back to the tokenizer on anything irregular."""

from __future__ import annotations

import pytest

from kbsite import html_policy
from tests.helpers import ROOT

CASES = [
    '<p class="x">a <em>b</em> <a href="../x/">c</a></p>\n<img src="a.png" alt="a > b">',
    '<a href="x"onclick="y">no space between attributes</a>',
    "<img src=x onerror=alert(1)//>",
    "<svg/onload=alert(1)>",
    '<p title="<b>">a tag-like text inside a value</p>',
    "<P CLASS=upper>\n\n<Table><TR><td colspan=2>x</td></TR></Table>",
    "text with a < b and x<3 and <!-- <b> in a comment --> and </p> stray",
    "<div\nclass='multi\nline'\n>x</div><br/><hr />",
]


@pytest.mark.parametrize("html", CASES)
def test_fast_path_finds_what_the_tokenizer_finds(html: str) -> None:
    expected = [(t.name, t.attrs, t.line) for t in html_policy._tags(html)]
    assert [(t.name, t.attrs, t.line) for t in html_policy._page_tags(html)] == expected


def test_fast_path_reports_what_the_tokenizer_reports() -> None:
    page = '<p>x</p>\n<a href="x"onclick="y">t</a>\n<img src="https://example.invalid/a.png">'
    problems = html_policy.html_problems(page, "docs/reviews/demo.md")
    messages = sorted(p.message for p in problems)
    assert messages == [
        '<img src="https://example.invalid/a.png"> loads a resource from another host',
        "attribute 'onclick' is not allowed on <a>",
    ]


def test_fast_path_agrees_on_the_reviews_markdown_rendered_as_html() -> None:
    """Every review as Python-Markdown renders it (the raw HTML it carries included)."""
    import markdown

    for review in sorted((ROOT / "docs" / "reviews").glob("*.md")):
        html = markdown.markdown(review.read_text(encoding="utf-8"), extensions=["tables", "md_in_html"])
        assert [(t.name, t.attrs, t.line) for t in html_policy._page_tags(html)] == [
            (t.name, t.attrs, t.line) for t in html_policy._tags(html)
        ], review.name
