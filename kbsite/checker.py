"""The content checker behind ``make check``: everything that would stop a pull request, with file and line.

Run it with ``python -m kbsite.checker [ROOT]``. It never imports torch and finishes in about a second. Every
problem is printed as ``path:line: what is wrong — how to fix it``; all problems are reported at once and the exit
status is 1 when there is any.

The checks, one function each:

- ``check_front_matter``: required review fields and their types;
- ``check_bibliography``: the ``.bib`` file parses, braces balance, keys are unique and well formed, required fields;
- ``check_citations``: every ``[@key]`` of the docs resolves;
- ``check_mirror``: every review has its module, test and API page, and every module has a review;
- ``check_fences``: every code fence is run, checked as output, or visibly skipped;
- ``check_markup``: no raw ``<script>``, inline event handlers or ``javascript:`` URLs in Markdown;
- ``check_encoding``: text files are UTF-8;
- ``check_sections``: a review has the required sections, in order;
- ``check_links``: relative links to pages point to files that exist;
- ``check_placeholders``: no ``TODO`` left from the ``make new-review`` templates.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from kbsite import fences
from kbsite.citations import find_citations, mask_code
from kbsite.reviews import parse_front_matter, split_front_matter

__all__ = ["CHECKS", "Problem", "main", "run_checks"]

REQUIRED_SECTIONS = [
    "TL;DR",
    "Problem and prior work",
    "Method",
    "Implementation",
    "Results",
    "Assessment",
    "Related reviews",
    "References",
]
KEY_FORMAT = re.compile(r"^[a-z][a-z-]*[0-9]{4}[a-z0-9]+$")
REQUIRED_BIB_FIELDS = {
    "article": ["author", "title", "journal", "year"],
    "inproceedings": ["author", "title", "booktitle", "year"],
    "techreport": ["author", "title", "institution", "year"],
    "book": ["title", "publisher", "year"],
    "misc": ["title", "year"],
    "phdthesis": ["author", "title", "school", "year"],
}
RESERVED_SLUGS = set(sys.stdlib_module_names) | {"torch", "numpy", "snippets", "kbsite", "tests", "mkdocs", "yaml"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Project:
    """The files of a checkout, read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.docs = root / "docs"
        self._text: dict[Path, str | None] = {}

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def text(self, path: Path) -> str | None:
        """The file as UTF-8 text, or None if it is not UTF-8 (``check_encoding`` reports that)."""
        if path not in self._text:
            try:
                self._text[path] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                self._text[path] = None
        return self._text[path]

    def markdown_files(self) -> list[Path]:
        files = sorted(self.docs.rglob("*.md")) if self.docs.is_dir() else []
        return files + [p for p in (self.root / "README.md", self.root / "CONTRIBUTING.md") if p.is_file()]

    def reviews(self) -> list[Path]:
        folder = self.docs / "reviews"
        return sorted(p for p in folder.glob("*.md") if p.name != "index.md") if folder.is_dir() else []

    def front_matter(self, path: Path) -> tuple[dict | None, int, str | None]:
        """(data, number of lines taken, YAML error); data is None when absent or broken."""
        block, lines = split_front_matter(self.text(path) or "")
        if block is None:
            return None, 0, None
        try:
            data = parse_front_matter(block)
        except yaml.YAMLError as exc:
            return None, lines, str(exc).replace("\n", " ")
        return (data if isinstance(data, dict) else None), lines, None

    def bib_keys(self) -> dict[str, int]:
        """Keys of bibliography.bib with the line each is defined on."""
        text = self.text(self.root / "bibliography.bib") or ""
        return {m.group(2): _line_of(text, m.start()) for m in _BIB_ENTRY.finditer(text) if m.group(1).lower() not in _BIB_SPECIAL}


_BIB_ENTRY = re.compile(r"^[ \t]*@\s*(\w+)\s*[{(]\s*([^,\s]*)\s*,", re.MULTILINE)
_BIB_SPECIAL = {"comment", "preamble", "string"}


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _field_line(text: str, key: str) -> int:
    """The line of ``key:`` in a file's front matter (1 when the key is not written there)."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
        if line.strip() == "---":
            break
    return 1


# --- the checks ---------------------------------------------------------------------------------------------


def check_front_matter(project: Project) -> Iterator[Problem]:
    fields: dict[str, Callable[[object], bool]] = {
        "title": lambda v: isinstance(v, str) and bool(v.strip()),
        "bibkey": lambda v: isinstance(v, str) and bool(v.strip()),
        "venue": lambda v: isinstance(v, str) and bool(v.strip()),
        "year": lambda v: isinstance(v, int) and 1900 <= v <= 2100,
        "tags": lambda v: isinstance(v, list) and bool(v) and all(isinstance(t, str) and t.strip() for t in v),
        "snippet": lambda v: isinstance(v, str),
    }
    expected = {
        "title": "a non-empty string",
        "bibkey": "the paper's key in bibliography.bib",
        "venue": "a non-empty string such as ICDM",
        "year": "a four-digit year such as 2010",
        "tags": "a non-empty list of strings",
        "snippet": "snippets.<slug>",
    }
    keys = project.bib_keys()
    slugs = {p.stem for p in project.reviews()}
    for path in project.reviews():
        rel, text = project.rel(path), project.text(path) or ""
        data, _, error = project.front_matter(path)
        if error:
            yield Problem(rel, 1, f"front matter is not valid YAML ({error}) — fix the YAML between the --- lines")
            continue
        if data is None:
            yield Problem(rel, 1, "no front matter — start the file with a --- block (see CONTRIBUTING.md, Front matter)")
            continue
        if path.stem in RESERVED_SLUGS:
            yield Problem(rel, 1, f"slug '{path.stem}' is the name of a module of the standard library or a dependency — rename the review's files")
        for name, ok in fields.items():
            if name not in data:
                yield Problem(rel, 1, f"front matter lacks '{name}' — add {name}: <{expected[name]}>")
            elif not ok(data[name]):
                yield Problem(rel, _field_line(text, name), f"front matter '{name}' is {data[name]!r} — expected {expected[name]}")
        if isinstance(data.get("snippet"), str) and data["snippet"] != f"snippets.{path.stem}":
            yield Problem(rel, _field_line(text, "snippet"), f"snippet is '{data['snippet']}' — expected 'snippets.{path.stem}' (one slug everywhere)")
        if isinstance(data.get("bibkey"), str) and data["bibkey"] not in keys:
            yield Problem(rel, _field_line(text, "bibkey"), f"bibkey '{data['bibkey']}' is not in bibliography.bib — add the entry or fix the key")
        links = data.get("links")
        if links is not None and not (isinstance(links, dict) and all(isinstance(v, str) and v.startswith("https://") for v in links.values())):
            yield Problem(rel, _field_line(text, "links"), "front matter 'links' must map names to https:// URLs")
        related = data.get("related")
        if related is not None:
            if not isinstance(related, list) or not all(isinstance(r, dict) and {"slug", "relation"} <= set(r) for r in related):
                yield Problem(rel, _field_line(text, "related"), "front matter 'related' must be a list of {slug, relation} mappings")
            else:
                for r in related:
                    if r["slug"] not in slugs:
                        yield Problem(rel, _field_line(text, "related"), f"related slug '{r['slug']}' has no review docs/reviews/{r['slug']}.md — fix the slug")


def check_bibliography(project: Project) -> Iterator[Problem]:
    path = project.root / "bibliography.bib"
    rel = project.rel(path) if path.exists() else "bibliography.bib"
    if not path.is_file():
        yield Problem(rel, 1, "bibliography.bib is missing — restore it from main")
        return
    text = project.text(path)
    if text is None:
        return  # reported by check_encoding
    depth, opened_at = 0, 1
    for number, line in enumerate(text.splitlines(), start=1):
        for ch in line:
            if ch == "{":
                if depth == 0:
                    opened_at = number
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    yield Problem(rel, number, "a '}' closes nothing — remove it or add the matching '{'")
                    depth = 0
    if depth > 0:
        yield Problem(rel, opened_at, f"{depth} unclosed '{{' from this line on — close the entry's braces")
        return
    seen: dict[str, int] = {}
    for match in _BIB_ENTRY.finditer(text):
        kind, key = match.group(1).lower(), match.group(2)
        if kind in _BIB_SPECIAL:
            continue
        line = _line_of(text, match.start())
        if key.lower() in seen:
            yield Problem(rel, line, f"duplicate key '{key}' (first defined on line {seen[key.lower()]}) — remove one entry or rename it")
            continue
        seen[key.lower()] = line
        if not KEY_FORMAT.match(key):
            yield Problem(rel, line, f"key '{key}' does not follow authorYEARword (e.g. rendle2010fm) — rename it and its citations")
        body = _entry_body(text, match.end())
        fields = {m.group(1).lower() for m in re.finditer(r"^\s*([A-Za-z][\w-]*)\s*=", body, re.MULTILINE)}
        for name in REQUIRED_BIB_FIELDS.get(kind, ["title", "year"]):
            if name not in fields:
                yield Problem(rel, line, f"@{kind} '{key}' lacks the required field '{name}' — add it")
    from pybtex.database import parse_string

    try:
        parse_string(text, "bibtex")
    except Exception as exc:  # noqa: BLE001 - pybtex raises several unrelated types
        message = str(exc).replace("\n", " ")
        if "repeated" not in message:  # duplicate keys are reported above, with their line
            yield Problem(rel, 1, f"pybtex cannot parse the file: {message} — fix the entry it names")


def _entry_body(text: str, start: int) -> str:
    depth = 1
    for i in range(start, len(text)):
        if text[i] in "{(":
            depth += 1
        elif text[i] in "})":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def check_citations(project: Project) -> Iterator[Problem]:
    keys = project.bib_keys()
    for path in project.markdown_files():
        text = project.text(path)
        if text is None:
            continue
        for citation in find_citations(text):
            for key in citation.keys:
                if key not in keys:
                    yield Problem(project.rel(path), citation.line, f"unknown citation key '{key}' — add it to bibliography.bib or fix the key")


def check_mirror(project: Project) -> Iterator[Problem]:
    for path in project.reviews():
        slug, rel = path.stem, project.rel(path)
        for needed in (f"snippets/{slug}.py", f"tests/snippets/test_{slug}.py", f"docs/api/{slug}.md"):
            if not (project.root / needed).is_file():
                yield Problem(rel, 1, f"review '{slug}' has no {needed} — create it (make new-review SLUG={slug} scaffolds missing files)")
        api = project.docs / "api" / f"{slug}.md"
        if api.is_file() and f"::: snippets.{slug}" not in (project.text(api) or ""):
            yield Problem(project.rel(api), 1, f"API page does not render the module — its content should be '::: snippets.{slug}'")
    reviewed = {p.stem for p in project.reviews()}
    for module in sorted((project.root / "snippets").glob("*.py")):
        if module.name != "__init__.py" and module.stem not in reviewed:
            yield Problem(project.rel(module), 1, f"module '{module.stem}' has no review docs/reviews/{module.stem}.md — write one or move the code")


def check_fences(project: Project) -> Iterator[Problem]:
    for path in project.markdown_files():
        if project.text(path) is None:
            continue
        for problem in fences.check_fences(path):
            where, _, message = problem.partition(": ")
            line = int(where.rsplit(":", 1)[1])
            yield Problem(project.rel(path), line, message)


_SCRIPT = re.compile(r"<\s*script\b", re.IGNORECASE)
_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"(?:\]\(\s*|=\s*[\"']?\s*)javascript:", re.IGNORECASE)


def check_markup(project: Project) -> Iterator[Problem]:
    for path in project.markdown_files():
        text = project.text(path)
        if text is None:
            continue
        masked = mask_code(text)
        for pattern, what in ((_SCRIPT, "a raw <script> tag"), (_HANDLER, "an inline event handler (on...=)"), (_JS_URL, "a javascript: URL")):
            for match in pattern.finditer(masked):
                yield Problem(project.rel(path), _line_of(masked, match.start()), f"{what} in Markdown — remove it; scripts belong in docs/assets/javascripts/ and mkdocs.yml")


def check_encoding(project: Project) -> Iterator[Problem]:
    candidates = project.markdown_files() + [project.root / "bibliography.bib"]
    for folder in ("snippets", "tests/snippets", "kbsite"):
        candidates += sorted((project.root / folder).glob("*.py"))
    for path in candidates:
        if path.is_file() and project.text(path) is None:
            raw = path.read_bytes()
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                yield Problem(project.rel(path), line, f"not UTF-8 (byte 0x{raw[exc.start]:02x}) — save the file as UTF-8")


def check_sections(project: Project) -> Iterator[Problem]:
    for path in project.reviews():
        text = project.text(path)
        if text is None:
            continue
        masked = mask_code(text)
        found = [(m.group(1).strip(), _line_of(masked, m.start())) for m in re.finditer(r"^## +(.+?)\s*$", masked, re.MULTILINE)]
        titles = [t for t, _ in found]
        if not re.search(r"^# +\S", masked, re.MULTILINE):
            yield Problem(project.rel(path), 1, "no '# Title' heading — add one after the front matter")
        missing = [s for s in REQUIRED_SECTIONS if s not in titles]
        for section in missing:
            yield Problem(project.rel(path), 1, f"missing section '## {section}' — add it (order: {', '.join(REQUIRED_SECTIONS)})")
        present = [t for t in titles if t in REQUIRED_SECTIONS]
        expected = [s for s in REQUIRED_SECTIONS if s in present]
        if not missing and present != expected:
            first_bad = next(i for i, (a, b) in enumerate(zip(present, expected)) if a != b)
            line = next(line for title, line in found if title == present[first_bad])
            yield Problem(project.rel(path), line, f"section '## {present[first_bad]}' is out of order — expected '## {expected[first_bad]}' here")


_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def check_links(project: Project) -> Iterator[Problem]:
    for path in project.markdown_files():
        text = project.text(path)
        if text is None or not path.is_relative_to(project.docs):
            continue
        masked = mask_code(text)
        for match in _LINK.finditer(masked):
            target = match.group(1).split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
                continue
            resolved = (path.parent / target).resolve()
            if target == "bibliography.bib" or (path.parent / target).as_posix().endswith("/bibliography.bib"):
                continue  # published by the kb-citations plugin from the repository root
            if not resolved.exists():
                yield Problem(project.rel(path), _line_of(masked, match.start()), f"link to '{match.group(1)}' points to no file — fix the path (relative to this page)")


def check_placeholders(project: Project) -> Iterator[Problem]:
    slugs = [p.stem for p in project.reviews()]
    paths = project.reviews() + [project.root / "snippets" / f"{s}.py" for s in slugs] + [project.root / "tests" / "snippets" / f"test_{s}.py" for s in slugs]
    for path in paths:
        text = project.text(path) if path.is_file() else None
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if "TODO" in line:
                yield Problem(project.rel(path), number, "placeholder 'TODO' left from the template — replace it with real content")
    bib = project.text(project.root / "bibliography.bib") or ""
    for number, line in enumerate(bib.splitlines(), start=1):
        if "TODO" in line:
            yield Problem("bibliography.bib", number, "placeholder 'TODO' in a bibliography entry — fill in the field from the paper")


CHECKS: list[Callable[[Project], Iterator[Problem]]] = [
    check_encoding,
    check_front_matter,
    check_bibliography,
    check_citations,
    check_mirror,
    check_fences,
    check_markup,
    check_sections,
    check_links,
    check_placeholders,
]


def run_checks(root: Path) -> list[Problem]:
    """Every problem of the checkout at ``root``, sorted by file and line."""
    project = Project(root.resolve())
    problems = [p for check in CHECKS for p in check(project)]
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    problems = run_checks(root)
    for problem in problems:
        print(problem)
    reviews = len(Project(root).reviews())
    if problems:
        print(f"\n{len(problems)} problem(s) found in {reviews} review(s). Fix them and run `make check` again.", file=sys.stderr)
        return 1
    print(f"make check: no problems in {reviews} review(s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
