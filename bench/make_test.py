"""The contributor's loops, warm (.venv installed, files in the page cache): one ``make test`` and one
``make test-review SLUG=fm``.

Three runs each, one after the other, and the run with the median wall clock is the one reported (with every run's
wall clock): on the shared 2-core machine the same suite has taken from 57 to 70 s, so one run says little. For
each: wall clock, the CPU the machine spent meanwhile
(busy core-seconds from /proc/stat, which counts Chromium's processes too; the run's own child-process CPU misses
those), the pytest summary line and the exit status, so a failing or interrupted suite is visible on the page
instead of passing for a fast one. ``make test`` runs with ``--durations=0`` (through ``PYTEST_ADDOPTS``) so that
each test's time can be put down to the review it belongs to: what a review costs the suite is the time of the
tests that carry its slug (its snippet tests, its code blocks, its review page and its API page in Chromium); the
rest is the fixed cost of the suite (tooling tests, the builds, the other pages, the sampled interactions).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.timing import load

_SUMMARY = re.compile(r"^=+ (.*\bin [0-9.]+s.*) =+$")
_DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown) +(\S+)")


def _busy_jiffies() -> int:
    """Busy (not idle, not waiting for I/O) jiffies of all CPUs since boot; 0 where /proc/stat is missing."""
    stat = Path("/proc/stat")
    if not stat.is_file():
        return 0
    fields = [int(x) for x in stat.read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)


def _run(command: list[str], extra_env: dict[str, str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"} | extra_env
    before = load()
    busy0 = _busy_jiffies()
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.perf_counter() - start
    busy1 = _busy_jiffies()
    lines = (proc.stdout + proc.stderr).splitlines()
    summary = next((m.group(1) for line in reversed(lines) if (m := _SUMMARY.match(line))), None)
    hz = os.sysconf("SC_CLK_TCK")
    return {
        "command": " ".join(command),
        "wall_s": wall,
        "busy_core_s": (busy1 - busy0) / hz,
        "cores": os.cpu_count(),
        "returncode": proc.returncode,
        "summary": summary,
        "failed": [line for line in lines if line.startswith(("FAILED", "ERROR"))][:10],
        "load": [before, load()],
        "lines": lines,
    }


def _slug_of(test_id: str, slugs: list[str]) -> str | None:
    for slug in slugs:
        if (
            f"[{slug}]" in test_id
            or f"[api/{slug}/]" in test_id
            or f"tests/snippets/test_{slug}.py" in test_id
            or test_id.startswith(f"docs/reviews/{slug}.md")
        ):
            return slug
    return None


def per_review(lines: list[str], slugs: list[str]) -> dict[str, Any]:
    """Test time (setup, call and teardown, summed over the workers) by review, and the rest."""
    by_slug = dict.fromkeys(slugs, 0.0)
    rest = 0.0
    for line in lines:
        m = _DURATION.match(line)
        if not m:
            continue
        slug = _slug_of(m.group(3), slugs)
        if slug is None:
            rest += float(m.group(1))
        else:
            by_slug[slug] += float(m.group(1))
    return {"by_review_s": by_slug, "rest_s": rest}


RUNS = 3


def _median_run(command: list[str], extra_env: dict[str, str], runs: int) -> dict[str, Any]:
    """``runs`` runs of ``command``; the one with the median wall clock, with every run's wall clock and busy
    core-seconds, and the exit status and failures of any run that failed."""
    results = [_run(command, extra_env) for _ in range(runs)]
    median = dict(sorted(results, key=lambda r: r["wall_s"])[(runs - 1) // 2])
    failed = next((r for r in results if r["returncode"] != 0), None)
    if failed is not None:
        median.update(returncode=failed["returncode"], failed=failed["failed"], summary=failed["summary"])
    median.update(runs=runs, walls=[r["wall_s"] for r in results], busy=[r["busy_core_s"] for r in results])
    return median


def run(quick: bool = False, runs: int = RUNS) -> dict[str, object]:
    if quick:
        return {"skipped": "quick run"}
    slugs = sorted(p.stem for p in (ROOT / "docs" / "reviews").glob("*.md") if p.stem != "index")
    full = _median_run(["make", "test"], {"PYTEST_ADDOPTS": "--durations=0 --durations-min=0"}, runs)
    full.update(per_review(full.pop("lines"), slugs))
    one = _median_run(["make", "test-review", "SLUG=fm"], {}, runs)
    one.pop("lines")
    return {**full, "test_review": one}
