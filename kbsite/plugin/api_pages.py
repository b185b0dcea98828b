"""The API page of each review's snippet module, generated during the build (no file in ``docs/api/``).

``api/<slug>.md`` holds one line, ``::: snippets.<slug>``, which mkdocstrings renders from the module's
docstrings. A review is three files: the review, the snippet module and its test.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, InclusionLevel

from kbsite.reviews import Review

__all__ = ["api_files", "api_uri"]


def api_uri(slug: str) -> str:
    return f"api/{slug}.md"


def api_files(reviews: list[Review], config: MkDocsConfig) -> list[File]:
    """One generated page per review; the navigation places them, so MkDocs need not find them in ``nav``."""
    return [
        File.generated(config, api_uri(r.slug), content=f"::: snippets.{r.slug}\n", inclusion=InclusionLevel.NOT_IN_NAV)
        for r in reviews
    ]
