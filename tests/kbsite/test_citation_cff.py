"""CITATION.cff is valid Citation File Format, checked by cffconvert against the CFF schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    cffconvert = shutil.which("cffconvert", path=str(Path(sys.executable).parent))
    assert cffconvert, "cffconvert is pinned in requirements/test.txt"
    return subprocess.run([cffconvert, "--validate", "-i", str(path)], capture_output=True, text=True)


def test_citation_cff_is_valid() -> None:
    result = _validate(ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "CITATION.cff"
    broken.write_text(
        (ROOT / "CITATION.cff")
        .read_text(encoding="utf-8")
        .replace("cff-version: 1.2.0", "cff-version: 1.2.0\nauthors: nobody"),
        encoding="utf-8",
    )
    assert _validate(broken).returncode != 0
