"""Tests of kbsite.citations: the citation syntax, code is never read, errors name file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kbsite.bibliography import Bibliography
from kbsite.citations import find_citations, mask_code, render_citations

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bib() -> Bibliography:
    return Bibliography.read(ROOT / "bibliography.bib")


def test_parenthetical_citation_links_to_reference(bib: Bibliography) -> None:
    page = render_citations("FMs [@rendle2010fm] work.", bib, "p.md")
    assert '(<a class="kb-cite" href="#ref-rendle2010fm">Rendle, 2010</a>)' in page.markdown
    assert '<li id="ref-rendle2010fm"' in page.markdown
    assert page.keys == ["rendle2010fm"] and page.problems == []


def test_several_keys_in_one_citation(bib: Bibliography) -> None:
    page = render_citations("See [@clark2020electra; @rendle2010fm].", bib, "p.md")
    assert re.search(r"\(<a [^>]*>Clark et al\., 2020</a>; <a [^>]*>Rendle, 2010</a>\)", page.markdown)
    assert page.keys == ["clark2020electra", "rendle2010fm"]


def test_locator_suppressed_author_and_narrative(bib: Bibliography) -> None:
    md = "A [@rendle2010fm, §3]. B [-@rendle2010fm]. As @peters2018elmo showed."
    out = render_citations(md, bib, "p.md").markdown
    assert ">Rendle, 2010</a>, §3)" in out
    assert '(<a class="kb-cite" href="#ref-rendle2010fm">2010</a>)' in out
    assert ">Peters et al. (2018)</a> showed" in out


def test_reference_list_goes_under_existing_heading_sorted(bib: Bibliography) -> None:
    md = "Text [@rendle2010fm] and [@clark2020electra].\n\n## References\n\nTrailing note.\n"
    out = render_citations(md, bib, "p.md").markdown
    assert out.count("## References") == 1
    listing = out[out.index("## References") :]
    assert listing.index("ref-clark2020electra") < listing.index("ref-rendle2010fm")  # Clark before Rendle
    assert listing.index("ref-rendle2010fm") < listing.index("Trailing note.")


def test_reference_heading_is_added_when_missing(bib: Bibliography) -> None:
    out = render_citations("Only [@rendle2010fm].", bib, "p.md").markdown
    assert out.rstrip().endswith("</ul>") and "\n## References\n" in out


def test_page_without_citations_is_unchanged(bib: Bibliography) -> None:
    md = "No citations here, not even an e-mail like someone@example2020.org.\n"
    assert render_citations(md, bib, "p.md").markdown == md


def test_code_is_never_read_as_citation(bib: Bibliography) -> None:
    md = (
        "Decorate with `@torch.no_grad()` or `[@nokey2020x]`.\n\n"
        "```python\n@torch.no_grad()\ndef f():  # [@missing2020key] @missing2021key\n    pass\n```\n\n"
        "~~~\n[@alsomissing2020x]\n~~~\n\n"
        "<!-- [@commented2020out] -->\n"
    )
    page = render_citations(md, bib, "p.md")
    assert page.problems == [] and page.keys == []
    assert page.markdown == md


def test_markdown_link_with_at_sign_is_not_a_citation(bib: Bibliography) -> None:
    assert find_citations("[@rendle2010fm](https://example.org) and x@y2020z") == []


def test_unknown_key_reports_file_and_line(bib: Bibliography) -> None:
    md = "line one\nline two [@nobody1999ghost; @rendle2010fm]\n"
    page = render_citations(md, bib, "docs/reviews/x.md", first_line=5)
    assert len(page.problems) == 1
    assert str(page.problems[0]).startswith("docs/reviews/x.md:6: unknown citation key 'nobody1999ghost'")
    assert "bibliography.bib" in page.problems[0].hint


def test_bare_unknown_key_with_year_is_an_error_but_plain_handles_are_not(bib: Bibliography) -> None:
    page = render_citations("Ask @someone on the forum. Cite @ghost2020paper.", bib, "p.md")
    assert [(p.message, p.hint) for p in page.problems] == [
        ("unknown citation key 'ghost2020paper'", "add an entry with this key to bibliography.bib or correct the key")
    ]


def test_mask_code_keeps_length_and_lines() -> None:
    md = "a `b` c\n```\ncode\n```\nd"
    masked = mask_code(md)
    assert len(masked) == len(md) and masked.count("\n") == md.count("\n")
    assert "code" not in masked and masked.startswith("a     c")


def test_keys_with_colon_and_dot(tmp_path: Path) -> None:
    path = tmp_path / "b.bib"
    path.write_text("@misc{doe:2020.x, author = {Doe, Jane}, title = {T}, year = {2020}}\n", encoding="utf-8")
    page = render_citations("See [@doe:2020.x].", Bibliography.read(path), "p.md")
    assert ">Doe, 2020</a>" in page.markdown and page.problems == []


def test_same_author_and_year_get_letters(tmp_path: Path) -> None:
    path = tmp_path / "b.bib"
    path.write_text(
        "@misc{doe2020b, author = {Doe, Jane}, title = {Beta}, year = {2020}}\n"
        "@misc{doe2020a, author = {Doe, Jane}, title = {Alpha}, year = {2020}}\n",
        encoding="utf-8",
    )
    out = render_citations("[@doe2020a; @doe2020b]", Bibliography.read(path), "p.md").markdown
    assert ">Doe, 2020a</a>; <a" in out and ">Doe, 2020b</a>)" in out
