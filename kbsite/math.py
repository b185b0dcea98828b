"""Math typeset at build time: KaTeX's HTML in the built page, and no KaTeX JavaScript in the browser.

``pymdownx.arithmatex`` (``generic: true``) turns ``$...$`` into ``<span class="arithmatex">\\(...\\)</span>`` and
``$$...$$`` into ``<div class="arithmatex">\\[...\\]</div>``, with the TeX HTML-escaped. :func:`render_math` replaces
each of them with the output of ``katex.renderToString`` (HTML plus KaTeX's hidden MathML copy for screen readers),
run on the site's own vendored ``docs/assets/katex/katex.min.js``; the browser then needs only KaTeX's CSS and fonts.
A formula KaTeX rejects (a parse error, or a strict-mode complaint about LaTeX-incompatible input) comes back as a
:class:`~kbsite.problems.Problem` naming the Markdown file, the formula's line in it and KaTeX's message; its
element is left as it was. The plugin calls it on the finished page (``on_post_page``), after the search plugin has
indexed the page's content: the search index keeps each formula once, as its TeX source, instead of KaTeX's glyphs,
its MathML and its TeX annotation run together.

The engine is QuickJS, through the ``quickjs-ng`` package (an embedded JavaScript engine; ``import quickjs``), chosen
by measurement on the 306 formulas of the six reviews (``bench/math_build.py`` repeats the comparison for the
candidates installed):

=============  ==============  =====================  =======================  ======================
engine         installed size  start (load KaTeX)     per formula, 1st pass    output = Node's KaTeX
=============  ==============  =====================  =======================  ======================
quickjs-ng     8.1 MB          20-28 ms               0.70 ms                  306 / 306
quickjs        6.4 MB          20 ms                  about 0.6 ms             306 / 306
mini-racer     85 MB (V8)      95 ms                  0.58-0.74 ms             306 / 306
dukpy          17 MB           26-38 ms               1.6 ms                   306 / 306
=============  ==============  =====================  =======================  ======================

(CPU time of the process on this project's two-core machine; ``quickjs``, which shares ``import quickjs`` with
``quickjs-ng``, was timed by wall clock before it was replaced.) All four give KaTeX's own output byte for byte. A
build renders each formula once, so the first pass counts: the QuickJS packages are about as fast as V8 there (V8
pulls ahead only when warm, 0.46-0.65 ms), at a tenth of its size. ``quickjs`` (the original binding) is archived and
has no wheels for Python 3.13 and later; ``quickjs-ng`` is maintained and ships abi3 wheels for every CPython from
3.10 on Linux, macOS and Windows, so a contributor needs nothing but ``pip``. Node would also do (a separate
process, 50 ms to start) but is not on every contributor's machine. One quirk of ``quickjs-ng`` 0.17: a string
that QuickJS built by concatenation (as KaTeX's output is) cannot be returned to Python ("Unknown quickjs tag: -6"),
so the result crosses as ``JSON.stringify`` output, which is a flat string.

The first formulas of a page get their fonts preloaded (``<link rel="preload">``, the parts of KaTeX's fonts that
``scripts/katex_fonts.py`` splits by Unicode range): without it, Lighthouse saw the first paragraph with math laid out
again when its fonts arrived (a layout shift of 0.095 on the FM review).

The engine is started once per build (once per process and thread: a QuickJS context must stay on its thread) and
only when a formula needs it; each distinct formula is rendered once per process, which also makes ``mkdocs
serve``'s rebuilds cheap. Between builds, the formulas KaTeX typeset without complaint are kept in an SQLite file
in the kb plugin's ``math_cache`` folder (``.cache/kb``, :class:`FormulaCache`), keyed on the TeX and the display
mode, in a file named after a digest of ``katex.min.js`` and of the glue below; a build takes from it what it holds
and starts the engine only for the rest. A formula KaTeX rejects is never kept, so every build reports it. With
``math_cache`` off (``KB_MATH_CACHE=off``, as ``make bench`` builds) every build typesets every formula.

**Rendering beside the build.** QuickJS releases Python's global lock while it runs, so KaTeX can work on one core
while MkDocs converts Markdown on another. The plugin hands each page's formulas to :func:`prerender` as soon as
the page is converted (``on_page_content``); one background thread (``kb-katex``, with its own engine) renders them in
that order, while MkDocs converts the next pages. MkDocs converts every page before it writes the first one, so by
the time :func:`render_math` runs on a finished page its formulas are usually ready, and it waits for any that are
not. A formula nobody handed over (HTML that came from elsewhere) is rendered on the spot, as before. The work is
the same, so the CPU time is the same; what changes is that, on a machine with two cores or more, the build no
longer waits for it (``bench/math_build.py`` measures both).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import logging
import re
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kbsite.problems import Problem

__all__ = [
    "KATEX_JS",
    "PRELOAD_FORMULAS",
    "Katex",
    "math_problem",
    "engine",
    "fonts_used",
    "FormulaCache",
    "has_math",
    "prerender",
    "render_math",
    "use_cache",
]

KATEX_JS = Path("assets") / "katex" / "katex.min.js"  # relative to docs_dir
_DEFAULT_KATEX = Path(__file__).resolve().parents[1] / "docs" / KATEX_JS
log = logging.getLogger("mkdocs.plugins.kb")

# The element arithmatex writes: a span (inline, "\(...\)") or a div (display, "\[...\]") whose class list starts
# with arithmatex, holding only text (escaped TeX). Group "body" is that text.
_MATH = re.compile(
    r'<(?P<tag>span|div)(?P<attrs>[^>]*?\sclass="arithmatex(?:\s[^"]*)?"[^>]*)>(?P<body>[^<]*)</(?P=tag)>'
)
_DELIMS = {"span": ("\\(", "\\)"), "div": ("\\[", "\\]")}

# Runs once in the engine, after katex.min.js. KaTeX reports strict-mode complaints through console.warn, which an
# embedded engine does not have: collect them, and report them like errors.
_GLUE = r"""
var __kbWarnings = [];
globalThis.console = {
  warn: function (m) { __kbWarnings.push(String(m)); },
  error: function (m) { __kbWarnings.push(String(m)); },
  log: function () {}
};
function __kbOne(tex, display) {
  __kbWarnings = [];
  var out = {};
  try {
    out.html = katex.renderToString(tex, {displayMode: display, throwOnError: true});
  } catch (e) {
    out.error = (e && e.message) ? e.message : String(e);
  }
  out.warnings = __kbWarnings;
  return out;
}
function __kbRenderMany(items) {
  return JSON.stringify(JSON.parse(items).map(function (item) { return __kbOne(item[0], item[1]); }));
}
"""


def math_problem(where: str, line: int | None, tex: str, message: str) -> Problem:
    """The problem of a formula KaTeX cannot render: the Markdown file, the formula's line (1 when it is not in the
    file, e.g. an include), the formula and KaTeX's message."""
    short = tex if len(tex) <= 60 else tex[:57] + "..."
    return Problem(
        where,
        line or 1,
        f"KaTeX cannot render the formula {short!r}: {message}",
        "fix the TeX; KaTeX supports LaTeX math mode, not text-mode commands or Unicode letters in math",
    )


class FormulaCache:
    """Typeset formulas kept between builds, in an SQLite file: KaTeX's HTML of each (TeX, display) that rendered
    without an error or a warning (a formula KaTeX rejects is rendered again by every build, so its message and
    line are always reported). The file is named after a digest of ``katex.min.js`` and of the glue that calls it,
    so another KaTeX or other options start a file of their own. A connection serves the thread that opened it, as
    each thread has its own engine. Any error opening, reading or writing the file turns the cache off for the
    rest of the process: the build then typesets every formula, as it would with no cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self.off = False

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None and not self.off:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30)
                db.execute(
                    "CREATE TABLE IF NOT EXISTS formula "
                    "(display INTEGER NOT NULL, tex TEXT NOT NULL, html TEXT NOT NULL, PRIMARY KEY (display, tex))"
                )
                db.commit()
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                self._fail(exc)
        return self._db

    def _fail(self, exc: Exception) -> None:
        log.info("kb: the cache of typeset formulas %s is off (%s); every formula is typeset", self.path, exc)
        self.off = True
        if self._db is not None:
            self._db.close()
            self._db = None

    def get_many(self, items: list[tuple[str, bool]]) -> dict[tuple[str, bool], str]:
        """The cached HTML of those ``items`` the cache holds."""
        db = self._connection()
        if db is None:
            return {}
        found = {}
        try:
            for tex, display in items:
                row = db.execute(
                    "SELECT html FROM formula WHERE display = ? AND tex = ?", (int(display), tex)
                ).fetchone()
                if row is not None:
                    found[(tex, display)] = row[0]
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        return found

    def put_many(self, rendered: dict[tuple[str, bool], str]) -> None:
        db = self._connection()
        if db is None or not rendered:
            return
        try:
            db.executemany(
                "INSERT OR REPLACE INTO formula VALUES (?, ?, ?)",
                [(int(display), tex, html) for (tex, display), html in rendered.items()],
            )
            db.commit()
        except sqlite3.Error as exc:
            self._fail(exc)


class Katex:
    """``katex.renderToString`` of one ``katex.min.js`` in an embedded QuickJS context, started on the first
    formula that neither this object nor the cache folder (``cache_folder``, if any: :class:`FormulaCache`) has
    seen; so a build whose formulas are all in the cache never starts the engine."""

    def __init__(self, katex_js: Path, cache_folder: Path | None = None) -> None:
        self.path = katex_js
        self._source = katex_js.read_text(encoding="utf-8")
        self._context: Any = None
        self._cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}
        digest = hashlib.sha256((self._source + _GLUE).encode("utf-8")).hexdigest()[:16]
        self.disk = FormulaCache(cache_folder / f"katex-{digest}.sqlite3") if cache_folder is not None else None

    def _start(self) -> Any:
        if self._context is None:
            import quickjs  # the quickjs-ng package; imported here so that pages without math never need it

            context = quickjs.Context()
            context.eval(self._source)
            context.eval(_GLUE)
            self._context = context  # keeps the functions' runtime alive
            self._render_many = context.get("__kbRenderMany")
        return self._context

    @property
    def started(self) -> bool:
        return self._context is not None

    @property
    def version(self) -> str:
        return str(self._start().eval("katex.version"))

    @staticmethod
    def _outcome(out: dict[str, Any]) -> tuple[str | None, str | None]:
        if "error" in out:
            return None, out["error"]
        if out["warnings"]:
            return None, out["warnings"][0]
        return out["html"], None

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        """KaTeX's HTML for ``tex``, and ``None``; or ``None`` and KaTeX's message (first strict warning, if any)."""
        return self.render_many([(tex, display)])[0]

    def render_many(self, items: list[tuple[str, bool]]) -> list[tuple[str | None, str | None]]:
        """:meth:`render` of each (TeX, display) of ``items``: those this object has not seen are looked up in the
        cache folder, and the rest are typeset in one call into the engine (one hand-over of Python's global lock
        for a whole page, which matters on the background thread) and added to the cache."""
        todo = list(dict.fromkeys(item for item in items if item not in self._cache))
        if todo and self.disk is not None:
            for item, html in self.disk.get_many(todo).items():
                self._cache[item] = (html, None)
            todo = [item for item in todo if item not in self._cache]
        if todo:
            self._start()
            fresh = {}
            for item, out in zip(todo, json.loads(self._render_many(json.dumps(todo))), strict=True):
                self._cache[item] = outcome = self._outcome(out)
                if outcome[0] is not None:
                    fresh[item] = outcome[0]
            if self.disk is not None:
                self.disk.put_many(fresh)
        return [self._cache[item] for item in items]


_engines = threading.local()
_cache_folder: Path | None = None


def use_cache(folder: Path | None) -> None:
    """Keep typeset formulas in ``folder`` between builds (:class:`FormulaCache`), or none with ``None``. The kb
    plugin sets it from its ``math_cache`` option; engines started afterwards use it."""
    global _cache_folder
    _cache_folder = folder


def _engine_key(katex_js: Path | None) -> tuple[tuple[str, int, int], Path]:
    """What identifies an engine: the resolved path of ``katex_js`` (the vendored KaTeX by default), its
    modification time and size; and that path."""
    path = Path(katex_js or _DEFAULT_KATEX).resolve()
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size), path


def engine(katex_js: Path | None = None) -> Katex:
    """The engine for ``katex_js`` (the vendored KaTeX by default), made on first use in this thread and kept;
    a changed file (``mkdocs serve``) or another cache folder (:func:`use_cache`) makes a new one."""
    key, path = _engine_key(katex_js)
    cached = getattr(_engines, "by_key", None)
    if cached is None:
        cached = _engines.by_key = {}
    if (key, _cache_folder) not in cached:
        cached.clear()
        cached[(key, _cache_folder)] = Katex(path, _cache_folder)
    return cached[(key, _cache_folder)]


# Which of KaTeX's fonts a glyph of its HTML is set in: the first class of the glyph's span found here, else
# KaTeX_Main for the plain atoms. Used only to choose the fonts to preload, so a miss costs time, never rendering.
_FONT_OF_CLASS = {
    "mathnormal": "Math-Italic",
    "mathit": "Main-Italic",
    "mathbf": "Main-Bold",
    "textbf": "Main-Bold",
    "boldsymbol": "Math-BoldItalic",
    "mathbb": "AMS-Regular",
    "amsrm": "AMS-Regular",
    "textbb": "AMS-Regular",
    "mathcal": "Caligraphic-Regular",
    "mathfrak": "Fraktur-Regular",
    "textfrak": "Fraktur-Regular",
    "mathboldfrak": "Fraktur-Bold",
    "mathtt": "Typewriter-Regular",
    "texttt": "Typewriter-Regular",
    "mathscr": "Script-Regular",
    "mathsf": "SansSerif-Regular",
    "textsf": "SansSerif-Regular",
    "mathboldsf": "SansSerif-Bold",
    "mathitsf": "SansSerif-Italic",
    "size1": "Size1-Regular",
    "size2": "Size2-Regular",
    "size3": "Size3-Regular",
    "size4": "Size4-Regular",
    "small-op": "Size1-Regular",
    "large-op": "Size2-Regular",
    "mathrm": "Main-Regular",
    "textrm": "Main-Regular",
}
_PLAIN_ATOMS = {"mord", "mrel", "mbin", "mopen", "mclose", "mpunct", "mop", "minner"}
_GLYPH = re.compile(r'<span class="([^"]+)"(?: style="[^"]*")?>([^<]+)</span>')
PRELOAD_FORMULAS = 6  # the fonts of a page's first few formulas are preloaded: those a reader sees first


def fonts_used(rendered: str) -> list[str]:
    """The parts of KaTeX's split fonts (``scripts/katex_fonts.py``) that KaTeX's HTML ``rendered`` needs, as file
    names such as ``Main-Regular.ascii.woff2``, in order of first use."""
    visual = rendered.split('<span class="katex-html"', 1)[-1]  # the glyphs, not the MathML
    found: dict[str, None] = {}
    for classes, text in _GLYPH.findall(visual):
        names = classes.split()
        family = next((_FONT_OF_CLASS[c] for c in names if c in _FONT_OF_CLASS), None)
        if family is None and _PLAIN_ATOMS.intersection(names):
            family = "Main-Regular"
        if family is None:
            continue
        for char in html_lib.unescape(text):
            if (char.isspace() and char != "\xa0") or char == "\u200b":
                continue
            part = "ascii" if ord(char) <= 0x7F or char == "\xa0" else "more"
            found[f"{family}.{part}.woff2"] = None
    return list(found)


def _with_preloads(page: str, fonts: list[str]) -> str:
    """``page`` with a preload link for each font, next to the link to KaTeX's stylesheet (same folder)."""
    link = re.search(r'<link rel="stylesheet" href="([^"]*?)katex\.css"', page)
    if link is None or not fonts:
        return page
    tags = "".join(
        f'<link rel="preload" href="{link.group(1)}split/{font}" as="font" type="font/woff2" crossorigin>'
        for font in fonts
    )
    return page[: link.start()] + tags + page[link.start() :]


def has_math(html: str) -> bool:
    """Whether a page's HTML holds any arithmatex element (the cheap test before starting the engine)."""
    return 'class="arithmatex' in html


def _formulas(html: str) -> list[tuple[re.Match[str], str | None, bool]]:
    """Each arithmatex element of ``html``: its match, its TeX (``None`` for an element that does not hold
    arithmatex's generic output) and whether it is display math."""
    found: list[tuple[re.Match[str], str | None, bool]] = []
    for match in _MATH.finditer(html):
        tag, text = match.group("tag"), html_lib.unescape(match.group("body")).strip()
        left, right = _DELIMS[tag]
        tex = text[len(left) : -len(right)].strip() if text.startswith(left) and text.endswith(right) else None
        found.append((match, tex, tag == "div"))
    return found


# Formulas handed to the background thread: (engine key, TeX, display) -> (the future of its page's batch, its
# index in the batch). Kept for the life of the process, like each engine's own cache, so that mkdocs serve's
# rebuilds find them done.
_Outcome = tuple[str | None, str | None]
_pending: dict[tuple[tuple[str, int, int], str, bool], tuple[Future[list[_Outcome]], int]] = {}
_pending_lock = threading.Lock()
_worker: ThreadPoolExecutor | None = None


def prerender(html: str, katex_js: Path | None = None) -> int:
    """Start typesetting the formulas of ``html`` on the background thread, in their order; return how many were
    new. :func:`render_math` then takes the results. A page without math starts nothing."""
    global _worker
    if not has_math(html):
        return 0
    key, path = _engine_key(katex_js)
    with _pending_lock:
        batch = list(
            dict.fromkeys(
                (tex, display)
                for _, tex, display in _formulas(html)
                if tex is not None and (key, tex, display) not in _pending
            )
        )
        if batch:
            if _worker is None:
                _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-katex")
            future = _worker.submit(_render_on_worker, path, batch)
            for i, (tex, display) in enumerate(batch):
                _pending[(key, tex, display)] = (future, i)
    return len(batch)


def _render_on_worker(path: Path, batch: list[tuple[str, bool]]) -> list[_Outcome]:
    return engine(path).render_many(batch)


def _line_of(tex: str, nth: int, source: str | None) -> int | None:
    """The 1-based line of the ``nth`` (0-based) occurrence of ``tex`` in the Markdown ``source``, if it is there.

    Display math may be indented in the source (in a list or an admonition), so when the whole TeX is not found
    its first line is looked for."""
    if not source:
        return None
    for needle in (tex.strip(), tex.strip().splitlines()[0].strip() if tex.strip() else ""):
        if not needle:
            continue
        start = -1
        for _ in range(nth + 1):
            start = source.find(needle, start + 1)
            if start < 0:
                break
        if start < 0 and nth:
            start = source.find(needle)  # fewer occurrences than on the page: name the first
        if start >= 0:
            return source.count("\n", 0, start) + 1
    return None


def render_math(
    html: str, where: str, source: str | None = None, katex_js: Path | None = None
) -> tuple[str, list[Problem]]:
    """Typeset every arithmatex formula of a page's HTML with KaTeX.

    Args:
        html: the page's HTML (MkDocs' ``on_post_page``; any HTML that holds arithmatex's elements).
        where: the page's Markdown file, as error messages should name it.
        source: the text of that file (front matter included), to find the line of a formula that fails.
        katex_js: the ``katex.min.js`` to run; the vendored one by default.

    Returns:
        The HTML with KaTeX's output in place of each formula and, next to the link to KaTeX's stylesheet, a
        preload link for each font part the first :data:`PRELOAD_FORMULAS` formulas use (so that the first math a
        reader sees is not laid out again when its fonts arrive); and one problem (:func:`math_problem`) per formula
        KaTeX rejected (those are left as they were). A page without math is returned as is, without starting the
        engine.
    """
    if not has_math(html):
        return html, []
    key, path = _engine_key(katex_js)
    errors: list[Problem] = []
    seen: dict[str, int] = {}
    first: list[str] = []
    pieces: list[str] = []
    end = 0
    for match, tex, display in _formulas(html):
        pieces.append(html[end : match.start()])
        end = match.end()
        if tex is None:
            pieces.append(match.group(0))  # not arithmatex's generic output
            continue
        nth = seen.get(tex, 0)
        seen[tex] = nth + 1
        handed = _pending.get((key, tex, display))
        rendered, message = handed[0].result()[handed[1]] if handed else engine(path).render(tex, display)
        if rendered is None:
            errors.append(math_problem(where, _line_of(tex, nth, source), tex, message or "unknown error"))
            pieces.append(match.group(0))
            continue
        if len(first) < PRELOAD_FORMULAS:
            first.append(rendered)
        tag = match.group("tag")
        pieces.append(f"<{tag}{match.group('attrs')}>{rendered}</{tag}>")
    pieces.append(html[end:])
    html = "".join(pieces)
    preload = list(dict.fromkeys(font for rendered in first for font in fonts_used(rendered)))
    return _with_preloads(html, preload), errors
