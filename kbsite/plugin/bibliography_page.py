"""The bibliography page: every entry of ``bibliography.bib``, with the reviews that cite it.

The page's Markdown holds the marker ``<!-- kb:bibliography -->``; the plugin replaces it with the list.
"""

from __future__ import annotations

import textwrap

from kbsite.bibliography import Bibliography
from kbsite.citations import find_citations
from kbsite.reviews import Review

__all__ = ["MARKER", "bibliography_markdown", "citing_reviews"]

MARKER = "<!-- kb:bibliography -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def citing_reviews(reviews: list[Review]) -> dict[str, list[Review]]:
    """For each bib key, the reviews that cite it or review it."""
    out: dict[str, list[Review]] = {}
    for review in reviews:
        keys = {review.bibkey} | {k for c in find_citations(review.text) for k in c.keys}
        for key in keys:
            out.setdefault(key, []).append(review)
    return out


def bibliography_markdown(bib: Bibliography, cited_by: dict[str, list[Review]]) -> str:
    """Every entry, sorted by first author and year: an anchored heading, the reference, back-links, BibTeX."""
    parts = []
    for ref in bib.sorted():
        reviews = cited_by.get(ref.key, [])
        back = ", ".join(f"[{r.title}](reviews/{r.slug}.md)" for r in reviews) or "not cited by a review yet"
        bibtex = textwrap.indent(f"```bibtex\n{ref.bibtex}\n```", "    ")
        parts.append(
            f"### {_cell(ref.authors_short)} ({bib.year_label(ref.key)}) {{#{ref.key}}}\n\n"
            f"{ref.formatted_html}\n\n"
            f"Cited in: {back}.\n\n"
            f'??? quote "BibTeX `{ref.key}`"\n\n{bibtex}\n'
        )
    return "\n".join(parts)
