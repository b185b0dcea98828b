"""Lists derived from the reviews' front matter: the reviews index and each review's related reviews.

The reviews index page holds the marker ``<!-- kb:reviews -->``; a review's "## Related reviews" section receives
the reviews its front matter relates it to, in either direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbsite.bibliography import Bibliography
from kbsite.reviews import Review

__all__ = ["MARKER", "Related", "add_related_reviews", "related_reviews", "reviews_table"]

MARKER = "<!-- kb:reviews -->"
_RELATED = re.compile(r"^## +Related reviews\s*$", re.MULTILINE)
_LINKED_REVIEW = re.compile(r"\]\(([\w-]+)\.md[)#]")


@dataclass(frozen=True)
class Related:
    """One entry of a review's related list: the other review and how the two relate."""

    slug: str
    title: str
    relation: str
    incoming: bool  # True when the other review's front matter names this one

    def markdown(self) -> str:
        if self.incoming:
            return f"- [{self.title}]({self.slug}.md) names this review: {self.relation}."
        return f"- [{self.title}]({self.slug}.md): {self.relation}."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def related_reviews(reviews: list[Review]) -> dict[str, list[Related]]:
    """For each review's slug, the reviews related to it by front matter, its own relations first.

    A review that names its counterpart itself does not repeat the counterpart's view of it; slugs that name no
    review are left out (the content checker reports them).
    """
    by_slug = {r.slug: r for r in reviews}
    outgoing: dict[str, list[Related]] = {r.slug: [] for r in reviews}
    incoming: dict[str, list[Related]] = {r.slug: [] for r in reviews}
    for review in reviews:
        for rel in review.related:
            other = by_slug.get(rel["slug"])
            if other is None:
                continue
            outgoing[review.slug].append(Related(other.slug, other.title, rel["relation"], False))
            incoming[other.slug].append(Related(review.slug, review.title, rel["relation"], True))
    result = {}
    for review in reviews:
        named = {rel["slug"] for rel in review.related}
        result[review.slug] = outgoing[review.slug] + [r for r in incoming[review.slug] if r.slug not in named]
    return result


def add_related_reviews(markdown: str, related: list[Related]) -> str:
    """Put the related list right under the page's "## Related reviews" heading.

    Reviews the section's own text already links to are left out, so hand-written context is kept and nothing
    is listed twice.
    """
    match = _RELATED.search(markdown)
    if not related or match is None:
        return markdown
    following = re.search(r"^## ", markdown[match.end() :], re.MULTILINE)
    section = markdown[match.end() : match.end() + following.start()] if following else markdown[match.end() :]
    linked = set(_LINKED_REVIEW.findall(section))
    lines = [r.markdown() for r in related if r.slug not in linked]
    if not lines:
        return markdown
    return f"{markdown[: match.end()]}\n\n" + "\n".join(lines) + f"\n{markdown[match.end() :]}"


def reviews_table(reviews: list[Review], bib: Bibliography) -> str:
    """The reviews index as a Markdown table (links relative to ``reviews/index.md``).

    The table lists every review and needs no JavaScript; ``assets/javascripts/reviews-filter.js`` adds filters
    by topic, tag, venue and year and a sort order on top of it, reading the cells. A module name may wrap only
    after ``snippets.`` (``<wbr>``, which copying leaves out), never inside a word (``kb.css``).
    """
    rows = ["| Review | Authors | Year | Venue | Topic | Tags | Snippet |", "|---|---|---|---|---|---|---|"]
    for r in reviews:
        authors = bib[r.bibkey].authors_short if r.bibkey in bib else ""
        rows.append(
            f"| [{_cell(r.title)}]({r.slug}.md) | {_cell(authors)} | {r.meta.get('year', '')} | "
            f"{_cell(str(r.meta.get('venue', '')))} | {_cell(r.topic)} | {_cell(', '.join(r.tags))} | "
            f"[<code>snippets.<wbr>{r.module}</code>](../api/{r.module}.md) |"
        )
    return '<div class="kb-reviews-index" markdown>\n\n' + "\n".join(rows) + "\n\n</div>"
