"""Read ``bibliography.bib``: the one place the project parses BibTeX.

:func:`read_bibtex` turns the file into :class:`BibEntry` records (key, type, fields, the line the entry starts
on and its text exactly as written) plus the :class:`~kbsite.problems.Problem` list of what could not be read.
The MkDocs plugin (formatted references, the bibliography page), the content checker, the scaffolder and the
benchmarks all read the file through it.

The grammar is the part of BibTeX a bibliography of papers needs: ``@type{key, name = {value}, ...}`` (or
parentheses around the entry), values in braces, in double quotes or bare (numbers, month macros), ``#``
concatenation, and ``@comment``/``@preamble``/``@string`` blocks, which are skipped. Whitespace inside a value
collapses to one space, as BibTeX does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kbsite.problems import Problem

__all__ = ["BibEntry", "BibFile", "parse_bibtex", "read_bibtex"]

SPECIAL_TYPES = {"comment", "preamble", "string"}
_AT = re.compile(r"@[ \t]*([A-Za-z]+)[ \t]*([{(])")
_KEY = re.compile(r"\s*([^,\s{}()\"#%'=]+)\s*,")
_NAME = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_BARE = re.compile(r"[\w.:+-]+")
_SPACE = re.compile(r"\s+")
# BibTeX's predefined macros: a bare ``month = jun`` means "June".
_MONTHS = dict(
    zip(
        "jan feb mar apr may jun jul aug sep oct nov dec".split(),
        ("January February March April May June July August September October November December".split()),
    )
)


@dataclass(frozen=True)
class BibEntry:
    """One entry of the file.

    Attributes:
        key: the citation key as written.
        type: the entry type, lower-cased (``inproceedings``).
        fields: field name (lower-cased) -> value without its outer braces or quotes; inner braces are kept
            (``{ELECTRA}: Pre-training ...``).
        line: the line of the ``@`` that starts the entry.
        source: the entry's text exactly as written in the file.
    """

    key: str
    type: str
    fields: dict[str, str]
    line: int
    source: str


@dataclass
class BibFile:
    """Every entry of a ``.bib`` file, in file order, and the problems met reading it."""

    path: str
    entries: list[BibEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def by_key(self) -> dict[str, BibEntry]:
        """Entries by key; a duplicated key keeps its first entry (the second is a problem)."""
        out: dict[str, BibEntry] = {}
        for entry in self.entries:
            out.setdefault(entry.key, entry)
        return out


class _SyntaxProblem(Exception):
    def __init__(self, offset: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.offset, self.message, self.hint = offset, message, hint


class _Reader:
    """A cursor over the file's text that knows line numbers."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        lo, hi = 0, len(self._line_starts)
        while hi - lo > 1:  # the last line start at or before offset
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self._line_starts[mid] <= offset else (lo, mid)
        return lo + 1

    def problem(self, offset: int, message: str, hint: str) -> Problem:
        return Problem(self.path, self.line(offset), message, hint)

    def braced(self, start: int) -> int:
        """The offset just after the ``}`` that closes the ``{`` at ``start``."""
        depth = 0
        for i in range(start, len(self.text)):
            if self.text[i] == "{":
                depth += 1
            elif self.text[i] == "}":
                depth -= 1
                if depth == 0:
                    return i + 1
        raise _SyntaxProblem(start, "a '{' is never closed", "close the entry's braces")

    def closing(self, start: int, closer: str) -> int:
        """The offset just after the first ``closer`` outside braces after ``start`` (``"`` or ``)``)."""
        depth = 0
        for i in range(start + 1, len(self.text)):
            ch = self.text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == closer and depth == 0:
                return i + 1
        raise _SyntaxProblem(start, f"a '{self.text[start]}' is never closed", f"close it with {closer!r}")

    def entry_end(self, start: int, opener: str) -> int:
        """The offset just after the delimiter that closes the entry opened at ``start``."""
        return self.braced(start) if opener == "{" else self.closing(start, ")")


def _brace_problems(reader: _Reader) -> list[Problem]:
    """Unbalanced braces, found line by line so the message can say where the trouble starts."""
    problems = []
    depth, opened_at = 0, 0
    for offset, ch in enumerate(reader.text):
        if ch == "{":
            if depth == 0:
                opened_at = offset
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                problems.append(reader.problem(offset, "a '}' closes nothing", "remove it or add the matching '{'"))
                depth = 0
    if depth > 0:
        problems.append(
            reader.problem(opened_at, f"{depth} unclosed '{{' from this line on", "close the entry's braces")
        )
    return problems


def _value(reader: _Reader, pos: int, close: str) -> tuple[str, int]:
    """One field value (pieces joined by ``#``) starting at ``pos``; returns it and the offset after it."""
    text = reader.text
    pieces = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise _SyntaxProblem(pos, "the file ends inside a field value", "finish the entry")
        if text[pos] == "{":
            end = reader.braced(pos)
            pieces.append(text[pos + 1 : end - 1])
        elif text[pos] == '"':
            end = reader.closing(pos, '"')
            pieces.append(text[pos + 1 : end - 1])
        else:
            bare = _BARE.match(text, pos)
            if bare is None:
                raise _SyntaxProblem(
                    pos,
                    f"unexpected {text[pos]!r} where a field value should start",
                    "write the value in braces: name = {value}",
                )
            end = bare.end()
            pieces.append(_MONTHS.get(bare.group(0).lower(), bare.group(0)))
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "#":
            pos += 1
            continue
        if pos < len(text) and text[pos] in "," + close:
            return _SPACE.sub(" ", "".join(pieces)).strip(), pos
        raise _SyntaxProblem(
            pos, "a field value is not followed by ',' or the end of the entry", "separate fields with commas"
        )


def _entry(reader: _Reader, at: int, kind: str, opener: str, body: int) -> tuple[BibEntry, int]:
    """Parse the entry whose ``@`` is at ``at`` and whose body starts at ``body``."""
    text = reader.text
    close = "}" if opener == "{" else ")"
    end = reader.entry_end(body - 1, opener)
    key = _KEY.match(text, body)
    if key is None:
        raise _SyntaxProblem(
            body, f"@{kind} entry has no key followed by a comma", "write @type{key, field = {value}, ...}"
        )
    pos = key.end()
    fields: dict[str, str] = {}
    while True:
        while pos < end and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= end - 1:
            break
        name = _NAME.match(text, pos)
        if name is None:
            raise _SyntaxProblem(pos, f"entry '{key.group(1)}': expected 'name = value'", "check the field's syntax")
        value, pos = _value(reader, name.end(), close)
        fields[name.group(1).lower()] = value
    return BibEntry(key.group(1), kind, fields, reader.line(at), text[at:end]), end


def parse_bibtex(text: str, path: str = "bibliography.bib") -> BibFile:
    """Every entry of ``text``; ``path`` is the name problems are reported under."""
    reader = _Reader(text, path)
    result = BibFile(path, problems=_brace_problems(reader))
    if result.problems:
        return result  # with unbalanced braces no entry boundary can be trusted
    first_line: dict[str, int] = {}
    pos = 0
    while (start := text.find("@", pos)) != -1:
        match = _AT.match(text, start)
        if match is None:
            pos = start + 1
            continue
        kind, opener = match.group(1).lower(), match.group(2)
        try:
            if kind in SPECIAL_TYPES:
                pos = reader.entry_end(match.end() - 1, opener)
                continue
            entry, pos = _entry(reader, start, kind, opener, match.end())
        except _SyntaxProblem as exc:
            result.problems.append(reader.problem(exc.offset, exc.message, exc.hint))
            try:
                pos = reader.entry_end(match.end() - 1, opener)
            except _SyntaxProblem:
                break
            continue
        folded = entry.key.lower()
        if folded in first_line:
            result.problems.append(
                reader.problem(
                    start,
                    f"duplicate key '{entry.key}' (first defined on line {first_line[folded]})",
                    "remove one entry or rename it",
                )
            )
            continue
        first_line[folded] = entry.line
        result.entries.append(entry)
    return result


def read_bibtex(path: Path, name: str = "bibliography.bib") -> BibFile:
    """The entries of the file at ``path``; a missing or non-UTF-8 file is reported as a problem under ``name``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BibFile(name, problems=[Problem(name, 1, "bibliography.bib is missing", "restore it from main")])
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        return BibFile(name, problems=[Problem(name, line, f"not UTF-8 ({exc.reason})", "save the file as UTF-8")])
    return parse_bibtex(text, name)
