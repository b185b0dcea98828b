"""The navigation: every review and every API page added to the ``nav`` with MkDocs' own objects.

``mkdocs.yml`` lists the sections (``Reviews`` holding ``reviews/index.md``, ``Snippets API`` holding
``api/index.md``); :func:`add_pages` appends to them one section per topic (in the order of
:data:`kbsite.reviews.TOPICS`), so a new review needs no edit of ``mkdocs.yml``. A review topic's section opens
with the generated topic page. With Material's ``navigation.prune``, a page's sidebar holds the topics and the
reviews of its own topic only; a topic with more than ``sidebar_limit`` reviews is split into alphabetical groups,
so the sidebar, and the build time per page, stay bounded as the site grows.
"""

from __future__ import annotations

from collections.abc import Iterator

from mkdocs.structure import StructureItem
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from kbsite.plugin.api_pages import api_modules, api_uri
from kbsite.plugin.topic_pages import topic_title, topic_uri, topics_of
from kbsite.problems import Problem
from kbsite.reviews import Review

__all__ = ["add_pages", "grouped"]


def _section(items: list[StructureItem], title: str) -> Section | None:
    return next((item for item in items if isinstance(item, Section) and item.title == title), None)


def _page(files: Files, uri: str, title: str) -> Page:
    page = files.get_file_from_path(uri).page
    page.title = title
    return page


def grouped(pages: list[Page], limit: int) -> list[StructureItem]:
    """``pages`` as they are when there are at most ``limit``; else in consecutive groups of at most ``limit``
    items, each a section titled by its first and last page ("ALBERT – GPT-1"), nested deeper if needed."""
    if len(pages) <= limit:
        return list(pages)
    size = limit
    while -(-len(pages) // size) > limit:  # more groups than fit on one level: make the groups bigger
        size *= limit
    groups: list[StructureItem] = []
    for start in range(0, len(pages), size):
        chunk = pages[start : start + size]
        groups.append(Section(f"{chunk[0].title} – {chunk[-1].title}", grouped(chunk, limit)))
    return groups


def _walk(items: list[StructureItem]) -> Iterator[StructureItem]:
    for item in items:
        yield item
        if isinstance(item, Section):
            yield from _walk(item.children)


def _relink(nav: Navigation) -> None:
    """Parent links for every item, and previous/next links along the pages in nav order."""
    for item in nav.items:
        item.parent = None
    for item in _walk(nav.items):
        if isinstance(item, Section):
            for child in item.children:
                child.parent = item
    nav.pages = [item for item in _walk(nav.items) if isinstance(item, Page)]
    for before, page, after in zip([None, *nav.pages[:-1]], nav.pages, [*nav.pages[1:], None]):
        page.previous_page, page.next_page = before, after


def add_pages(
    nav: Navigation, files: Files, reviews: list[Review], reviews_title: str, api_title: str, limit: int
) -> list[Problem]:
    """Append one section per topic to the reviews section and to the API section; a missing section is a problem
    when there are reviews to place."""
    problems = []
    reviews_section, api_section = _section(nav.items, reviews_title), _section(nav.items, api_title)
    for title, section in ((reviews_title, reviews_section), (api_title, api_section)):
        if section is None and reviews:
            problems.append(
                Problem(
                    "mkdocs.yml",
                    1,
                    f"the nav has no section '{title}' for the kb plugin",
                    f"add '- {title}:' to nav, or set the kb plugin's option to an existing one",
                )
            )
    placed: set[str] = set()  # a module two reviews share is listed once, under the first topic
    for topic, members in topics_of(reviews).items():
        if reviews_section is not None:
            pages = [_page(files, f"reviews/{r.slug}.md", r.title) for r in members]
            index = _page(files, topic_uri(topic), topic_title(topic))
            reviews_section.children.append(Section(topic_title(topic), [index, *grouped(pages, limit)]))
        if api_section is not None:
            modules = [m for m in api_modules(members) if m not in placed]
            placed.update(modules)
            apis = [_page(files, api_uri(m), f"snippets.{m}") for m in modules]
            if apis:
                api_section.children.append(Section(topic_title(topic), grouped(apis, limit)))
    _relink(nav)
    return problems
