"""The ``kb`` plugin class: each MkDocs event calls the module that does the job, nothing more.

- ``on_config``: read ``bibliography.bib`` and the reviews once;
- ``on_files``: publish the .bib and the snippet modules, generate the API and topic pages, and let the plugin
  place the pages it adds to the nav;
- ``on_nav``: add the reviews and the API pages to the navigation (:mod:`kbsite.plugin.navigation`);
- ``on_page_markdown``: citations (:mod:`kbsite.citations`), the paper card, related reviews, and the generated
  lists of the reviews index and the bibliography page;
- ``on_page_content``: the source line under an API page's title; the HTML allowlist on the rendered page
  (:mod:`kbsite.html_policy`); the page's formulas handed to KaTeX on a background thread;
- ``on_post_page``: the page's math typeset with the vendored KaTeX at build time (:mod:`kbsite.math`), after the
  search plugin has indexed the page, so search keeps the TeX rather than KaTeX's output.

Every problem is logged as a warning that names the file and line, so ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kbsite import html_policy
from kbsite import math as kb_math
from kbsite.bibliography import Bibliography
from kbsite.citations import render_citations
from kbsite.plugin import bibliography_page, indexes, navigation, paper_card
from kbsite.plugin.api_pages import add_source_note, api_files, api_uri, source_files
from kbsite.plugin.config import KbConfig
from kbsite.plugin.topic_pages import topic_files
from kbsite.problems import Problem
from kbsite.reviews import Review, load_reviews

__all__ = ["KbPlugin"]

log = logging.getLogger("mkdocs.plugins.kb")


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        log.warning(str(problem))


class KbPlugin(BasePlugin[KbConfig]):
    """Citations, the bibliography, generated pages and the navigation of the knowledge base."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.root = Path(config.config_file_path).parent
        self.bib = Bibliography.read(self.root / self.config.bibliography, self.config.bibliography)
        _report(self.bib.problems)
        self.reviews: list[Review] = load_reviews(self.root, Path(config.docs_dir))
        _report([r.front.problem for r in self.reviews if r.front.problem])
        self.review_by_uri = {f"reviews/{r.slug}.md": r for r in self.reviews}
        # The reviews this build renders: all of them, or those ``only_reviews`` names (make test-review).
        only = {slug.strip() for slug in self.config.only_reviews.split(",") if slug.strip()}
        self.built = [r for r in self.reviews if not only or r.slug in only]
        unknown = sorted(only - {r.slug for r in self.reviews})
        if unknown:
            slugs = ", ".join(sorted(r.slug for r in self.reviews))
            _report([Problem("mkdocs.yml", 1, f"only_reviews: no review {', '.join(unknown)}", f"one of: {slugs}")])
        if only:
            log.info("kb: building only the reviews %s and their API pages (only_reviews)", ", ".join(sorted(only)))
        self._sources: dict[str, tuple[str, str | None]] = {}
        self.related = indexes.related_reviews(self.reviews)
        folder = self.config.math_cache_folder
        kb_math.use_cache(self.root / folder if folder else None)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if self.bib.path is not None and self.bib.path.is_file():
            files.append(File.generated(config, self.bib.path.name, abs_src_path=str(self.bib.path)))
        self.api_module_by_uri = {api_uri(r.module): r.module for r in self.reviews}
        # Each API page names the reviews of its module: grouped once, not searched for on every page.
        self.reviews_by_module: dict[str, list[Review]] = {}
        for review in self.reviews:
            self.reviews_by_module.setdefault(review.module, []).append(review)
        built_apis = {api_uri(r.module) for r in self.built}
        generated = api_files(self.reviews, config, self.root) + topic_files(self.reviews, config)
        for file in generated + source_files(self.reviews, config, self.root):
            if file.src_uri.startswith("api/") and file.src_uri not in built_apis:
                file.inclusion = InclusionLevel.EXCLUDED  # only_reviews leaves its review out
            if files.get_file_from_path(file.src_uri) is None:
                files.append(file)
        built_slugs = {r.slug for r in self.built}
        for uri, review in self.review_by_uri.items():
            file = files.get_file_from_path(uri)
            if file is None:
                continue
            if review.slug in built_slugs:
                file.inclusion = InclusionLevel.NOT_IN_NAV  # placed by on_nav, not by mkdocs.yml
            else:
                file.inclusion = InclusionLevel.EXCLUDED  # only_reviews leaves this review out
        return files

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        _report(
            navigation.add_pages(
                nav,
                files,
                self.built,
                self.config.reviews_section,
                self.config.api_section,
                self.config.sidebar_limit,
            )
        )
        return nav

    def _source(self, page: Page) -> tuple[str, str | None]:
        """The page's path relative to the project root (for messages) and its source text, if it has a file.

        Three hooks need it for every page: it is read once per page and build (``on_config`` starts each build).
        """
        key = page.file.src_uri
        if key not in self._sources:
            self._sources[key] = self._read_source(page)
        return self._sources[key]

    def _read_source(self, page: Page) -> tuple[str, str | None]:
        src = Path(page.file.abs_src_path) if page.file.abs_src_path else None
        if page.file.src_uri.startswith("topics/"):
            return page.file.src_uri, None  # a generated topic page: made from the reviews' front matter
        if src is None or not src.is_file() or page.file.generated_by:
            # A generated API page shows a snippet module's docstrings: problems are the module's.
            module = self.root / "snippets" / (page.file.src_uri.removeprefix("api/").removesuffix(".md") + ".py")
            text = module.read_text(encoding="utf-8") if module.is_file() else None
            return module.relative_to(self.root).as_posix(), text
        where = src.relative_to(self.root).as_posix() if src.is_relative_to(self.root) else page.file.src_uri
        return where, src.read_text(encoding="utf-8")

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        where, text = self._source(page)
        # MkDocs strips the front matter and the blank lines after it; find the line the body starts on.
        first_line = text.count("\n", 0, len(text) - len(markdown)) + 1 if text and text.endswith(markdown) else 1
        # Citations first, while line numbers still match the source file.
        cited = render_citations(markdown, self.bib, where, first_line)
        _report(cited.problems)
        markdown = cited.markdown
        review = self.review_by_uri.get(page.file.src_uri)
        if review is not None:
            markdown, problems = paper_card.add_paper_card(markdown, review, self.bib, page.canonical_url or "")
            _report(problems)
            markdown = indexes.add_related_reviews(markdown, self.related[review.slug])
        # The generated lists are built only for the page that asks for them.
        if bibliography_page.MARKER in markdown:
            listing = bibliography_page.bibliography_markdown(self.bib, bibliography_page.citing_reviews(self.reviews))
            markdown = markdown.replace(bibliography_page.MARKER, listing)
        if indexes.MARKER in markdown:
            markdown = markdown.replace(indexes.MARKER, indexes.reviews_table(self.reviews, self.bib))
        return markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        module = self.api_module_by_uri.get(page.file.src_uri)
        if module is not None:
            html = add_source_note(html, module, self.reviews_by_module[module], page.url)
        where, text = self._source(page)
        _report(html_policy.html_problems(html, where, text))
        # Typesetting starts now, on a background thread, while MkDocs converts the other pages; on_post_page takes
        # the results (kbsite/math.py).
        kb_math.prerender(html, Path(config.docs_dir) / kb_math.KATEX_JS)
        return html

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if not kb_math.has_math(output):
            return output
        where, text = self._source(page)
        output, problems = kb_math.render_math(output, where, text, Path(config.docs_dir) / kb_math.KATEX_JS)
        _report(problems)
        return output
