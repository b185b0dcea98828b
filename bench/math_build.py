"""What typesetting math at build time costs the strict site build, and how the candidate engines compare.

Usage: ``python bench/math_build.py [--quick] [--builds N]`` prints the results as JSON (``run()`` returns them).

* ``builds``: the project's strict build (``mkdocs build --strict``), each a fresh process, alternating between
  ``math`` (as the site is built, with no formula kept from an earlier build: ``KB_MATH_CACHE=off``), ``no_math``
  (the same build with :func:`kbsite.math.render_math` replaced by one that returns the page unchanged, which is
  the build as it was before math moved to build time) and ``math_cached`` (as ``math``, with the formulas kept
  by an earlier, untimed build in a cache folder, as a contributor's next build has them). Wall clock and
  CPU time (user + system) of each process; ``overhead`` is the ratio of the medians minus one. In the ``math``
  builds the time spent inside ``render_math`` (engine start included) is also summed in-process, which load from
  other processes inflates much less than the difference of two whole builds.
* ``engines``: every candidate engine that is installed (``quickjs``/``quickjs-ng``, ``mini-racer``, ``dukpy``; the
  others are listed as not installed) runs the vendored ``katex.min.js`` on every formula of the built reviews:
  start-up (loading KaTeX), the first pass over all formulas (what a build does), a second pass (warm), all in CPU
  time of the process; the installed size of the package; and how many outputs equal Node's (``node`` running the
  same file) byte for byte.
"""

from __future__ import annotations

import argparse
import html
import importlib.metadata
import json
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
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KATEX_JS = ROOT / "docs" / "assets" / "katex" / "katex.min.js"

# Runs mkdocs in the child process; argv[1] is "math" or "no_math", argv[2] where to write the in-process timing.
_RUNNER = r"""
import json, sys, time
import kbsite.math as kb_math
mode, report = sys.argv[1], sys.argv[2]
spent = {"calls": 0, "pages_with_math": 0, "handed_over": 0, "wall_s": 0.0, "cpu_s": 0.0, "worker_cpu_s": 0.0}
render_math, prerender, on_worker = kb_math.render_math, kb_math.prerender, kb_math._render_on_worker
def timed_render(html, *args, **kwargs):
    w, c = time.perf_counter(), time.thread_time()
    out = render_math(html, *args, **kwargs) if mode == "math" else (html, [])
    spent["wall_s"] += time.perf_counter() - w
    spent["cpu_s"] += time.thread_time() - c
    spent["calls"] += 1
    spent["pages_with_math"] += kb_math.has_math(html)
    return out
def timed_prerender(html, *args, **kwargs):
    w, c = time.perf_counter(), time.thread_time()
    new = prerender(html, *args, **kwargs) if mode == "math" else 0
    spent["wall_s"] += time.perf_counter() - w
    spent["cpu_s"] += time.thread_time() - c
    spent["handed_over"] += new
    return new
def timed_on_worker(*args):
    c = time.thread_time()
    try:
        return on_worker(*args)
    finally:
        spent["worker_cpu_s"] += time.thread_time() - c
kb_math.render_math, kb_math.prerender, kb_math._render_on_worker = timed_render, timed_prerender, timed_on_worker
from mkdocs.__main__ import cli
try:
    cli(sys.argv[3:], standalone_mode=False)
finally:
    open(report, "w").write(json.dumps(spent))
"""

_MATH = re.compile(r'<(span|div) class="arithmatex">([^<]*)</\1>')


def _build(mode: str, site: Path, report: Path, cache: Path | None = None) -> dict[str, Any]:
    # Without a cache folder (KB_MATH_CACHE=off) every build typesets every formula, as the first build of a fresh
    # clone does; with one, the build takes the formulas an earlier build kept there (kbsite/math.py, FormulaCache).
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "KB_MATH_CACHE": str(cache) if cache else "off"}
    env.pop("SITE_URL", None)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, mode, str(report), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} build failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    inner = json.loads(report.read_text(encoding="utf-8"))
    return {
        "wall_s": wall,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "render_math": inner,
    }


def formulas(site: Path) -> list[tuple[str, bool]]:
    """Every formula of the built reviews (a ``no_math`` build), as KaTeX gets it: (TeX, display)."""
    found = []
    for page in sorted((site / "reviews").glob("*/index.html")):
        for tag, body in _MATH.findall(page.read_text(encoding="utf-8")):
            text = html.unescape(body).strip()
            found.append((text[2:-2].strip(), tag == "div"))
    return found


def _installed_size(dist: str) -> int | None:
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    return sum(f.locate().stat().st_size for f in files if f.locate().is_file())


def _engine_loaders() -> dict[str, tuple[str, Any]]:
    """name -> (distribution, loader); a loader returns a function (tex, display) -> html."""
    source = KATEX_JS.read_text(encoding="utf-8")
    glue = (
        "function __r(t, d) { return JSON.stringify(katex.renderToString(t, {displayMode: d, throwOnError: false})); }"
    )

    def quickjs_loader():
        import quickjs

        ctx = quickjs.Context()
        ctx.eval(source)
        ctx.eval(glue)
        fn = ctx.get("__r")
        return lambda t, d: json.loads(fn(t, d))

    def mini_racer_loader():
        from py_mini_racer import MiniRacer

        ctx = MiniRacer()
        ctx.eval(source)
        ctx.eval(glue)
        return lambda t, d: json.loads(ctx.call("__r", t, d))

    def dukpy_loader():
        import dukpy

        interp = dukpy.JSInterpreter()
        interp.evaljs(source)
        interp.evaljs(glue)
        return lambda t, d: json.loads(interp.evaljs("__r(dukpy.t, dukpy.d)", t=t, d=d))

    quickjs_dist = next((d for d in ("quickjs-ng", "quickjs") if _installed_size(d) is not None), "quickjs-ng")
    return {
        quickjs_dist: (quickjs_dist, quickjs_loader),
        "mini-racer": ("mini-racer", mini_racer_loader),
        "dukpy": ("dukpy", dukpy_loader),
    }


def _node_reference(found: list[tuple[str, bool]]) -> list[str] | None:
    node = shutil.which("node")
    if node is None:
        return None
    script = (
        "const katex = require(process.argv[1]); let s = ''; process.stdin.on('data', d => s += d);"
        "process.stdin.on('end', () => process.stdout.write(JSON.stringify(JSON.parse(s).map(([t, d]) =>"
        "katex.renderToString(t, {displayMode: d, throwOnError: false})))));"
    )
    proc = subprocess.run(
        [node, "-e", script, str(KATEX_JS)],
        input=json.dumps(found),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def compare_engines(found: list[tuple[str, bool]]) -> dict[str, Any]:
    reference = _node_reference(found)
    out: dict[str, Any] = {"formulas": len(found), "node_reference": reference is not None}
    for name, (dist, loader) in _engine_loaders().items():
        size = _installed_size(dist)
        if size is None:
            out[name] = {"installed": False}
            continue
        # CPU time of the process (V8 runs on threads of its own), which load from other processes barely moves.
        start = time.process_time()
        render = loader()
        started = time.process_time()
        first = [render(t, d) for t, d in found]
        first_done = time.process_time()
        second = [render(t, d) for t, d in found]
        second_done = time.process_time()
        out[name] = {
            "installed": True,
            "version": importlib.metadata.version(dist),
            "installed_mb": size / 1e6,
            "start_ms": 1000 * (started - start),
            "first_pass_ms_per_formula": 1000 * (first_done - started) / len(found),
            "warm_ms_per_formula": 1000 * (second_done - first_done) / len(found),
            "same_as_node": None if reference is None else sum(a == b for a, b in zip(first, reference)),
            "stable": first == second,
        }
    return out


def run(quick: bool = False, builds: int | None = None) -> dict[str, Any]:
    n = builds or (1 if quick else 9)
    modes = ("math", "no_math", "math_cached")
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="kb-bench-math-") as tmp:
        cache = Path(tmp) / "cache"
        _build("math", Path(tmp) / "site-prime", Path(tmp) / "prime.json", cache)  # fills the cache; not timed
        for i in range(n):
            for mode in modes if i % 2 == 0 else modes[::-1]:
                cached = mode == "math_cached"
                site, report = Path(tmp) / f"site-{mode}", Path(tmp) / f"{mode}.json"
                runs[mode].append(_build("math" if cached else mode, site, report, cache if cached else None))
        found = formulas(Path(tmp) / "site-no_math")
    summary: dict[str, Any] = {"builds_per_mode": n}
    for mode, rs in runs.items():
        summary[mode] = {
            "wall_s": statistics.median(r["wall_s"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "walls": [round(r["wall_s"], 2) for r in rs],
            "cpus": [round(r["cpu_s"], 2) for r in rs],
        }
    inner = [r["render_math"] for r in runs["math"]]
    summary["render_math"] = {
        "pages_with_math": inner[0]["pages_with_math"],
        "calls": inner[0]["calls"],
        "handed_over": inner[0]["handed_over"],
        "main_thread_cpu_s": statistics.median(r["cpu_s"] for r in inner),
        "worker_cpu_s": statistics.median(r["worker_cpu_s"] for r in inner),
        "cpu_s": statistics.median(r["cpu_s"] + r["worker_cpu_s"] for r in inner),
        "main_thread_wall_s": statistics.median(r["wall_s"] for r in inner),
    }
    summary["overhead_wall"] = summary["math"]["wall_s"] / summary["no_math"]["wall_s"] - 1
    summary["overhead_cpu"] = summary["math"]["cpu_s"] / summary["no_math"]["cpu_s"] - 1
    summary["overhead_cached_wall"] = summary["math_cached"]["wall_s"] / summary["no_math"]["wall_s"] - 1
    summary["overhead_cached_cpu"] = summary["math_cached"]["cpu_s"] / summary["no_math"]["cpu_s"] - 1
    # The in-process figures, against the build without math: the CPU time of the math on both threads (the work),
    # and the time the build's own thread spent in the math's two functions, waiting included (what it waits for).
    summary["overhead_in_process"] = summary["render_math"]["cpu_s"] / summary["no_math"]["cpu_s"]
    summary["overhead_main_thread"] = summary["render_math"]["main_thread_wall_s"] / summary["no_math"]["wall_s"]
    summary["engines"] = compare_engines(found)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one build per mode")
    parser.add_argument("--builds", type=int, help="builds per mode (default 9, or 1 with --quick)")
    args = parser.parse_args(argv)
    print(json.dumps(run(quick=args.quick, builds=args.builds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
