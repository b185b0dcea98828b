"""Tests of kbsite.scaffold (make new-review): one slug names every file, nothing is ever overwritten."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbsite.checker import run_checks
from kbsite.scaffold import ScaffoldError, main, scaffold

CORPUS_GOOD = Path(__file__).parent / "corpus" / "good"
FILES = ["docs/reviews/bert.md", "snippets/bert.py", "tests/snippets/test_bert.py"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CORPUS_GOOD, tmp_path / "project"))


def _fill_template(project: Path) -> None:
    """Do what a contributor does: replace every TODO with real content."""
    review = project / "docs" / "reviews" / "bert.md"
    text = (
        review.read_text(encoding="utf-8")
        .replace("year: TODO", "year: 2019")
        .replace("[TODO tag]", "[language models]")
    )
    text = re.sub(r"topic: TODO[^\n]*", "topic: language models", text)
    review.write_text(
        re.sub(r"TODO[^\n]*", "Written by the contributor.", text).replace(
            "https://github.com/Written by the contributor.", "https://example.org/bert"
        ),
        encoding="utf-8",
    )
    for rel in ("snippets/bert.py", "tests/snippets/test_bert.py"):
        path = project / rel
        path.write_text(path.read_text(encoding="utf-8").replace("TODO", "Filled in:"), encoding="utf-8")
    bib = project / "bibliography.bib"
    text = bib.read_text(encoding="utf-8")
    text = text.replace("{TODO Surname, First and Surname, First}", "{Devlin, Jacob}").replace("{TODO}", "{2019}")
    bib.write_text(text.replace("TODO ", ""), encoding="utf-8")


def test_scaffold_creates_the_mirrored_files_and_a_bib_stub(project: Path) -> None:
    written = scaffold(project, "bert", "devlin2019bert")
    assert [p.relative_to(project).as_posix() for p in written] == FILES + ["bibliography.bib"]
    assert "bibkey: devlin2019bert" in (project / FILES[0]).read_text(encoding="utf-8")
    assert not (project / "docs" / "api" / "bert.md").exists()  # the build generates the API page
    assert "@inproceedings{devlin2019bert," in (project / "bibliography.bib").read_text(encoding="utf-8")


def test_unfilled_template_is_flagged_by_the_checker(project: Path) -> None:
    scaffold(project, "bert", "devlin2019bert")
    problems = [str(p) for p in run_checks(project)]
    assert any(p.startswith("docs/reviews/bert.md:2: placeholder 'TODO'") for p in problems)
    assert any(p.startswith("bibliography.bib:") and "TODO" in p for p in problems)


def test_filled_template_passes_the_checker_and_its_tests(project: Path) -> None:
    scaffold(project, "bert", "devlin2019bert")
    _fill_template(project)
    assert [str(p) for p in run_checks(project)] == []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/snippets/test_bert.py",
            "--codeblocks",
            "docs/reviews/bert.md",
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout  # two unit tests and the review's runnable example


def test_refuses_to_overwrite_and_writes_nothing(project: Path) -> None:
    existing = project / "snippets" / "bert.py"
    existing.write_text("# my work\n", encoding="utf-8")
    before = (project / "bibliography.bib").read_text(encoding="utf-8")
    with pytest.raises(ScaffoldError, match="refusing to overwrite existing file\\(s\\): snippets/bert.py"):
        scaffold(project, "bert", "devlin2019bert")
    assert existing.read_text(encoding="utf-8") == "# my work\n"
    assert not (project / "docs" / "reviews" / "bert.md").exists()
    assert (project / "bibliography.bib").read_text(encoding="utf-8") == before


def test_existing_bib_entry_is_kept(project: Path) -> None:
    before = (project / "bibliography.bib").read_text(encoding="utf-8")
    written = scaffold(project, "demo2", "doe2020demo")
    assert project / "bibliography.bib" not in written
    assert (project / "bibliography.bib").read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("slug", "key", "message"),
    [
        ("BERT", "devlin2019bert", "SLUG 'BERT'"),
        ("json", "devlin2019bert", "SLUG 'json' is a module"),
        ("bert", "Devlin2019", "KEY 'Devlin2019'"),
    ],
)
def test_bad_names(project: Path, slug: str, key: str, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        scaffold(project, slug, key)


def test_cli_usage_and_exit_codes(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    assert main([]) == 2 and "usage: make new-review" in capsys.readouterr().err
    assert main(["bert", "devlin2019bert"]) == 0 and "created  docs/reviews/bert.md" in capsys.readouterr().out
    assert main(["bert", "devlin2019bert"]) == 1 and "refusing to overwrite" in capsys.readouterr().err
