"""The API page of each snippet module the reviews name, generated during the build (no file in ``docs/api/``).

``api/<module>.md`` holds one line, ``::: snippets.<module>``, which mkdocstrings renders from the module's
docstrings: signatures and documentation, no copy of the source. The source file itself is published at
``snippets/<module>.py`` (:func:`source_files`), and a line under the page's title links it and the reviews that
walk through it (:func:`add_source_note`). The module is the review's front-matter ``snippet``, which the checker
requires to be ``snippets.<slug>``: a review is three files, the review, the snippet module and its test.
"""

from __future__ import annotations

import html as html_module
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from kbsite.plugin.generated import generated_page
from kbsite.reviews import Review

__all__ = ["add_source_note", "api_files", "api_modules", "api_uri", "source_files", "source_uri"]


def api_uri(module: str) -> str:
    return f"api/{module}.md"


def source_uri(module: str) -> str:
    return f"snippets/{module}.py"


def api_modules(reviews: list[Review]) -> list[str]:
    """The snippet modules the reviews name, each once, sorted."""
    return sorted({r.module for r in reviews})


def add_source_note(html: str, module: str, reviews: list[Review], page_url: str) -> str:
    """Put a line under the API page's title (mkdocstrings' module heading, the first ``</h1>``) that links the
    module's source file and ``reviews``, the reviews that walk through it (the plugin groups them once per build)."""
    link = html_module.escape(get_relative_url(source_uri(module), page_url))
    walked = ", ".join(
        f'<a href="{html_module.escape(get_relative_url(f"reviews/{r.slug}/", page_url))}">'
        f"{html_module.escape(r.title)}</a>"
        for r in reviews
    )
    note = (
        f'<p class="kb-source-note">The whole module is <a href="{link}"><code>{source_uri(module)}</code></a>, '
        f"as tested by <code>tests/snippets/test_{module}.py</code>; {walked} walks through it piece by piece. "
        "This page documents its public names from their docstrings.</p>"
    )
    head, sep, rest = html.partition("</h1>")
    return head + sep + "\n" + note + rest if sep else note + html


def api_files(reviews: list[Review], config: MkDocsConfig, root: Path) -> list[File]:
    """One generated page per module, rendered again by a dirty build only when the module changed."""
    return [
        generated_page(config, api_uri(m), f"::: snippets.{m}\n", [root / "snippets" / f"{m}.py"])
        for m in api_modules(reviews)
    ]


def source_files(reviews: list[Review], config: MkDocsConfig, root: Path) -> list[File]:
    """Each module's source file, published as it is in the repository, for readers to download."""
    return [
        File.generated(config, source_uri(m), abs_src_path=str(root / "snippets" / f"{m}.py"))
        for m in api_modules(reviews)
    ]
