"""Format what the site shows of each bibliography entry, with pybtex.

One job: turn the entries :mod:`kbsite.bibtex` read into author-year labels ("Rendle, 2010"), formatted reference
HTML, and the entry's own BibTeX text. Finding citations in Markdown lives in :mod:`kbsite.citations`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pybtex.bibtex.utils import split_name_list
from pybtex.database import Entry, Person
from pybtex.plugin import find_plugin
from pybtex.richtext import Text

from kbsite.bibtex import BibEntry, BibFile, read_bibtex
from kbsite.problems import Problem

__all__ = ["Bibliography", "Reference"]

_STYLE = find_plugin("pybtex.style.formatting", "plain")()
_HTML = find_plugin("pybtex.backends", "html")()


def _plain(latex: str) -> str:
    """LaTeX field text as plain Unicode: braces dropped, accents decoded."""
    return str(Text.from_latex(latex)).strip()


@dataclass(frozen=True)
class Reference:
    """One bibliography entry, with everything the site renders of it."""

    key: str
    entry: Entry
    bibtex: str

    @cached_property
    def surnames(self) -> list[str]:
        people = self.entry.persons.get("author") or self.entry.persons.get("editor") or []
        names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if names:
            return names
        # Reports and web pages sometimes have only an institution.
        return [_plain(self.entry.fields.get("institution", self.entry.fields.get("organization", self.key)))]

    @cached_property
    def authors_full(self) -> str:
        """ "Matthew E. Peters, Mark Neumann and Luke Zettlemoyer": every author, first names first."""
        people = self.entry.persons.get("author") or self.entry.persons.get("editor") or []
        names = [_plain(" ".join(p.first_names + p.middle_names + p.prelast_names + p.last_names)) for p in people]
        if not names:
            return self.surnames[0]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    @cached_property
    def year(self) -> str:
        return _plain(self.entry.fields.get("year", "n.d."))

    @property
    def authors_short(self) -> str:
        """ "Rendle", "Peters and Neumann", or "Peters et al."."""
        names = self.surnames
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    @cached_property
    def title(self) -> str:
        return _plain(self.entry.fields.get("title", ""))

    @cached_property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.surnames[0].casefold(), self.year, self.title.casefold())

    @cached_property
    def formatted_html(self) -> str:
        """The full reference, formatted by pybtex's ``plain`` style, as HTML."""
        formatted = _STYLE.format_entry(self.key, self.entry)
        return formatted.text.render(_HTML)

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, URL) pairs for DOI, arXiv and the entry's URL, in that order, without duplicates."""
        fields = self.entry.fields
        out: list[tuple[str, str]] = []
        if "doi" in fields:
            out.append(("DOI", f"https://doi.org/{fields['doi']}"))
        if fields.get("archiveprefix", "").lower() == "arxiv" and "eprint" in fields:
            out.append(("arXiv", f"https://arxiv.org/abs/{fields['eprint']}"))
        if "url" in fields and all(fields["url"] != url for _, url in out):
            out.append(("URL", fields["url"]))
        return out


def _pybtex_entry(entry: BibEntry) -> Entry:
    """The entry as pybtex's formatter wants it: people parsed into names, the other fields as they are."""
    people = {
        role: [Person(name) for name in split_name_list(entry.fields[role])]
        for role in ("author", "editor")
        if role in entry.fields
    }
    fields = {name: value for name, value in entry.fields.items() if name not in people}
    return Entry(entry.type, fields=fields, persons=people)


class Bibliography:
    """All entries of one ``.bib`` file, by key, with the problems met reading it."""

    def __init__(self, bib: BibFile, path: Path | None = None) -> None:
        self.path = path
        self.problems: list[Problem] = list(bib.problems)
        self.references: dict[str, Reference] = {
            e.key: Reference(key=e.key, entry=_pybtex_entry(e), bibtex=e.source) for e in bib.entries
        }
        self._labels = self._disambiguate()

    @classmethod
    def read(cls, path: Path, name: str = "bibliography.bib") -> Bibliography:
        return cls(read_bibtex(path, name), path)

    def __contains__(self, key: object) -> bool:
        return key in self.references

    def __getitem__(self, key: str) -> Reference:
        return self.references[key]

    def sorted(self) -> list[Reference]:
        """Every entry, by first author's surname, then year, then title."""
        return sorted(self.references.values(), key=lambda r: r.sort_key)

    def year_label(self, key: str) -> str:
        """The year with a letter when one author-year pair names two entries ("2018a")."""
        return self._labels[key]

    def label(self, key: str) -> str:
        """ "Rendle, 2010"."""
        return f"{self.references[key].authors_short}, {self.year_label(key)}"

    def _disambiguate(self) -> dict[str, str]:
        groups: dict[tuple[str, str], list[Reference]] = {}
        for ref in self.sorted():
            groups.setdefault((ref.authors_short, ref.year), []).append(ref)
        labels: dict[str, str] = {}
        for refs in groups.values():
            for i, ref in enumerate(refs):
                labels[ref.key] = ref.year + (chr(ord("a") + i) if len(refs) > 1 else "")
        return labels

    def reference_html(self, key: str, anchor: str) -> str:
        """One ``<li>`` of a reference list, with an ``id`` a citation link can land on."""
        ref = self.references[key]
        # pybtex's plain style already prints the URL and DOI; add only what it left out (arXiv).
        links = " ".join(
            f'<a href="{html.escape(url, quote=True)}">{label}</a>'
            for label, url in ref.links
            if html.escape(url, quote=True) not in ref.formatted_html
        )
        return (
            f'<li id="{anchor}" class="kb-reference">{ref.formatted_html}'
            + (f' <span class="kb-reference-links">{links}</span>' if links else "")
            + "</li>"
        )
