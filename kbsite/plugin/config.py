"""The options of the ``kb`` plugin, as written under ``plugins: - kb:`` in ``mkdocs.yml``."""

from __future__ import annotations

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config

__all__ = ["DEFAULT_MATH_CACHE", "KbConfig"]

DEFAULT_MATH_CACHE = ".cache/kb"  # where typeset formulas are kept between builds, relative to mkdocs.yml


class KbConfig(Config):
    """Options of the ``kb`` plugin. Every option has a default; the site's ``mkdocs.yml`` sets ``bibliography``
    (to its default) and ``only_reviews`` (from the environment)."""

    bibliography = opt.Type(str, default="bibliography.bib")
    """The BibTeX file citations resolve against, relative to ``mkdocs.yml``. It is also published at the site
    root under its own name, so readers can download it."""

    reviews_section = opt.Type(str, default="Reviews")
    """The title of the top-level ``nav`` section that receives every ``docs/reviews/<slug>.md``, grouped by the
    review's front-matter ``topic``. The section itself lists only ``reviews/index.md`` in ``mkdocs.yml``."""

    api_section = opt.Type(str, default="Snippets API")
    """The title of the top-level ``nav`` section that receives the generated API page ``api/<slug>.md`` of each
    review's snippet module (``::: snippets.<slug>``, rendered by mkdocstrings)."""

    only_reviews = opt.Type(str, default="")
    """Empty (the default) for the whole site, or review slugs separated by commas. With slugs the build leaves
    every other review page and every other API page out (MkDocs' ``excluded`` level: links to them are reported
    at INFO, not as warnings), so one review's page builds in seconds whatever the size of the site.
    ``make test-review`` sets it through the environment variable ``KB_ONLY_REVIEWS`` (``mkdocs.yml``:
    ``!ENV [KB_ONLY_REVIEWS, ""]``). A slug that names no review fails the strict build."""

    sidebar_limit = opt.Type(int, default=30)
    """The most reviews one level of the sidebar lists. A topic with more reviews is split into alphabetical
    groups of at most this many (deeper groups if needed), so a page's sidebar stays the same size however many
    reviews the site holds; the reviews index and the topic pages list every review."""

    math_cache = opt.Type((str, bool), default=DEFAULT_MATH_CACHE)
    """The folder, relative to ``mkdocs.yml``, that keeps typeset formulas between builds (``kbsite/math.py``,
    ``FormulaCache``), so that a build typesets only the formulas no earlier build has; ``false`` (or ``off``,
    which YAML reads as false) keeps none, so that every build typesets every formula. The site's ``mkdocs.yml``
    reads it from the environment variable ``KB_MATH_CACHE`` when that is set: ``make bench`` sets it to ``off``
    to time builds that start from nothing. (An empty ``KB_MATH_CACHE`` reads as unset: YAML makes it null.)"""

    @property
    def math_cache_folder(self) -> str | None:
        """:attr:`math_cache` as a folder, or ``None`` for no cache (``true`` is the default folder)."""
        value = self.math_cache
        if value is True:
            return DEFAULT_MATH_CACHE
        if value is False or not value.strip():
            return None
        return value.strip()
