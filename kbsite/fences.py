"""Which code fences of the docs pytest-codeblocks runs, and which it would skip without a word.

pytest-codeblocks runs only fences whose info string is exactly ``python``, ``sh`` or ``bash``. Everything else
(```` ```py ````, ```` ```python title="x" ````, ``~~~`` fences, ```` ```yaml ````) is silently not collected. This
module reads a Markdown file with pytest-codeblocks' own parser and reports every fence that is neither run, nor
the expected output of a run, nor visibly marked with ``<!--pytest.mark.skip-->``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from pytest_codeblocks.main import extract_from_buffer

from kbsite.problems import Problem

__all__ = ["Fence", "check_fences", "classify_fences"]

RUNNABLE = {"python", "sh", "bash"}
_TILDE_FENCE = re.compile(r"^\s*~{3,}")
_INCLUDE = re.compile(r"^\s*-{1,}8<-{1,}\s", re.MULTILINE)


@dataclass(frozen=True)
class Fence:
    """One fenced block as pytest-codeblocks sees it."""

    path: Path
    line: int
    info: str
    status: str  # "run", "skipped" or "silent"
    is_include: bool


def classify_fences(path: Path) -> list[Fence]:
    """Every fence of ``path`` with what pytest-codeblocks does with it."""
    text = path.read_text(encoding="utf-8")
    fences = []
    for block in extract_from_buffer(io.StringIO(text)):
        info = (block.syntax or "").strip()
        skipped = any(m.startswith("pytest.mark.skip") for m in block.marks)
        if skipped:
            status = "skipped"
        elif info in RUNNABLE:
            status = "run"
        else:
            status = "silent"
        fences.append(Fence(path, block.lineno, info, status, bool(_INCLUDE.search(block.code))))
    tilde_open = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _TILDE_FENCE.match(line):
            if not tilde_open:
                fences.append(Fence(path, number, line.strip().lstrip("~").strip(), "silent", False))
            tilde_open = not tilde_open
    return sorted(fences, key=lambda f: f.line)


def check_fences(path: Path, rel: str) -> list[Problem]:
    """Every fence of ``path`` that is silently not run, or that would run an include line; ``rel`` names the file."""
    problems = []
    for fence in classify_fences(path):
        if fence.status == "silent":
            problems.append(
                Problem(
                    rel,
                    fence.line,
                    f"fence '{fence.info or '(no info string)'}' is never run by pytest-codeblocks",
                    "use a plain ```python fence (no attributes, backticks not tildes) or put <!--pytest.mark.skip--> "
                    "on the line above it",
                )
            )
        elif fence.status == "run" and fence.is_include:
            problems.append(
                Problem(
                    rel,
                    fence.line,
                    "this fence holds a --8<-- include and would be run as code",
                    "put <!--pytest.mark.skip--> on the line above it (the module's tests run the included code)",
                )
            )
    return problems
