"""The paper card of a review: a box naming the paper and a "Cite" box with two BibTeX entries.

Both go right under the review's ``# Title``. The card's facts come from ``bibliography.bib`` and the review's
front matter; nothing in it is written by hand.
"""

from __future__ import annotations

import datetime
import re
import textwrap

from kbsite.bibliography import Bibliography
from kbsite.problems import Problem
from kbsite.reviews import Review, field_line

__all__ = ["SITE_AUTHOR", "add_paper_card", "review_bibtex"]

SITE_AUTHOR = "Paper Reviews with Tested Code contributors"
_H1 = re.compile(r"^# .*$", re.MULTILINE)


def review_bibtex(review: Review, paper_title: str, url: str) -> str:
    """A BibTeX entry for citing the review itself."""
    year = str(review.meta.get("reviewed", datetime.date.today().isoformat()))[:4]
    return (
        f"@misc{{kbreview-{review.slug},\n"
        f"  title        = {{Review of ``{paper_title}'' with tested {{PyTorch}} snippets}},\n"
        f"  author       = {{{{{SITE_AUTHOR}}}}},\n"
        f"  year         = {{{year}}},\n"
        f"  howpublished = {{\\url{{{url}}}}},\n"
        f"  note         = {{Reviews {review.bibkey}}}\n"
        "}"
    )


def add_paper_card(markdown: str, review: Review, bib: Bibliography, url: str) -> tuple[str, list[Problem]]:
    """The review's Markdown with the paper card and the cite box inserted under its H1."""
    key = review.bibkey
    if key not in bib:
        return markdown, [
            Problem(
                review.rel,
                field_line(review.text, "bibkey"),
                f"front matter 'bibkey: {key}' is not a key of bibliography.bib",
                "add the entry or fix the key",
            )
        ]
    ref = bib[key]
    links = " · ".join(f"[{label}]({link})" for label, link in ref.links)
    code = (review.meta.get("links") or {}).get("code")
    body = (
        f"**{ref.title}**  \n{ref.authors_full}. *{review.meta.get('venue', '')}* {review.meta.get('year', ref.year)}."
        + (f"  \n{links}" if links else "")
        + (f" · [Reference code]({code})" if code else "")
        + f"  \nSnippet module: [`snippets.{review.module}`](../api/{review.module}.md) · In the bibliography: "
        + f"[`{key}`](../bibliography.md#{key})"
    )
    card = '!!! abstract "The paper"\n\n' + textwrap.indent(body, "    ") + "\n"
    tabs = (
        '=== "The paper"\n\n' + textwrap.indent(f"```bibtex\n{ref.bibtex}\n```", "    ") + "\n\n"
        '=== "This review"\n\n' + textwrap.indent(f"```bibtex\n{review_bibtex(review, ref.title, url)}\n```", "    ")
    )
    cite = '??? quote "Cite"\n\n' + textwrap.indent(tabs, "    ") + "\n"
    match = _H1.search(markdown)
    if match is None:
        return card + "\n" + cite + "\n" + markdown, []
    return f"{markdown[: match.end()]}\n\n{card}\n{cite}\n{markdown[match.end() :]}", []
