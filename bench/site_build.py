"""Site build time as the site grows: the project's configuration vs a plain Material configuration.

In a temporary copy of the project (what ``tests/helpers.copy_project`` copies), N synthetic reviews generated from
``bench/review_template.md`` (math, citations, snippet includes and code in fences marked skip, a table,
admonitions) are added to ``docs/reviews/``. The same ``docs/`` is then built with

* ``project``: the project's own ``mkdocs.yml`` (the kb plugin, mkdocstrings, tags, search, arithmatex,
  snippets, highlighting, validation);
* ``plain``: ``site_name`` and ``theme: material`` and nothing else (MkDocs adds its default search plugin).

Each build is a fresh ``python -m mkdocs build`` process, timed by wall clock (what a contributor waits, start-up
included) and by the CPU time of the process (user + system, which load from other processes inflates much less);
builds of the two configurations alternate. The builds are not ``--strict``: every synthetic review's
paper card links to ``api/<slug>.md``, which does not exist, so the project build logs one warning per synthetic
review. Those warnings are counted and every other warning is reported.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import interleaved, load

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
from tests.helpers import copy_project  # noqa: E402  (the same copy the site tests build)

SIZES = (6, 100, 300, 1000)
# Builds per configuration and size, alternating. A 1000-page build takes a minute or two, so the large sizes get
# one build each; medians of 30 were out of reach within the time budget of `make bench`.
BUILDS = {6: 3, 100: 3, 300: 1, 1000: 1}
TAGS = ["recommender systems", "factorization", "sparse data", "language models", "pre-training", "music",
        "generative models", "transfer learning", "attention", "contextual embeddings", "benchmarks", "synthetic"]
PLAIN_CONFIG = "site_name: Plain Material\ntheme:\n  name: material\n"
_BUILT_IN = re.compile(r"Documentation built in ([0-9.]+) seconds")
_MISSING_API = re.compile(r"'(?:\.\./)?api/synth-\d+\.md', but the target 'api/synth-\d+\.md' is not found")


def copy_for_build(dest: Path) -> Path:
    """``copy_project``'s copy, plus any path the config's ``watch:`` list names (MkDocs checks they exist)."""
    copy_project(dest)
    lines = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    if "watch:" in lines:
        for line in lines[lines.index("watch:") + 1:]:
            match = re.match(r"^\s+-\s+(\S+)\s*$", line)
            if match is None:
                break
            src, dst = ROOT / match.group(1), dest / match.group(1)
            if src.exists() and not dst.exists():
                if src.is_dir():
                    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, dst)
    return dest


def write_reviews(docs: Path, n: int) -> None:
    template = (BENCH / "review_template.md").read_text(encoding="utf-8")
    for i in range(1, n + 1):
        tags = ", ".join(TAGS[(i + j) % len(TAGS)] for j in range(3))
        page = template.replace("{{n}}", f"{i:04d}").replace("{{year}}", str(2000 + i % 25)).replace("{{tags}}", tags)
        (docs / "reviews" / f"synth-{i:04d}.md").write_text(page, encoding="utf-8")


def _build(project: Path, config: str, site: Path) -> dict[str, object]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SITE_URL", None)
    if site.exists():
        shutil.rmtree(site)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", config, "--site-dir", str(site)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"mkdocs build -f {config} failed:\n{output[-3000:]}")
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    built = _BUILT_IN.search(output)
    return {
        "wall_s": wall,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "mkdocs_s": float(built.group(1)) if built else None,
        "missing_api_warnings": sum(1 for w in warnings if _MISSING_API.search(w)),
        "other_warnings": [w for w in warnings if not _MISSING_API.search(w)],
    }


def run(quick: bool = False) -> dict[str, object]:
    sizes = (6, 100) if quick else SIZES
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-site-") as tmp:
        project = copy_for_build(Path(tmp) / "project")
        (project / "mkdocs-plain.yml").write_text(PLAIN_CONFIG, encoding="utf-8")
        base_pages = len(list((project / "docs").rglob("*.md")))
        for n in sizes:
            write_reviews(project / "docs", n)  # pages 1..n; the smaller sizes' pages are rewritten unchanged
            pages = len(list((project / "docs").rglob("*.md")))
            builds: dict[str, list[dict[str, object]]] = {"project": [], "plain": []}
            before = load()
            for r in range(1 if quick else BUILDS[n]):
                order = ["project", "plain"] if r % 2 == 0 else ["plain", "project"]
                for name in order:
                    config = "mkdocs.yml" if name == "project" else "mkdocs-plain.yml"
                    builds[name].append(_build(project, config, Path(tmp) / f"site-{name}"))
            row: dict[str, object] = {"reviews": n, "pages": pages, "load": [before, load()]}
            for name, runs in builds.items():
                wall = statistics.median(b["wall_s"] for b in runs)
                cpu = statistics.median(b["cpu_s"] for b in runs)
                row[name] = {
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "ms_per_page": 1000 * wall / pages,
                    "cpu_ms_per_page": 1000 * cpu / pages,
                    "mkdocs_s": statistics.median(b["mkdocs_s"] or 0.0 for b in runs),
                    "builds": len(runs),
                    "walls": [round(b["wall_s"], 3) for b in runs],
                    "missing_api_warnings": runs[0]["missing_api_warnings"],
                    "other_warnings": runs[0]["other_warnings"][:20],
                    "other_warning_count": len(runs[0]["other_warnings"]),
                }
            row["ratio"] = row["project"]["wall_s"] / row["plain"]["wall_s"]
            row["cpu_ratio"] = row["project"]["cpu_s"] / row["plain"]["cpu_s"]
            rows.append(row)
    return {"base_pages": base_pages, "builds_per_size": {str(k): v for k, v in BUILDS.items()}, "rows": rows}
