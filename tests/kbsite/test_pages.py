"""Tests of the plugin's page jobs: paper card, cite box, related reviews, reviews index, bibliography page."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.bibliography import Bibliography
from kbsite.plugin.bibliography_page import bibliography_markdown, citing_reviews
from kbsite.plugin.indexes import Related, add_related_reviews, related_reviews, reviews_table
from kbsite.plugin.paper_card import add_paper_card
from kbsite.reviews import FrontMatter, Review

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bib() -> Bibliography:
    return Bibliography.read(ROOT / "bibliography.bib")


def _review(tmp_path: Path, slug: str, meta: dict, body: str = "") -> Review:
    path = tmp_path / f"{slug}.md"
    path.write_text(body, encoding="utf-8")
    return Review(slug, path, f"docs/reviews/{slug}.md", body, FrontMatter(meta, 0, True))


def _listing(related: list[Related]) -> str:
    return "\n".join(r.markdown() for r in related)


def test_paper_card_and_cite_box(bib: Bibliography, tmp_path: Path) -> None:
    meta = {
        "bibkey": "rendle2010fm",
        "venue": "ICDM",
        "year": 2010,
        "links": {"code": "https://github.com/srendle/libfm"},
    }
    out, problems = add_paper_card("# FM\n\nBody.\n", _review(tmp_path, "fm", meta), bib, "http://x/reviews/fm/")
    assert problems == []
    assert out.startswith('# FM\n\n!!! abstract "The paper"')
    assert "Steffen Rendle. *ICDM* 2010." in out and "[Reference code](https://github.com/srendle/libfm)" in out
    assert "[`snippets.fm`](../api/fm.md)" in out and "(../bibliography.md#rendle2010fm)" in out
    assert '??? quote "Cite"' in out and "@inproceedings{rendle2010fm," in out
    assert "@misc{kbreview-fm," in out and "\\url{http://x/reviews/fm/}" in out
    assert out.rstrip().endswith("Body.")


def test_paper_card_reports_an_unknown_key_with_its_line(bib: Bibliography, tmp_path: Path) -> None:
    review = _review(tmp_path, "x", {"bibkey": "nobody2020x"}, "---\ntitle: X\nbibkey: nobody2020x\n---\n# X\n")
    out, problems = add_paper_card("# X\n", review, bib, "")
    assert out == "# X\n"
    assert [str(p) for p in problems] == [
        "docs/reviews/x.md:3: front matter 'bibkey: nobody2020x' is not a key of bibliography.bib — add the entry "
        "or fix the key"
    ]


def test_related_reviews_in_both_directions(tmp_path: Path) -> None:
    a = _review(
        tmp_path, "electra", {"title": "ELECTRA", "related": [{"slug": "roberta", "relation": "compared with"}]}
    )
    b = _review(tmp_path, "roberta", {"title": "RoBERTa"})
    c = _review(tmp_path, "fm", {"title": "FM"})
    related = related_reviews([a, b, c])
    page = add_related_reviews("## Related reviews\n\nHand-written.\n", related["roberta"])
    assert "- [ELECTRA](electra.md) names this review: compared with." in page
    assert page.index("ELECTRA") < page.index("Hand-written.")
    assert _listing(related["electra"]) == "- [RoBERTa](roberta.md): compared with."
    assert add_related_reviews("## Related reviews\n", related["fm"]) == "## Related reviews\n"


def test_reviews_the_section_already_links_are_not_listed_again() -> None:
    related = [Related("electra", "ELECTRA", "compared with", False), Related("gpt1", "GPT-1", "baseline", True)]
    page = add_related_reviews("## Related reviews\n\nSee [ELECTRA](electra.md) for more.\n\n## References\n", related)
    assert "- [GPT-1](gpt1.md) names this review" in page and "- [ELECTRA]" not in page
    everything_linked = "## Related reviews\n\n[E](electra.md), [G](gpt1.md#x).\n"
    assert add_related_reviews(everything_linked, related) == everything_linked


def test_mutual_relations_are_not_repeated(tmp_path: Path) -> None:
    a = _review(tmp_path, "elmo", {"title": "ELMo", "related": [{"slug": "gpt1", "relation": "fine-tuning instead"}]})
    b = _review(tmp_path, "gpt1", {"title": "GPT-1", "related": [{"slug": "elmo", "relation": "features instead"}]})
    related = related_reviews([a, b])
    assert {slug: _listing(r) for slug, r in related.items()} == {
        "elmo": "- [GPT-1](gpt1.md): fine-tuning instead.",
        "gpt1": "- [ELMo](elmo.md): features instead.",
    }


def test_reviews_table_and_citing_reviews(tmp_path: Path, bib: Bibliography) -> None:
    meta = {
        "title": "Factorization Machines",
        "bibkey": "rendle2010fm",
        "year": 2010,
        "venue": "ICDM",
        "tags": ["factorization"],
    }
    fm = _review(tmp_path, "fm", meta, "Cites [@koren2008svdpp].")
    table = reviews_table([fm], bib)
    assert (
        "| [Factorization Machines](fm.md) | Rendle | 2010 | ICDM |  | factorization "
        "| [<code>snippets.<wbr>fm</code>](../api/fm.md) |" in table
    )
    cited = citing_reviews([fm])
    assert cited["rendle2010fm"] == [fm] and cited["koren2008svdpp"] == [fm]


def test_bibliography_page_sorted_with_anchors_backlinks_and_bibtex(tmp_path: Path, bib: Bibliography) -> None:
    fm = _review(tmp_path, "fm", {"title": "Factorization Machines", "bibkey": "rendle2010fm"})
    page = bibliography_markdown(bib, {"rendle2010fm": [fm]})
    anchors = [line.rsplit("{#", 1)[1].rstrip("}") for line in page.splitlines() if line.startswith("### ")]
    assert anchors == [r.key for r in bib.sorted()]
    section = page[page.index("{#rendle2010fm}") :]
    assert "Cited in: [Factorization Machines](reviews/fm.md)." in section
    assert "```bibtex\n    @inproceedings{rendle2010fm," in section
    assert "not cited by a review yet" in page[page.index("{#vaswani2017attention}") :]
