"""Helpers shared by the test suites: build the site, copy the project, list pages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["mkdocs.yml", "bibliography.bib", "README.md", "CONTRIBUTING.md", "docs", "snippets", "kbsite"]


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    site: Path


def build_site(project: Path, site: Path, env: Mapping[str, str] | None = None) -> Build:
    """Run ``mkdocs build --strict`` for the project at ``project`` into ``site``.

    ``SITE_URL`` from the caller's environment is ignored; pass it in ``env`` (extra variables for the build).
    """
    base = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    base.pop("SITE_URL", None)
    env = {**base, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Build(proc.returncode, proc.stdout + proc.stderr, site)


def copy_project(dest: Path) -> Path:
    """A throw-away copy of what the site build reads, for tests that break it on purpose."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.parts)
