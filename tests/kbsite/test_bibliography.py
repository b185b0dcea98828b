"""Tests of kbsite.bibliography on the real bibliography.bib and on broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.bibliography import Bibliography, BibliographyError

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ["peters2018elmo", "radford2018gpt", "liu2019roberta", "clark2020electra", "roberts2018musicvae", "rendle2010fm"]


@pytest.fixture(scope="module")
def bib() -> Bibliography:
    return Bibliography(ROOT / "bibliography.bib")


@pytest.mark.parametrize("key", PAPERS)
def test_every_reviewed_paper_has_an_entry(bib: Bibliography, key: str) -> None:
    ref = bib[key]
    assert ref.title and ref.year.isdigit() and ref.surnames
    assert ref.bibtex.startswith("@") and key in ref.bibtex.splitlines()[0]


def test_labels(bib: Bibliography) -> None:
    assert bib.label("rendle2010fm") == "Rendle, 2010"
    assert bib.label("rendle2010pitf") == "Rendle and Schmidt-Thieme, 2010"
    assert bib.label("clark2020electra") == "Clark et al., 2020"
    assert bib["peters2018elmo"].authors_full.startswith("Matthew E. Peters, Mark Neumann,")


def test_sorted_by_first_author_then_year(bib: Bibliography) -> None:
    order = [(r.surnames[0], r.year) for r in bib.sorted()]
    assert order == sorted(order, key=lambda p: (p[0].casefold(), p[1]))


def test_links_include_doi_and_arxiv(bib: Bibliography) -> None:
    assert ("DOI", "https://doi.org/10.18653/v1/N18-1202") in bib["peters2018elmo"].links
    assert ("arXiv", "https://arxiv.org/abs/1802.05365") in bib["peters2018elmo"].links
    html = bib.reference_html("peters2018elmo", "ref-peters2018elmo")
    assert html.startswith('<li id="ref-peters2018elmo"') and "arxiv.org/abs/1802.05365" in html


def test_protected_capitals_survive_formatting(bib: Bibliography) -> None:
    assert "ELECTRA" in bib["clark2020electra"].formatted_html


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BibliographyError, match="nothing.bib: file not found"):
        Bibliography(tmp_path / "nothing.bib")


def test_malformed_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.bib"
    path.write_text("@article{x, title = {Unclosed, year = 2020\n", encoding="utf-8")
    with pytest.raises(BibliographyError, match="bad.bib"):
        Bibliography(path)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.bib"
    path.write_text("@misc{a2020x, title={A}, year={2020}}\n@misc{a2020x, title={B}, year={2020}}\n", encoding="utf-8")
    with pytest.raises(BibliographyError, match="dup.bib"):
        Bibliography(path)
