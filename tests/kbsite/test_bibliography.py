"""Tests of kbsite.bibtex (the one BibTeX reader) and kbsite.bibliography (formatting), on the real file and on
broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybtex.database import parse_file

from kbsite.bibliography import Bibliography
from kbsite.bibtex import parse_bibtex, read_bibtex

ROOT = Path(__file__).resolve().parents[2]
PAPERS = [
    "peters2018elmo",
    "radford2018gpt",
    "liu2019roberta",
    "clark2020electra",
    "roberts2018musicvae",
    "rendle2010fm",
]


@pytest.fixture(scope="module")
def bib() -> Bibliography:
    return Bibliography.read(ROOT / "bibliography.bib")


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


def test_reader_agrees_with_pybtex_on_the_real_file() -> None:
    """Every field of every entry as pybtex's own parser reads it (people joined back with 'and')."""
    ours = read_bibtex(ROOT / "bibliography.bib")
    assert ours.problems == []
    theirs = parse_file(str(ROOT / "bibliography.bib"), bib_format="bibtex").entries
    assert [e.key for e in ours.entries] == list(theirs)
    for entry in ours.entries:
        expected = {name.lower(): value for name, value in theirs[entry.key].fields.items()}
        for role, people in theirs[entry.key].persons.items():
            expected[role.lower()] = " and ".join(str(p) for p in people)
        assert entry.fields == expected, entry.key
        assert entry.type == theirs[entry.key].type.lower()


def test_reader_keeps_source_text_and_line() -> None:
    text = (
        "% a comment\n@comment{ignored}\n\n"
        "@misc{doe2020x,\n  title = {The {BERT} paper},\n  year = 2020,\n  month = jun\n}\n"
    )
    bib = parse_bibtex(text, "x.bib")
    (entry,) = bib.entries
    assert bib.problems == [] and entry.line == 4
    assert entry.source == text[text.index("@misc") : text.rindex("}") + 1]
    assert entry.fields == {"title": "The {BERT} paper", "year": "2020", "month": "June"}


def test_reader_handles_quotes_concatenation_and_parentheses() -> None:
    bib = parse_bibtex('@article(a2020x, title = "A " # {B} # "C", journal = {J}, year = {2020})', "x.bib")
    assert bib.problems == [] and bib.entries[0].fields["title"] == "A BC"


def test_missing_file(tmp_path: Path) -> None:
    bib = read_bibtex(tmp_path / "nothing.bib")
    assert [str(p) for p in bib.problems] == ["bibliography.bib:1: bibliography.bib is missing — restore it from main"]


def test_unclosed_brace_names_the_line(tmp_path: Path) -> None:
    bib = parse_bibtex("@misc{a2020x, year = {2020}}\n\n@article{x, title = {Unclosed, year = 2020\n", "bad.bib")
    assert [str(p) for p in bib.problems] == ["bad.bib:3: 2 unclosed '{' from this line on — close the entry's braces"]
    assert bib.entries == []


def test_syntax_error_is_reported_and_later_entries_still_read() -> None:
    bib = parse_bibtex("@misc{a2020x, title {A}}\n@misc{b2020y, title = {B}, year = {2020}}\n", "bad.bib")
    assert [(p.line, p.message) for p in bib.problems] == [(1, "entry 'a2020x': expected 'name = value'")]
    assert [e.key for e in bib.entries] == ["b2020y"]


def test_duplicate_key_is_a_problem_with_both_lines() -> None:
    bib = parse_bibtex("@misc{a2020x, title={A}, year={2020}}\n@misc{A2020X, title={B}, year={2020}}\n", "dup.bib")
    assert [str(p) for p in bib.problems] == [
        "dup.bib:2: duplicate key 'A2020X' (first defined on line 1) — remove one entry or rename it"
    ]
    assert [e.fields["title"] for e in bib.entries] == ["A"]
