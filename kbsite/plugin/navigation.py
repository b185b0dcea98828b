"""The navigation: every review and every API page added to the ``nav`` with MkDocs' own objects.

``mkdocs.yml`` lists the sections (``Reviews`` holding ``reviews/index.md``, ``Snippets API`` holding
``api/index.md``); :func:`add_pages` appends the review pages and the generated API pages to them, so a new review
needs no edit of ``mkdocs.yml``. Parent, previous and next links are then set again for the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterator

from mkdocs.structure import StructureItem
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from kbsite.plugin.api_pages import api_uri
from kbsite.problems import Problem
from kbsite.reviews import Review

__all__ = ["add_pages"]


def _section(items: list[StructureItem], title: str) -> Section | None:
    return next((item for item in items if isinstance(item, Section) and item.title == title), None)


def _page(files: Files, uri: str, title: str) -> Page:
    page = files.get_file_from_path(uri).page
    page.title = title
    return page


def _walk(items: list[StructureItem]) -> Iterator[StructureItem]:
    for item in items:
        yield item
        if isinstance(item, Section):
            yield from _walk(item.children)


def _relink(nav: Navigation) -> None:
    """Parent links for every item, and previous/next links along the pages in nav order."""
    for item in _walk(nav.items):
        if isinstance(item, Section):
            for child in item.children:
                child.parent = item
    for item in nav.items:
        item.parent = None
    nav.pages = [item for item in _walk(nav.items) if isinstance(item, Page)]
    for before, page, after in zip([None, *nav.pages[:-1]], nav.pages, [*nav.pages[1:], None]):
        page.previous_page, page.next_page = before, after


def add_pages(nav: Navigation, files: Files, reviews: list[Review], reviews_title: str, api_title: str) -> list[Problem]:
    """Append the reviews and their API pages to the two sections; a missing section is a problem."""
    problems = []
    reviews_section, api_section = _section(nav.items, reviews_title), _section(nav.items, api_title)
    for title, section in ((reviews_title, reviews_section), (api_title, api_section)):
        if section is None:
            problems.append(Problem("mkdocs.yml", 1, f"the nav has no section '{title}' for the kb plugin",
                                    f"add '- {title}:' to nav, or set the kb plugin's option to an existing one"))
    if reviews_section is not None:
        reviews_section.children += [_page(files, f"reviews/{r.slug}.md", r.title) for r in reviews]
    if api_section is not None:
        api_section.children += [_page(files, api_uri(r.slug), f"snippets.{r.slug}") for r in sorted(
            reviews, key=lambda r: r.slug)]
    _relink(nav)
    return problems
