"""Wall time of a warm ``make test``: one run, with .venv installed and the files in the page cache.

One run only (the suite takes on the order of a minute); the pytest summary line and the exit status are kept,
so a failing or interrupted suite is visible on the page instead of passing for a fast one.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time

from bench import ROOT
from bench.timing import load

_SUMMARY = re.compile(r"^=+ (.*\bin [0-9.]+s.*) =+$")


def run(quick: bool = False) -> dict[str, object]:
    if quick:
        return {"skipped": "quick run"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    before = load()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        ["make", "test"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = (proc.stdout + proc.stderr).splitlines()
    summary = next((m.group(1) for line in reversed(lines) if (m := _SUMMARY.match(line))), None)
    return {
        "wall_s": wall,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "returncode": proc.returncode,
        "summary": summary,
        "load": [before, load()],
    }
