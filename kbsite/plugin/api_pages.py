"""The API page of each snippet module the reviews name, generated during the build (no file in ``docs/api/``).

``api/<module>.md`` holds one line, ``::: snippets.<module>``, which mkdocstrings renders from the module's
docstrings. The module is the review's front-matter ``snippet``, which the checker requires to be
``snippets.<slug>``: a review is three files, the review, the snippet module and its test.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File

from kbsite.plugin.generated import generated_page
from kbsite.reviews import Review

__all__ = ["api_files", "api_modules", "api_uri"]


def api_uri(module: str) -> str:
    return f"api/{module}.md"


def api_modules(reviews: list[Review]) -> list[str]:
    """The snippet modules the reviews name, each once, sorted."""
    return sorted({r.module for r in reviews})


def api_files(reviews: list[Review], config: MkDocsConfig, root: Path) -> list[File]:
    """One generated page per module, rendered again by a dirty build only when the module changed."""
    return [
        generated_page(config, api_uri(m), f"::: snippets.{m}\n", [root / "snippets" / f"{m}.py"])
        for m in api_modules(reviews)
    ]
