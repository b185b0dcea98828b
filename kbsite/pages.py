"""Generated Markdown: the paper card of a review, the reviews index and the bibliography page.

Each is derived from front matter and ``bibliography.bib``; none is written by hand.
"""

from __future__ import annotations

import datetime
import logging
import re
import textwrap

from kbsite.bibliography import Bibliography
from kbsite.citations import find_citations
from kbsite.reviews import Review

__all__ = [
    "BIBLIOGRAPHY_MARKER",
    "REVIEWS_MARKER",
    "add_paper_card",
    "add_related_reviews",
    "related_listings",
    "review_bibtex",
    "bibliography_markdown",
    "citing_reviews",
    "reviews_table",
]

BIBLIOGRAPHY_MARKER = "<!-- kb:bibliography -->"
REVIEWS_MARKER = "<!-- kb:reviews -->"
SITE_AUTHOR = "Paper Reviews with Tested Code contributors"
_H1 = re.compile(r"^# .*$", re.MULTILINE)
_RELATED = re.compile(r"^## +Related reviews\s*$", re.MULTILINE)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def review_bibtex(slug: str, meta: dict, paper_title: str, url: str) -> str:
    """A BibTeX entry for citing the review itself."""
    year = str(meta.get("reviewed", datetime.date.today().isoformat()))[:4]
    return (
        f"@misc{{kbreview-{slug},\n"
        f"  title        = {{Review of ``{paper_title}'' with tested {{PyTorch}} snippets}},\n"
        f"  author       = {{{{{SITE_AUTHOR}}}}},\n"
        f"  year         = {{{year}}},\n"
        f"  howpublished = {{\\url{{{url}}}}},\n"
        f"  note         = {{Reviews {meta.get('bibkey', '')}}}\n"
        "}"
    )


def add_paper_card(markdown: str, meta: dict, bib: Bibliography, where: str, log: logging.Logger, url: str = "") -> str:
    """Insert, under the review's H1, a box naming the paper and a "Cite" box with both BibTeX entries."""
    key = str(meta.get("bibkey", ""))
    if key not in bib:
        log.warning(f"{where}:1: front matter 'bibkey: {key}' is not a key of bibliography.bib — add the entry or fix the key")
        return markdown
    ref = bib[key]
    slug = where.rsplit("/", 1)[-1].removesuffix(".md")
    links = " · ".join(f"[{label}]({url})" for label, url in ref.links)
    code = (meta.get("links") or {}).get("code")
    body = (
        f"**{ref.title}**  \n{ref.authors_full}. *{meta.get('venue', '')}* {meta.get('year', ref.year)}."
        + (f"  \n{links}" if links else "")
        + (f" · [Reference code]({code})" if code else "")
        + f"  \nSnippet module: [`snippets.{slug}`](../api/{slug}.md) · In the bibliography: "
        + f"[`{key}`](../bibliography.md#{key})"
    )
    card = '!!! abstract "The paper"\n\n' + textwrap.indent(body, "    ") + "\n"
    tabs = (
        '=== "The paper"\n\n' + textwrap.indent(f"```bibtex\n{ref.bibtex}\n```", "    ") + "\n\n"
        '=== "This review"\n\n' + textwrap.indent(f"```bibtex\n{review_bibtex(slug, meta, ref.title, url)}\n```", "    ")
    )
    cite = '??? quote "Cite"\n\n' + textwrap.indent(tabs, "    ") + "\n"
    match = _H1.search(markdown)
    if match is None:
        return card + "\n" + cite + "\n" + markdown
    return f"{markdown[: match.end()]}\n\n{card}\n{cite}\n{markdown[match.end():]}"


def related_listings(reviews: list[Review]) -> dict[str, str]:
    """For each review's slug, the Markdown list of reviews related to it by front matter, in either direction."""
    by_slug = {r.slug: r for r in reviews}
    outgoing: dict[str, list[str]] = {r.slug: [] for r in reviews}
    incoming: dict[str, list[str]] = {r.slug: [] for r in reviews}
    for review in reviews:
        named = set()
        for rel in review.meta.get("related") or []:
            other = by_slug.get(str(rel.get("slug")))
            if other is None:
                continue  # reported by the content checker
            named.add(other.slug)
            relation = rel.get("relation", "related")
            outgoing[review.slug].append(f"- [{other.title}]({other.slug}.md): {relation}.")
            incoming[other.slug].append(f"- [{review.title}]({review.slug}.md) names this review: {relation}.")
    # A review that names its counterpart itself does not repeat the counterpart's view of it.
    result = {}
    for review in reviews:
        mine = {str(rel.get("slug")) for rel in review.meta.get("related") or []}
        back = [line for line in incoming[review.slug] if line.split("](", 1)[1].split(".md)", 1)[0] not in mine]
        result[review.slug] = "\n".join(outgoing[review.slug] + back)
    return result


def add_related_reviews(markdown: str, listing: str) -> str:
    """Put the generated list right under the page's "## Related reviews" heading.

    Reviews the section's own text already links to are left out of the list, so hand-written context is
    kept and nothing is listed twice.
    """
    match = _RELATED.search(markdown)
    if not listing or match is None:
        return markdown
    following = re.search(r"^## ", markdown[match.end() :], re.MULTILINE)
    section = markdown[match.end() : match.end() + following.start()] if following else markdown[match.end() :]
    linked = set(re.findall(r"\]\(([\w-]+)\.md[)#]", section))
    lines = [line for line in listing.splitlines() if re.search(r"\]\(([\w-]+)\.md\)", line).group(1) not in linked]
    if not lines:
        return markdown
    return f"{markdown[: match.end()]}\n\n" + "\n".join(lines) + f"\n{markdown[match.end():]}"


def citing_reviews(reviews: list[Review]) -> dict[str, list[Review]]:
    """For each bib key, the reviews that cite it or review it."""
    out: dict[str, list[Review]] = {}
    for review in reviews:
        keys = {review.bibkey} | {k for c in find_citations(review.path.read_text(encoding="utf-8")) for k in c.keys}
        for key in keys:
            out.setdefault(key, []).append(review)
    return out


def reviews_table(reviews: list[Review], bib: Bibliography) -> str:
    """The reviews index as a Markdown table (links relative to ``reviews/index.md``)."""
    rows = ["| Review | Authors | Year | Venue | Tags | Snippet |", "|---|---|---|---|---|---|"]
    for r in reviews:
        authors = bib[r.bibkey].authors_short if r.bibkey in bib else ""
        tags = ", ".join(r.tags)
        rows.append(
            f"| [{_cell(r.title)}]({r.slug}.md) | {_cell(authors)} | {r.meta.get('year', '')} | "
            f"{_cell(str(r.meta.get('venue', '')))} | {_cell(tags)} | [`snippets.{r.slug}`](../api/{r.slug}.md) |"
        )
    return "\n".join(rows)


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
