"""The one shape in which every check reports a problem: where it is, what is wrong, and how to fix it.

The content checker prints problems as ``path:line: message — hint``; the MkDocs plugin logs the same text as a
warning, so ``mkdocs build --strict`` fails on it. Nothing parses that text back.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem of a contribution.

    Attributes:
        path: the file, relative to the project root (``docs/reviews/fm.md``).
        line: the 1-based line in that file (1 when the problem concerns the whole file).
        message: what is wrong.
        hint: how to fix it.
    """

    path: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" + (f" — {self.hint}" if self.hint else "")
