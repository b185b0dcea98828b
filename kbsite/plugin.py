"""The MkDocs plugin ``kb-citations``: wires citations, the bibliography and review indexes into the build.

It only connects MkDocs events to the functions that do the work:

* ``on_config``: loads ``bibliography.bib`` and adds every review and API page to the navigation, so a new
  review file needs no edit of ``mkdocs.yml``;
* ``on_files``: publishes ``bibliography.bib`` for download;
* ``on_page_markdown``: renders citations (:mod:`kbsite.citations`), fills the generated lists
  (``<!-- kb:bibliography -->``, ``<!-- kb:reviews -->``) and adds the paper card under a review's title;
* ``on_post_page``: typesets the page's math with the vendored KaTeX at build time (:mod:`kbsite.math`).

Problems are logged as warnings naming the file and line, so ``mkdocs build --strict`` fails on them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from kbsite import math as kb_math
from kbsite import pages
from kbsite.bibliography import Bibliography, BibliographyError
from kbsite.citations import render_citations
from kbsite.reviews import Review, ReviewError, load_reviews

log = logging.getLogger("mkdocs.plugins.kb_citations")


class CitationsConfig(Config):
    bibliography = config_options.Type(str, default="bibliography.bib")
    reviews_section = config_options.Type(str, default="Reviews")
    api_section = config_options.Type(str, default="Snippets API")


class CitationsPlugin(BasePlugin[CitationsConfig]):
    """Author-year citations from a BibTeX file, plus the generated parts of the site."""

    def on_config(self, config: Any) -> Any:
        root = Path(config.config_file_path).parent
        try:
            self.bib = Bibliography(root / self.config.bibliography)
            self.reviews: list[Review] = load_reviews(Path(config.docs_dir))
        except (BibliographyError, ReviewError) as exc:
            raise PluginError(str(exc)) from exc
        self.root = root
        self.review_by_uri = {f"reviews/{r.slug}.md": r for r in self.reviews}
        self.related = pages.related_listings(self.reviews)
        nav = config.nav or []
        reviews = [{r.title: f"reviews/{r.slug}.md"} for r in self.reviews]
        api_dir = Path(config.docs_dir) / "api"
        apis = [{f"snippets.{p.stem}": f"api/{p.name}"} for p in sorted(api_dir.glob("*.md")) if p.stem != "index"]
        for item in nav:
            if isinstance(item, dict):
                for title, children in item.items():
                    if title == self.config.reviews_section and isinstance(children, list):
                        children.extend(reviews)
                    elif title == self.config.api_section and isinstance(children, list):
                        children.extend(apis)
        return config

    def on_files(self, files: Files, config: Any) -> Files:
        """Publish ``bibliography.bib`` at the site root so readers can download it."""
        files.append(File.generated(config, "bibliography.bib", abs_src_path=str(self.bib.path)))
        return files

    def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        src = Path(page.file.abs_src_path) if page.file.abs_src_path else None
        where = str(src.relative_to(self.root)) if src and src.is_relative_to(self.root) else page.file.src_uri
        first_line = 1
        if src is not None and src.is_file():
            # MkDocs strips the front matter and the blank lines after it; find where the body starts.
            text = src.read_text(encoding="utf-8")
            if text.endswith(markdown):
                first_line = text.count("\n", 0, len(text) - len(markdown)) + 1
        # Citations first, while line numbers still match the source file.
        result = render_citations(markdown, self.bib, where, first_line)
        for error in result.errors:
            log.warning(error)
        markdown = result.markdown
        review = self.review_by_uri.get(page.file.src_uri)
        if review is not None:
            markdown = pages.add_paper_card(markdown, page.meta, self.bib, where, log, page.canonical_url or "")
            markdown = pages.add_related_reviews(markdown, self.related[review.slug])
        # The generated lists are built only for the page that asks for them.
        if pages.BIBLIOGRAPHY_MARKER in markdown:
            cited_by = pages.citing_reviews(self.reviews)
            markdown = markdown.replace(pages.BIBLIOGRAPHY_MARKER, pages.bibliography_markdown(self.bib, cited_by))
        if pages.REVIEWS_MARKER in markdown:
            markdown = markdown.replace(pages.REVIEWS_MARKER, pages.reviews_table(self.reviews, self.bib))
        return markdown

    def on_post_page(self, html: str, page: Any, config: Any) -> str:
        # After the search plugin has indexed the page (on_page_context): search keeps the TeX, not KaTeX's output.
        if not kb_math.has_math(html):
            return html
        src = Path(page.file.abs_src_path) if page.file.abs_src_path else None
        where = str(src.relative_to(self.root)) if src and src.is_relative_to(self.root) else page.file.src_uri
        source = src.read_text(encoding="utf-8") if src and src.is_file() else None
        html, errors = kb_math.render_math(html, where, source, Path(config.docs_dir) / kb_math.KATEX_JS)
        for error in errors:
            log.warning(error)
        return html
