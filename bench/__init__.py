"""The benchmarks behind the Benchmarks page, run as ``python -m bench`` (``make bench``, ``make bench-build``).

Each measured part is a module of this package with ``run(quick: bool = False) -> dict``; :data:`PARTS` lists
them in the order they run and appear on the page. :mod:`bench.targets` decides PASS or MISS,
:mod:`bench.plots` draws the figures and :mod:`bench.page` writes the marked blocks of ``docs/benchmarks.md``.

A part that compares ours with a reference may return the generic shape, and then needs nothing else than its
module and its name in :data:`PARTS` (targets, table and figure follow from the shape)::

    {"what": "what is compared",
     "rows": [{"case": "a setting", "mode": "forward", "ours_s": 1e-3, "reference_s": 2e-3, "ratio": 0.5}],
     "target": 1.05}  # optional: every row's ratio must be at most this

``mode`` is optional in each row. A part that cannot run raises :class:`bench.timing.Skip`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PARTS", "RESULTS", "ROOT"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"

# One name a line: a new part adds its own line.
PARTS = [
    "fm",
    "scalarmix",
    "electra",
    "attention",
    "als",
    "site_build",
    "math_build",
    "make_test",
]
