"""The content checker behind ``make check``: everything that would stop a pull request, with file and line.

Run it with ``python -m kbsite.checker [ROOT]``. It never imports torch and finishes in about a second. Every
problem is printed as ``path:line: what is wrong — how to fix it``; all problems are reported at once and the exit
status is 1 when there is any.

The checks, one function each, each returning :class:`~kbsite.problems.Problem` objects:

- ``check_encoding``: text files are UTF-8;
- ``check_front_matter``: required review fields and their types, the topic from the controlled list, key terms
  that occur in the text, related slugs that exist;
- ``check_bibliography``: the ``.bib`` file parses, keys are unique and well formed, required fields are there;
- ``check_citations``: every ``[@key]`` of the docs resolves;
- ``check_mirror``: every review has its module and test, and every module has a review;
- ``check_fences``: every code fence is run, checked as output, or visibly skipped;
- ``check_html``: raw HTML and link URLs pass the allowlist of :mod:`kbsite.html_policy`;
- ``check_sections``: a review has the required sections, in order;
- ``check_links``: relative links to pages point to files that exist;
- ``check_placeholders``: no ``TODO`` left from the ``make new-review`` templates.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path

from kbsite import fences, html_policy
from kbsite.bibtex import BibFile, read_bibtex
from kbsite.citations import find_citations, mask_code, unknown_key
from kbsite.problems import Problem
from kbsite.reviews import TOPICS, Review, field_line, load_reviews

__all__ = ["CHECKS", "KEY_FORMAT", "RESERVED_SLUGS", "Problem", "key_term_problems", "main", "run_checks"]

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


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _str_list(value: object, most: int = 1000) -> bool:
    return isinstance(value, list) and 0 < len(value) <= most and all(_nonempty_str(t) for t in value)


# name -> (test of the value, what is expected); every review must have these fields.
FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "title": (_nonempty_str, "a non-empty string"),
    "bibkey": (_nonempty_str, "the paper's key in bibliography.bib"),
    "venue": (_nonempty_str, "a non-empty string such as ICDM"),
    "year": (lambda v: isinstance(v, int) and 1900 <= v <= 2100, "a four-digit year such as 2010"),
    "topic": (lambda v: v in TOPICS, "one of: " + "; ".join(TOPICS)),
    "tags": (_str_list, "a non-empty list of strings"),
    "key_terms": (lambda v: _str_list(v, 3), "a list of one to three phrases of the review that search must find"),
    "snippet": (lambda v: isinstance(v, str), "snippets.<slug>"),
}


def _words(text: str) -> str:
    """Lower-cased words separated by one space: punctuation, hyphens and markup do not split a phrase for search."""
    return " " + re.sub(r"[\W_]+", " ", text.casefold()) + " "


class Project:
    """The files of a checkout, each read once."""

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

    @cached_property
    def reviews(self) -> list[Review]:
        return sorted(load_reviews(self.root), key=lambda r: r.slug)

    @cached_property
    def bib(self) -> BibFile:
        return read_bibtex(self.root / "bibliography.bib")


def key_term_problems(review: Review) -> list[Problem]:
    """Why a review's ``key_terms`` cannot serve site search: missing, malformed, or not words of its own text (the
    browser tests search for them, so terms the page does not contain would make that test pass on luck)."""
    terms = review.meta.get("key_terms")
    ok, expected = FIELDS["key_terms"]
    if terms is None:
        return [Problem(review.rel, 1, "front matter lacks 'key_terms'", f"add key_terms: <{expected}>")]
    line = field_line(review.text, "key_terms")
    if not ok(terms):
        return [Problem(review.rel, line, f"front matter 'key_terms' is {terms!r}", f"expected {expected}")]
    body = _words(mask_code("".join(review.text.splitlines(keepends=True)[review.front.lines :])))
    # A word may continue ("interaction" is found in "interactions").
    return [
        Problem(
            review.rel,
            line,
            f"key term '{term}' does not occur in the review's text",
            "use a phrase the review itself contains (search must find it)",
        )
        for term in terms
        if _words(term).rstrip() not in body
    ]


# --- the checks ---------------------------------------------------------------------------------------------


def check_front_matter(project: Project) -> Iterator[Problem]:
    keys = project.bib.by_key
    slugs = {r.slug for r in project.reviews}
    for review in project.reviews:
        rel, text, front = review.rel, review.text, review.front
        if front.problem:
            yield front.problem
            continue
        if not front.present:
            yield Problem(rel, 1, "no front matter", "start the file with a --- block (see CONTRIBUTING.md)")
            continue
        data = front.data
        if review.slug in RESERVED_SLUGS:
            yield Problem(
                rel,
                1,
                f"slug '{review.slug}' is the name of a module of the standard library or a dependency",
                "rename the review's files",
            )
        for name, (ok, expected) in FIELDS.items():
            if name == "key_terms":
                continue  # key_term_problems below
            if name not in data:
                yield Problem(rel, 1, f"front matter lacks '{name}'", f"add {name}: <{expected}>")
            elif not ok(data[name]):
                yield Problem(
                    rel, field_line(text, name), f"front matter '{name}' is {data[name]!r}", f"expected {expected}"
                )
        if isinstance(data.get("snippet"), str) and data["snippet"] != f"snippets.{review.slug}":
            yield Problem(
                rel,
                field_line(text, "snippet"),
                f"snippet is '{data['snippet']}'",
                f"expected 'snippets.{review.slug}' (one slug everywhere)",
            )
        if _nonempty_str(data.get("bibkey")) and data["bibkey"] not in keys:
            yield Problem(
                rel,
                field_line(text, "bibkey"),
                f"bibkey '{data['bibkey']}' is not in bibliography.bib",
                "add the entry or fix the key",
            )
        yield from key_term_problems(review)
        links = data.get("links")
        if links is not None and not (
            isinstance(links, dict) and all(isinstance(v, str) and v.startswith("https://") for v in links.values())
        ):
            yield Problem(
                rel,
                field_line(text, "links"),
                "front matter 'links' must map names to https:// URLs",
                "write e.g. links: {code: https://github.com/...}",
            )
        related = data.get("related")
        if related is None:
            continue
        if not isinstance(related, list) or not all(
            isinstance(r, dict) and {"slug", "relation"} <= set(r) for r in related
        ):
            yield Problem(
                rel,
                field_line(text, "related"),
                "front matter 'related' must be a list of {slug, relation} mappings",
                "write e.g. - {slug: bert, relation: builds on it}",
            )
            continue
        for r in related:
            if r["slug"] not in slugs:
                yield Problem(
                    rel,
                    field_line(text, "related"),
                    f"related slug '{r['slug']}' has no review docs/reviews/{r['slug']}.md",
                    "fix the slug",
                )


def check_bibliography(project: Project) -> Iterator[Problem]:
    yield from project.bib.problems
    for entry in project.bib.entries:
        if not KEY_FORMAT.match(entry.key):
            yield Problem(
                "bibliography.bib",
                entry.line,
                f"key '{entry.key}' does not follow authorYEARword",
                "rename it (e.g. rendle2010fm) and its citations",
            )
        for name in REQUIRED_BIB_FIELDS.get(entry.type, ["title", "year"]):
            if name not in entry.fields:
                yield Problem(
                    "bibliography.bib",
                    entry.line,
                    f"@{entry.type} '{entry.key}' lacks the required field '{name}'",
                    "add it",
                )


def check_citations(project: Project) -> Iterator[Problem]:
    keys = project.bib.by_key
    for path in project.markdown_files():
        text = project.text(path)
        if text is None:
            continue
        for citation in find_citations(text):
            for key in citation.keys:
                if key not in keys:
                    yield unknown_key(project.rel(path), citation.line, key)


def check_mirror(project: Project) -> Iterator[Problem]:
    for review in project.reviews:
        for needed in (f"snippets/{review.slug}.py", f"tests/snippets/test_{review.slug}.py"):
            if not (project.root / needed).is_file():
                yield Problem(
                    review.rel,
                    1,
                    f"review '{review.slug}' has no {needed}",
                    f"create it (make new-review SLUG={review.slug} KEY=... scaffolds missing files)",
                )
    reviewed = {r.slug for r in project.reviews}
    for module in sorted((project.root / "snippets").glob("*.py")):
        if module.name != "__init__.py" and module.stem not in reviewed:
            yield Problem(
                project.rel(module),
                1,
                f"module '{module.stem}' has no review docs/reviews/{module.stem}.md",
                "write one or move the code",
            )


def check_fences(project: Project) -> Iterator[Problem]:
    for path in project.markdown_files():
        if project.text(path) is not None:
            yield from fences.check_fences(path, project.rel(path))


def check_html(project: Project) -> Iterator[Problem]:
    for path in project.markdown_files():
        text = project.text(path)
        if text is not None:
            yield from html_policy.markdown_problems(text, project.rel(path))
            yield from html_policy.url_problems(text, project.rel(path))


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
                yield Problem(
                    project.rel(path),
                    raw[: exc.start].count(b"\n") + 1,
                    f"not UTF-8 (byte 0x{raw[exc.start]:02x})",
                    "save the file as UTF-8",
                )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_sections(project: Project) -> Iterator[Problem]:
    for review in project.reviews:
        masked = mask_code(review.text)
        found = [
            (m.group(1).strip(), _line_of(masked, m.start()))
            for m in re.finditer(r"^## +(.+?)\s*$", masked, re.MULTILINE)
        ]
        titles = [t for t, _ in found]
        for heading in re.finditer(r"^#{1,6} +.*(?:\$|\\\(|\\\[).*$", masked, re.MULTILINE):
            yield Problem(
                review.rel,
                _line_of(masked, heading.start()),
                "math in a heading",
                "write the symbol as text (ε, not $\\epsilon$): the table of contents shows headings as "
                "plain text, where TeX stays raw",
            )
        if not re.search(r"^# +\S", masked, re.MULTILINE):
            yield Problem(review.rel, 1, "no '# Title' heading", "add one after the front matter")
        missing = [s for s in REQUIRED_SECTIONS if s not in titles]
        for section in missing:
            yield Problem(
                review.rel, 1, f"missing section '## {section}'", f"add it (order: {', '.join(REQUIRED_SECTIONS)})"
            )
        present = [t for t in titles if t in REQUIRED_SECTIONS]
        expected = [s for s in REQUIRED_SECTIONS if s in present]
        if not missing and present != expected:
            first_bad = next(i for i, (a, b) in enumerate(zip(present, expected)) if a != b)
            line = next(line for title, line in found if title == present[first_bad])
            yield Problem(
                review.rel,
                line,
                f"section '## {present[first_bad]}' is out of order",
                f"expected '## {expected[first_bad]}' here",
            )


_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


# Pages the kb plugin generates: links to them are valid though no file in docs/ holds them.
def _generated(project: Project) -> set[str]:
    return {"bibliography.bib"} | {f"api/{r.module}.md" for r in project.reviews}


def check_links(project: Project) -> Iterator[Problem]:
    generated = _generated(project)
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
            in_docs = (
                resolved.relative_to(project.docs.resolve()).as_posix()
                if resolved.is_relative_to(project.docs.resolve())
                else None
            )
            if in_docs in generated:
                continue
            if not resolved.exists():
                yield Problem(
                    project.rel(path),
                    _line_of(masked, match.start()),
                    f"link to '{match.group(1)}' points to no file",
                    "fix the path (relative to this page)",
                )


def check_placeholders(project: Project) -> Iterator[Problem]:
    paths = [r.path for r in project.reviews]
    for r in project.reviews:
        paths += [project.root / "snippets" / f"{r.slug}.py", project.root / "tests" / "snippets" / f"test_{r.slug}.py"]
    for path in paths:
        text = project.text(path) if path.is_file() else None
        for number, line in enumerate((text or "").splitlines(), start=1):
            if "TODO" in line:
                yield Problem(
                    project.rel(path),
                    number,
                    "placeholder 'TODO' left from the template",
                    "replace it with real content",
                )
    bib = project.text(project.root / "bibliography.bib") or ""
    for number, line in enumerate(bib.splitlines(), start=1):
        if "TODO" in line:
            yield Problem(
                "bibliography.bib",
                number,
                "placeholder 'TODO' in a bibliography entry",
                "fill in the field from the paper",
            )


CHECKS: list[Callable[[Project], Iterator[Problem]]] = [
    check_encoding,
    check_front_matter,
    check_bibliography,
    check_citations,
    check_mirror,
    check_fences,
    check_html,
    check_sections,
    check_links,
    check_placeholders,
]


def run_checks(root: Path) -> list[Problem]:
    """Every problem of the checkout at ``root``, sorted by file and line."""
    project = Project(root.resolve())
    return sorted({p for check in CHECKS for p in check(project)})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    problems = run_checks(root)
    for problem in problems:
        print(problem)
    reviews = len(Project(root.resolve()).reviews)
    if problems:
        print(
            f"\n{len(problems)} problem(s) found in {reviews} review(s). Fix them and run `make check` again.",
            file=sys.stderr,
        )
        return 1
    print(f"make check: no problems in {reviews} review(s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
