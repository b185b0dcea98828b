"""Pages the plugin generates (API pages, topic pages), and when a ``--dirty`` build must render them again.

MkDocs counts an in-memory page as modified on every build, so ``mkdocs serve --dirty`` would render every API
page (mkdocstrings) and topic page again after each save: at a thousand reviews that is minutes, not seconds.
A :class:`GeneratedPage` knows the files it is made from and is modified only when one of them is newer than the
page already built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, InclusionLevel

__all__ = ["GeneratedPage", "generated_page"]


class GeneratedPage(File):
    """A page made in memory from ``sources`` (files of the project)."""

    sources: tuple[Path, ...] = ()

    def is_modified(self) -> bool:
        if not self.sources or not os.path.isfile(self.abs_dest_path):
            return True
        built = os.path.getmtime(self.abs_dest_path)
        return any(not source.is_file() or source.stat().st_mtime > built for source in self.sources)


def generated_page(config: MkDocsConfig, uri: str, content: str, sources: Iterable[Path]) -> GeneratedPage:
    """A page the kb plugin places in the navigation itself (so MkDocs need not find it in ``nav``)."""
    page = GeneratedPage.generated(config, uri, content=content, inclusion=InclusionLevel.NOT_IN_NAV)
    page.sources = tuple(sources)
    return page
