"""The HTML allowlist: which tags, attributes and URLs a page may contain.

Content arrives by pull request from people we do not know, so raw HTML is checked against an allowlist, never a
blocklist. The policy is applied twice:

* ``make check`` reads the raw HTML in each Markdown file (:func:`markdown_problems`), and the Markdown links and
  images (:func:`url_problems`), and names file and line;
* the build applies the same policy to every rendered page (:func:`html_problems`), so nothing slips through a
  Markdown extension or a docstring.

Tags are found with Python's HTML tokenizer (:mod:`html.parser`); whether a tag's attributes and URLs pass is
decided by the sanitizer nh3 (Rust's ammonia) with the policy below, one tag at a time, and the attributes it
drops are reported. Resources (images, audio, video) must come from the site itself: a ``src`` with a scheme or
a host is refused, whatever the scheme.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from kbsite.citations import mask_code
from kbsite.problems import Problem

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "html_problems", "markdown_problems", "url_problems"]

_TEXT = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "mark",
    "small",
    "sub",
    "sup",
    "kbd",
    "code",
    "pre",
    "blockquote",
    "abbr",
    "span",
    "div",
    "q",
    "cite",
    "dfn",
    "var",
    "samp",
    "wbr",
}
_STRUCTURE = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "article",
    "section",
    "nav",
    "details",
    "summary",
    "figure",
    "figcaption",
    "label",
    "input",
}
_TABLES = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"}
_MEDIA = {"img", "audio", "video", "source", "track", "picture"}
# mkdocs-autorefs writes <autoref> elements that it turns into links later in the build.
_BUILD = {"autoref"}
ALLOWED_TAGS: frozenset[str] = frozenset(_TEXT | _STRUCTURE | _TABLES | _MEDIA | _BUILD)

_GLOBAL = {
    "class",
    "id",
    "title",
    "lang",
    "dir",
    "role",
    "aria-label",
    "aria-hidden",
    "aria-describedby",
    "markdown",
}  # markdown="1" is md_in_html's switch
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": _GLOBAL,
    "a": {"href", "name", "hreflang", "rel"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
    "audio": {"src", "controls", "preload", "loop"},
    "video": {"src", "controls", "preload", "loop", "poster", "width", "height", "muted"},
    "source": {"src", "type", "media"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "input": {"type", "name", "checked", "disabled"},
    "label": {"for"},
    "details": {"open"},
    "div": {"data-tabs"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "th": {"colspan", "rowspan", "scope", "style", "align"},
    "td": {"colspan", "rowspan", "style", "align"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
    "autoref": {
        "identifier",
        "optional",
        "hover",
        "backlink-type",
        "backlink-anchor",
        "domain",
        "role",
        "origin",
        "filepath",
        "lineno",
        "slug",
    },
}
URL_SCHEMES = {"http", "https", "mailto"}
STYLE_PROPERTIES = {"text-align"}  # Markdown tables align columns with style="text-align: ..."
_RESOURCE_ATTRIBUTES = {"src", "poster", "srcset"}
_VOID = {"br", "hr", "img", "input", "source", "track", "col", "wbr"}
_ABSOLUTE = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|\\\\)")
_AUTOLINK = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")


@dataclass(frozen=True)
class _Tag:
    name: str
    attrs: tuple[tuple[str, str], ...]
    line: int


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[_Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(_Tag(tag, tuple((k, v or "") for k, v in attrs), self.getpos()[0]))

    handle_startendtag = handle_starttag


def _tags(html: str) -> list[_Tag]:
    tokenizer = _Tokenizer()
    tokenizer.feed(html)
    tokenizer.close()
    return tokenizer.tags


# A start tag as the HTML grammar writes it: a name, then attributes each preceded by white space, with a value
# unquoted, single- or double-quoted (so a ">" inside quotes does not end it).
_START_TAG = re.compile(r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>""")
_TAG_OPEN = re.compile(r"<[a-zA-Z]")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@functools.lru_cache(maxsize=65536)
def _parse_one(text: str) -> _Tag | None:
    tags = _tags(text)
    return tags[0] if len(tags) == 1 else None


def _page_tags(html: str) -> list[_Tag]:
    """The start tags of a rendered page, as :func:`_tags` finds them, faster: a page repeats the same few tags
    thousands of times, so each distinct tag text is tokenized once per process. Where any "<" followed by a letter
    does not begin a tag of the grammar above (a malformed tag such as ``<a href="x"onclick="y">``, which a browser
    still reads), the whole page goes through the tokenizer instead: no tag can slip past."""
    if "<!--" in html:  # comments hold no tags: blank them, keeping their newlines for the line numbers
        html = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), html)
        if "<!--" in html:  # one left open: the tokenizer knows what to do with it
            return _tags(html)
    found = []
    covered = set()
    for match in _START_TAG.finditer(html):
        tag = _parse_one(match.group())
        if tag is None:
            return _tags(html)
        covered.add(match.start())
        found.append((match.start(), tag))
    if any(m.start() not in covered for m in _TAG_OPEN.finditer(html)):
        return _tags(html)
    # Line numbers as the tokenizer counts them: 1 + the newlines before the tag.
    lines, line, last = [], 1, 0
    for start, tag in found:
        line += html.count("\n", last, start)
        last = start
        lines.append(_Tag(tag.name, tag.attrs, line))
    return lines


# An HTML parser drops table parts found outside a table: nh3 sees each inside the context it needs.
_CONTEXT = {
    "tr": ("<table><tbody>", "</tbody></table>"),
    "td": ("<table><tbody><tr>", "</tr></tbody></table>"),
    "th": ("<table><tbody><tr>", "</tr></tbody></table>"),
    "col": ("<table><colgroup>", "</colgroup></table>"),
    **{name: ("<table>", "</table>") for name in ("thead", "tbody", "tfoot", "caption", "colgroup")},
}


def _serialize(tag: _Tag) -> str:
    attrs = "".join(f' {k}="{nh3.clean_text(v)}"' for k, v in tag.attrs)
    before, after = _CONTEXT.get(tag.name, ("", ""))
    return before + f"<{tag.name}{attrs}>" + ("" if tag.name in _VOID else f"</{tag.name}>") + after


def _sanitized(tag: _Tag) -> dict[str, str]:
    """The attributes nh3 keeps of ``tag`` under the policy (the tag itself is known to be allowed)."""
    cleaned = nh3.clean(
        _serialize(tag),
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel=None,
        strip_comments=True,
    )
    kept = [t for t in _tags(cleaned) if t.name == tag.name]
    return dict(kept[0].attrs) if kept else {}


def _short(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def _css(style: str) -> str:
    return re.sub(r"\s+", "", style).rstrip(";")


def _tag_problems(tag: _Tag) -> tuple[tuple[str, str], ...]:
    """(message, hint) for what the policy refuses in one tag; a page repeats the same few tags thousands of times
    (highlighted code, KaTeX), so each distinct tag is judged once per process."""
    return _judge(tag.name, tag.attrs)


@functools.lru_cache(maxsize=65536)
def _judge(name: str, attrs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(_judge_tag(_Tag(name, attrs, 0)))


def _judge_tag(tag: _Tag) -> Iterator[tuple[str, str]]:
    if tag.name not in ALLOWED_TAGS:
        yield (
            f"raw HTML <{tag.name}> is not allowed",
            "use Markdown, or one of the allowed tags (see kbsite/html_policy.py); scripts, styles, frames, "
            "forms and embeds are never accepted",
        )
        return
    kept = _sanitized(tag)
    for name, value in tag.attrs:
        if name in _RESOURCE_ATTRIBUTES and _ABSOLUTE.match(value):
            where = "an inline data: URL" if value.strip().lower().startswith("data:") else "another host"
            yield (
                f'<{tag.name} {name}="{_short(value)}"> loads a resource from {where}',
                "put the file under docs/assets/<slug>/ and link it with a relative path",
            )
            continue
        allowed = name in ALLOWED_ATTRIBUTES["*"] or name in ALLOWED_ATTRIBUTES.get(tag.name, set())
        if allowed and name == "style" and _css(kept.get(name, "")) != _css(value):
            yield (
                f'<{tag.name} style="{_short(value)}">: only {", ".join(sorted(STYLE_PROPERTIES))} is allowed',
                "remove the other style properties; styling belongs in docs/assets/stylesheets/kb.css",
            )
        elif name not in kept:
            if allowed:
                yield (
                    f'<{tag.name} {name}="{_short(value)}">: this URL or value is not allowed',
                    f"use a relative link or one of the schemes {', '.join(sorted(URL_SCHEMES))}",
                )
            else:
                yield (
                    f"attribute '{name}' is not allowed on <{tag.name}>",
                    "remove it; event handlers and inline styles are never accepted",
                )


def html_problems(html: str, path: str, source: str | None = None) -> list[Problem]:
    """What the policy refuses in a rendered page.

    Args:
        html: the page's HTML.
        path: the source file the problems are reported under.
        source: that file's text, if any: a problem is reported on the first line that holds the offending tag or
            one of its attribute values (line 1 when none does).
    """
    problems = []
    for tag in _page_tags(html):
        for message, hint in _tag_problems(tag):
            line = 1
            if source is not None:
                needles = [v for _, v in tag.attrs if v] + [f"<{tag.name}"]
                offsets = [o for o in (source.find(n) for n in needles) if o >= 0]
                line = source.count("\n", 0, min(offsets)) + 1 if offsets else 1
            problems.append(Problem(path, line, message, hint))
    return problems


_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\\(.*?\\\)|(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$", re.DOTALL)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def markdown_problems(markdown: str, path: str) -> list[Problem]:
    """What the policy refuses in the raw HTML of a Markdown file (code, comments, math and autolinks aside)."""
    masked = _AUTOLINK.sub(_blank, _MATH.sub(_blank, mask_code(markdown)))
    return [Problem(path, tag.line, message, hint) for tag in _tags(masked) for message, hint in _tag_problems(tag)]


_MD_TARGET = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?")
_MD_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)


def url_problems(markdown: str, path: str) -> list[Problem]:
    """Markdown links and images whose URL the policy refuses: ``javascript:``/``data:`` and other schemes, and
    images from another host."""
    masked = mask_code(markdown)
    found = [(m.group(1) == "!", m.group(2), m.start()) for m in _MD_TARGET.finditer(masked)]
    found += [(False, m.group(1), m.start()) for m in _MD_DEFINITION.finditer(masked)]
    problems = []
    for is_image, url, offset in found:
        line = masked.count("\n", 0, offset) + 1
        scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", url)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            problems.append(
                Problem(
                    path,
                    line,
                    f"link to '{_short(url)}': the scheme '{scheme.group(1)}:' is not allowed",
                    f"use a relative link or one of {', '.join(sorted(URL_SCHEMES))}",
                )
            )
        elif is_image and _ABSOLUTE.match(url):
            problems.append(
                Problem(
                    path,
                    line,
                    f"image '{_short(url)}' loads from another host",
                    "put the file under docs/assets/<slug>/ and link it with a relative path",
                )
            )
    return sorted(problems)
