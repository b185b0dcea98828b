"""Tests of kbsite.fences: every fence of the docs is run, checked as output, or visibly skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.fences import check_fences, classify_fences

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_classification(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "```python\nprint(1)\n```\n\n<!--pytest-codeblocks:expected-output-->\n```text\n1\n```\n\n"
        '<!--pytest.mark.skip-->\n```python title="x.py"\n--8<-- "x.py:a"\n```\n\n'
        '```py\nprint(2)\n```\n\n~~~python\nprint(3)\n~~~\n\n```python linenums="1"\nprint(4)\n```\n',
    )
    got = [(f.line, f.info, f.status) for f in classify_fences(path)]
    assert got == [
        (1, "python", "run"),
        (11, 'python title="x.py"', "skipped"),
        (15, "py", "silent"),
        (19, "python", "silent"),
        (23, 'python linenums="1"', "silent"),
    ]
    problems = check_fences(path, "d.md")
    assert [(p.path, p.line) for p in problems] == [("d.md", 15), ("d.md", 19), ("d.md", 23)]
    assert "never run by pytest-codeblocks" in problems[0].message


def test_unmarked_include_fence_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, '```python\n--8<-- "snippets/fm.py:forward"\n```\n')
    (problem,) = check_fences(path, "d.md")
    assert str(problem).startswith("d.md:1: this fence holds a --8<-- include")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fence_of_the_real_docs_is_accounted_for(path: Path) -> None:
    assert check_fences(path, path.name) == []


def test_every_review_has_a_checked_runnable_example() -> None:
    for path in sorted((ROOT / "docs" / "reviews").glob("*.md")):
        if path.name == "index.md":
            continue
        assert any(f.status == "run" and f.info == "python" for f in classify_fences(path)), path
        assert "<!--pytest-codeblocks:expected-output-->" in path.read_text(encoding="utf-8"), path
