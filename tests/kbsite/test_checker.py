"""Tests of kbsite.checker: the real content passes, and every bad contribution of the corpus is caught."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kbsite.checker import CHECKS, main, run_checks

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
CASES = yaml.safe_load((CORPUS / "bad.yaml").read_text(encoding="utf-8"))


def _apply(case: dict, dest: Path) -> Path:
    shutil.copytree(CORPUS / "good", dest)
    for edit in case.get("edits", []):
        path = dest / edit["file"]
        text = path.read_text(encoding="utf-8")
        assert edit["old"] in text, f"corpus edit does not apply: {edit['old']!r}"
        path.write_text(text.replace(edit["old"], edit["new"], 1), encoding="utf-8")
    for name, content in case.get("files", {}).items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(content, encoding="utf-8")
    for name, b64 in case.get("bytes", {}).items():
        (dest / name).write_bytes(base64.b64decode(b64))
    for name in case.get("delete", []):
        (dest / name).unlink()
    return dest


def test_real_content_passes_the_checker() -> None:
    problems = run_checks(ROOT)
    assert problems == [], "\n" + "\n".join(map(str, problems))


def test_good_corpus_passes() -> None:
    assert run_checks(CORPUS / "good") == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_contribution_is_caught_with_its_file(name: str, tmp_path: Path) -> None:
    project = _apply(CASES[name], tmp_path / "project")
    reported = [str(p) for p in run_checks(project)]
    for expected in CASES[name]["expect"]:
        assert any(line.startswith(expected) for line in reported), f"{expected!r} not in:\n" + "\n".join(reported)
    assert all(" — " in line for line in reported), "every problem says how to fix it"


# Which check function each case exercises, by the case name's prefix.
CHECK_OF_PREFIX = {
    "front_matter": "check_front_matter",
    "reserved_slug": "check_front_matter",
    "bib": "check_bibliography",
    "unknown_citation": "check_citations",
    "review_without": "check_mirror",
    "module_without": "check_mirror",
    "fence": "check_fences",
    "include": "check_fences",
    "html": "check_html",
    "not_utf8": "check_encoding",
    "missing_section": "check_sections",
    "sections_out": "check_sections",
    "sections_math": "check_sections",
    "broken_internal": "check_links",
    "todo_left": "check_placeholders",
}


def test_corpus_covers_every_check() -> None:
    covered = {check for name in CASES for prefix, check in CHECK_OF_PREFIX.items() if name.startswith(prefix)}
    assert covered == {c.__name__ for c in CHECKS}
    assert all(any(name.startswith(p) for p in CHECK_OF_PREFIX) for name in CASES)


def test_all_problems_are_reported_at_once_with_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = {"edits": CASES["front_matter_missing_field"]["edits"] + CASES["broken_internal_link"]["edits"]}
    project = _apply(case, tmp_path / "project")
    assert main([str(project)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        len(out) == 2 and out[0].startswith("docs/reviews/demo.md:1:") and out[1].startswith("docs/reviews/demo.md:31:")
    )  # one line up: venue was removed


def test_checker_runs_without_importing_torch() -> None:
    code = (
        "import sys, kbsite.checker; kbsite.checker.run_checks(__import__('pathlib').Path('.')); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
