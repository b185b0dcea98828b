"""The targets: from the results of a run, one row per target with its status.

A row is a dict (it goes into ``results.json``): ``part``, ``what``, ``target``, ``measured`` and ``status``, one
of PASS, MISS, OPEN (a bound that cannot decide), SKIP or ERROR (the part did not run). Parts in the generic shape
(see :mod:`bench`) with a ``target`` get one row per measured row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.units import factor

__all__ = ["BARE_RATIO", "NAIVE_SPEEDUP", "NO_SLOWER", "PER_PAGE_GROWTH", "evaluate", "is_generic", "unavailable"]

NO_SLOWER = 1.05  # "no slower": at most 5 % slower, about the spread of an A/A comparison on a quiet machine
NAIVE_SPEEDUP = 50.0
BARE_RATIO = 1.2  # site build at the largest size: project ÷ bare Material, CPU time
PER_PAGE_GROWTH = 1.25  # site build, project: CPU ms per page at the largest size ÷ at the smallest
MATH_SHARE = 0.10  # typesetting the math at build time: at most 10 % more than the strict build without it
MAKE_TEST_S = 60.0  # a warm `make test` on a 2-core machine, wall clock
TEST_REVIEW_S = 20.0  # `make test-review SLUG=fm`, wall clock

Row = dict[str, Any]


def unavailable(part: dict[str, Any]) -> str | None:
    """Why a part has no measurements (skipped or failed), or None when it has."""
    if "skipped" in part:
        return f"skipped: {part['skipped']}"
    if "error" in part:
        return f"failed: {part['error']}"
    return None


def is_generic(part: dict[str, Any]) -> bool:
    """Whether a part's results have the generic shape: ``what`` and rows of ours/reference/ratio."""
    rows = part.get("rows")
    return (
        isinstance(part.get("what"), str)
        and isinstance(rows, list)
        and all(isinstance(r, dict) and {"case", "ours_s", "reference_s", "ratio"} <= r.keys() for r in rows)
    )


def _row(part: str, what: str, target: str, measured: str, ok: bool | None) -> Row:
    status = "PASS" if ok else ("MISS" if ok is False else "OPEN")
    return {"part": part, "what": what, "target": target, "measured": measured, "status": status}


def _missing(part: str, what: str, target: str, data: dict[str, Any], default: str) -> Row:
    why = unavailable(data) or default
    status = "ERROR" if "error" in data else "SKIP"
    return {"part": part, "what": what, "target": target, "measured": why, "status": status}


def _fm(name: str, fm: dict[str, Any]) -> Iterable[Row]:
    def cell(F: int, k: int, mode: str) -> dict[str, Any] | None:
        return next((c for c in fm.get("cells", []) if (c["F"], c["k"], c["mode"]) == (F, k, mode)), None)

    for mode in ("forward", "forward+backward"):
        what, target = f"FM `fm_interaction` vs torchfm, F=39, k=16, {mode}", f"time ratio ≤ {NO_SLOWER}"
        c = cell(39, 16, mode)
        if c is None or "ours_vs_torchfm" not in c:
            yield _missing(name, what, target, fm, "torchfm is not installed")
            continue
        r = c["ours_vs_torchfm"]
        yield _row(name, what, target, f"{r:.3f} (A/A control {c.get('aa_control', float('nan')):.3f})", r <= NO_SLOWER)
    for mode in ("forward", "forward+backward"):
        for k in (16, 64):
            what, target = f"FM `fm_interaction` vs naive, F=1000, k={k}, {mode}", f"speed-up ≥ {NAIVE_SPEEDUP:.0f}×"
            c = cell(1000, k, mode)
            if c is None:
                yield _missing(name, what, target, fm, "F=1000 not in this run")
                continue
            r, how = c["ours_vs_naive"], c["naive"]["how"]
            if how.startswith("lower bound"):
                yield _row(name, what, target, f"≥ {factor(r)} (lower bound)", True if r >= NAIVE_SPEEDUP else None)
            else:
                suffix = " (naive extrapolated)" if how.startswith("extrapolated") else ""
                yield _row(name, what, target, f"{factor(r)}{suffix}", r >= NAIVE_SPEEDUP)


def _scalarmix(name: str, sm: dict[str, Any]) -> Iterable[Row]:
    for norm in (False, True):
        for mode in ("forward", "forward+backward"):
            what = f"ELMo `ScalarMix` vs loop, {'with' if norm else 'without'} normalisation, {mode}"
            target = f"time ratio ≤ {NO_SLOWER}"
            c = next((c for c in sm.get("cells", []) if c["norm"] == norm and c["mode"] == mode), None)
            if c is None:
                yield _missing(name, what, target, sm, "not measured")
                continue
            yield _row(name, what, target, f"{c['ratio']:.3f}", c["ratio"] <= NO_SLOWER)


def _electra(name: str, el: dict[str, Any]) -> Iterable[Row]:
    loss = el.get("loss") or {}
    for mode in ("forward", "forward+backward"):
        what = f"ELECTRA `rtd_loss` vs transformers' ElectraForPreTraining loss, {mode}"
        target = f"time ratio ≤ {NO_SLOWER}"
        c = next((c for c in loss.get("cells", []) if c["mode"] == mode), None)
        if c is None:
            yield _missing(name, what, target, el if unavailable(el) else loss, "not measured")
            continue
        yield _row(name, what, target, f"{c['ratio']:.3f}", c["ratio"] <= NO_SLOWER)


def _site_build(name: str, site: dict[str, Any]) -> Iterable[Row]:
    rows = site.get("rows") or []
    first, last = (rows[0], rows[-1]) if len(rows) >= 2 else (None, None)
    n = last["reviews"] if last else 1000
    what = f"Site build at {n} synthetic reviews, project ÷ bare Material, CPU time"
    if last is None:
        yield _missing(name, what, f"≤ {BARE_RATIO}×", site, "fewer than two sizes built")
    else:
        yield _row(name, what, f"≤ {BARE_RATIO}×", factor(last["cpu_ratio"]), last["cpu_ratio"] <= BARE_RATIO)
    shared = (site.get("shared_module") or [None])[-1]
    if shared is not None:
        what = (
            f"Site build at {shared['reviews']} copies that all name `snippets.fm` (no API page of their own), "
            "project ÷ bare Material, CPU time"
        )
        yield _row(name, what, f"≤ {BARE_RATIO}×", factor(shared["cpu_ratio"]), shared["cpu_ratio"] <= BARE_RATIO)
    what = "Site build, project, CPU ms per page at 1000 ÷ at 100 reviews"
    if first is None or last is None:
        yield _missing(name, what, f"≤ {PER_PAGE_GROWTH}×", site, "fewer than two sizes built")
        return
    growth = last["project"]["cpu_ms_per_page"] / first["project"]["cpu_ms_per_page"]
    measured = (
        f"{factor(growth)} ({last['project']['cpu_ms_per_page']:.1f} ms at {last['reviews']} reviews, "
        f"{first['project']['cpu_ms_per_page']:.1f} ms at {first['reviews']})"
    )
    what = f"Site build, project, CPU ms per page at {last['reviews']} ÷ at {first['reviews']} reviews"
    yield _row(name, what, f"≤ {PER_PAGE_GROWTH}×", measured, growth <= PER_PAGE_GROWTH)


def _math_build(name: str, part: dict[str, Any]) -> Iterable[Row]:
    """What typesetting the math adds to the strict build: by wall clock (what a contributor waits for, the math on
    its own thread) and by CPU time (the work, which a one-core machine would wait for)."""
    for key, what in (("overhead_wall", "wall clock"), ("overhead_cpu", "CPU time of all threads")):
        what = f"Strict site build, math typeset at build time ÷ without it, {what}"
        if key not in part:
            yield _missing(name, what, f"≤ +{MATH_SHARE:.0%}", part, "not measured")
            continue
        yield _row(name, what, f"≤ +{MATH_SHARE:.0%}", f"{part[key]:+.1%}", part[key] <= MATH_SHARE)


def _make_test(name: str, part: dict[str, Any]) -> Iterable[Row]:
    """The test loops' wall clock; a run that failed misses its target whatever its time."""
    for run, what, limit in (
        (part, "Warm `make test`", MAKE_TEST_S),
        (part.get("test_review") or {}, "`make test-review SLUG=fm`", TEST_REVIEW_S),
    ):
        what = f"{what}, wall clock on {run.get('cores', '?')} cores"
        if "wall_s" not in run:
            yield _missing(name, what, f"≤ {limit:.0f} s", part, "not measured")
            continue
        passed = run.get("returncode") == 0
        measured = f"{run['wall_s']:.1f} s" + ("" if passed else " (the suite failed)")
        if len(run.get("walls", [])) > 1:
            measured += f", the median of {len(run['walls'])} runs ({', '.join(f'{w:.1f}' for w in run['walls'])} s)"
        yield _row(name, what, f"≤ {limit:.0f} s", measured, passed and run["wall_s"] <= limit)


def _generic(name: str, part: dict[str, Any]) -> Iterable[Row]:
    if "target" not in part:
        return
    target = f"time ratio ≤ {part['target']}"
    for r in part["rows"]:
        what = f"{part['what']}: {r['case']}" + (f", {r['mode']}" if r.get("mode") else "")
        yield _row(name, what, target, f"{r['ratio']:.3f}", r["ratio"] <= part["target"])


SPECIFIC: dict[str, Callable[[str, dict[str, Any]], Iterable[Row]]] = {
    "fm": _fm,
    "scalarmix": _scalarmix,
    "electra": _electra,
    "site_build": _site_build,
    "math_build": _math_build,
    "make_test": _make_test,
}


def evaluate(results: dict[str, Any], parts: Iterable[str]) -> list[Row]:
    """Every target of the named parts, in their order; a part that did not run gives SKIP or ERROR rows."""
    rows: list[Row] = []
    for name in parts:
        part = results.get(name) or {"skipped": "not run"}
        if name in SPECIFIC:
            rows += SPECIFIC[name](name, part)
        elif unavailable(part) and "target" in part:
            rows.append(_missing(name, str(part.get("what", name)), f"time ratio ≤ {part['target']}", part, ""))
        elif is_generic(part):
            rows += _generic(name, part)
    return rows
