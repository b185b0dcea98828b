"""Find citations in a page's Markdown and replace them with author-year links.

The syntax (documented in CONTRIBUTING.md):

* ``[@rendle2010fm]`` renders "(Rendle, 2010)"; ``[@a; @b]`` cites several works at once;
* ``[@rendle2010fm, §3]`` adds a locator: "(Rendle, 2010, §3)";
* ``[-@rendle2010fm]`` drops the author: "(2010)";
* a bare ``@rendle2010fm`` in running text renders "Rendle (2010)". A bare ``@word`` is only read as a
  citation when the word holds a four-digit year, as every key does (``authorYEARword``).

Fenced code blocks, inline code and HTML comments are never read, so ``@torch.no_grad()`` is safe.
Every citation links to ``#ref-<key>``, an item of the reference list put under the page's
"References" heading (which is added at the end when the page has none).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from kbsite.bibliography import Bibliography
from kbsite.problems import Problem

__all__ = ["Citation", "CitedPage", "find_citations", "mask_code", "render_citations", "unknown_key"]

_KEY = r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]|[.:](?=[A-Za-z0-9_]))*"
_BRACKET = re.compile(r"\[(\s*-?@" + _KEY + r"[^\[\]\n]*)\](?![(\[])")
_ITEM = re.compile(r"^\s*(-?)@(" + _KEY + r")\s*(?:,\s*(.*?))?\s*$")
_NARRATIVE = re.compile(r"(?<![\w@.\[/\\-])@(" + _KEY + r")")
_HAS_YEAR = re.compile(r"\d{4}")
_FENCE_OPEN = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_REFERENCES_HEADING = re.compile(r"^##\s+References\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Citation:
    """One citation as written: its span in the Markdown, its line (1-based) and its items."""

    start: int
    end: int
    line: int
    narrative: bool
    items: tuple[tuple[str, bool, str], ...]  # (key, suppress_author, locator)

    @property
    def keys(self) -> list[str]:
        return [key for key, _, _ in self.items]


@dataclass
class CitedPage:
    """The result of rendering one page: new Markdown, cited keys in order, and problems found."""

    markdown: str
    keys: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] with spaces, keeping newlines so offsets and line numbers stay put."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def mask_code(markdown: str) -> str:
    """The Markdown with fenced code, inline code and HTML comments blanked out (same length)."""
    lines = markdown.splitlines(keepends=True)
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            match = _FENCE_OPEN.match(line)
            if match:
                fence = match.group(1)
                out.append(re.sub(r"[^\n]", " ", line))
                continue
            out.append(line)
        else:
            stripped = line.strip(" \t>\n\r")
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                fence = None
            out.append(re.sub(r"[^\n]", " ", line))
    masked = "".join(out)
    for pattern in (_COMMENT, _INLINE_CODE):
        for match in list(pattern.finditer(masked)):
            masked = _blank(masked, match.start(), match.end())
    return masked


def find_citations(markdown: str) -> list[Citation]:
    """Every citation in ``markdown`` outside code, in document order."""
    masked = mask_code(markdown)
    found: list[Citation] = []
    taken: list[tuple[int, int]] = []
    for match in _BRACKET.finditer(masked):
        items = []
        for part in match.group(1).split(";"):
            item = _ITEM.match(part)
            if item is None:
                break
            items.append((item.group(2), item.group(1) == "-", item.group(3) or ""))
        else:
            line = masked.count("\n", 0, match.start()) + 1
            found.append(Citation(match.start(), match.end(), line, False, tuple(items)))
            taken.append((match.start(), match.end()))
    for match in _NARRATIVE.finditer(masked):
        if any(a <= match.start() < b for a, b in taken) or not _HAS_YEAR.search(match.group(1)):
            continue
        line = masked.count("\n", 0, match.start()) + 1
        found.append(Citation(match.start(), match.end(), line, True, ((match.group(1), False, ""),)))
    return sorted(found, key=lambda c: c.start)


def _link(key: str, text: str) -> str:
    return f'<a class="kb-cite" href="#ref-{html.escape(key, quote=True)}">{html.escape(text)}</a>'


def _render(citation: Citation, bib: Bibliography) -> str:
    if citation.narrative:
        key = citation.keys[0]
        return _link(key, f"{bib[key].authors_short} ({bib.year_label(key)})")
    parts = []
    for key, suppress, locator in citation.items:
        text = bib.year_label(key) if suppress else bib.label(key)
        parts.append(_link(key, text) + (f", {html.escape(locator)}" if locator else ""))
    return "(" + "; ".join(parts) + ")"


def unknown_key(path: str, line: int, key: str) -> Problem:
    """The problem of a citation whose key is not in the bibliography (the plugin and the checker report it)."""
    return Problem(
        path, line, f"unknown citation key '{key}'", "add an entry with this key to bibliography.bib or correct the key"
    )


def reference_list(keys: list[str], bib: Bibliography) -> str:
    """The HTML list of the given entries, sorted by author and year, each with an ``id="ref-<key>"``."""
    refs = sorted((bib[k] for k in dict.fromkeys(keys)), key=lambda r: r.sort_key)
    items = "\n".join(bib.reference_html(r.key, f"ref-{r.key}") for r in refs)
    return f'<ul class="kb-references">\n{items}\n</ul>'


def render_citations(markdown: str, bib: Bibliography, where: str, first_line: int = 1) -> CitedPage:
    """Replace every citation in ``markdown`` with links and add the page's reference list.

    Args:
        markdown: the page's Markdown (without front matter).
        bib: the bibliography citations resolve against.
        where: the page's path, used in error messages.
        first_line: the line of the source file on which ``markdown`` starts (after the front matter).

    Returns:
        The new Markdown, the keys cited (in order of first use) and one problem per unknown key.
    """
    result = CitedPage(markdown=markdown)
    pieces: list[str] = []
    last = 0
    for citation in find_citations(markdown):
        unknown = [k for k in citation.keys if k not in bib]
        if unknown:
            line = citation.line + first_line - 1
            for key in unknown:
                result.problems.append(unknown_key(where, line, key))
            continue
        pieces.append(markdown[last : citation.start])
        pieces.append(_render(citation, bib))
        last = citation.end
        result.keys.extend(k for k in citation.keys if k not in result.keys)
    pieces.append(markdown[last:])
    text = "".join(pieces)
    if result.keys:
        listing = reference_list(result.keys, bib)
        heading = _REFERENCES_HEADING.search(mask_code(text))
        if heading:
            text = f"{text[: heading.end()]}\n\n{listing}\n{text[heading.end() :]}"
        else:
            text = f"{text.rstrip()}\n\n## References\n\n{listing}\n"
    result.markdown = text
    return result
