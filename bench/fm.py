"""FM pairwise term: ``fm_interaction`` vs ``fm_interaction_naive`` vs torchfm's FactorizationMachine layer.

B = 4096 examples, F in {10, 39, 100, 1000} fields, k in {16, 64} factors, forward and forward+backward.
All three take the same (B, F, k) float32 embeddings (one-hot fields, every x_i = 1), so only the pairwise term
is timed. The naive double loop is measured where that is affordable and otherwise bounded or extrapolated:

* forward, F <= 100: measured at B = 4096 (F = 100 with fewer repeats, it takes about half a second a call);
* forward, F = 1000: extrapolated from F = 100 by the number of pairs (each pair runs the same ops on
  (B, k) slices, so the time is linear in the number of pairs); a direct run at a smaller batch checks that;
* forward+backward, F = 10: measured. F >= 39: not run. Autograd's backward of ``embeddings[:, i]`` allocates a
  full (B, F, k) gradient for every use of a slice, so the naive backward costs O(F^3 k B) (one trial at
  F = 39, k = 64 took over a minute) and at F = 1000 its graph would need about 16 GB. A lower bound is reported
  instead, the larger of: the naive forward alone (forward+backward includes it), and the F = 10 time per pair
  times the number of pairs (the work per pair only grows with F: same slice ops, larger gradients).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor

from bench.timing import Stats, interleaved, load, paired_ratio, ratio
from snippets.fm import fm_interaction, fm_interaction_naive

B = 4096
FIELDS = (10, 39, 100, 1000)
FACTORS = (16, 64)
MODES = ("forward", "forward+backward")
# Rounds of the naive form where one call takes seconds (it sits out the later rounds).
NAIVE_ROUNDS = {100: 5}
# F = 1000 holds a 1 GB input at k = 64; a call takes up to a second there.
ROUNDS = {1000: 10}
# The cell with a target against torchfm is cheap: three times the rounds narrow its medians.
TARGET_CELL, TARGET_ROUNDS = (39, 16), 90
CHECK_B = 256  # batch of the direct naive run that checks the pair-count extrapolation


def pairs(F: int) -> int:
    return F * (F - 1) // 2


def _torchfm() -> Callable[[Tensor], Tensor] | None:
    try:
        from torchfm.layer import FactorizationMachine
    except ImportError:
        return None
    return FactorizationMachine(reduce_sum=True)  # (B, F, k) -> (B, 1); timed as is, no squeeze


def _case(fn: Callable[[Tensor], Tensor], e: Tensor, mode: str) -> Callable[[], object]:
    if mode == "forward":

        def forward() -> object:
            with torch.no_grad():
                return fn(e)

        return forward
    leaf = e.detach().clone().requires_grad_()

    def forward_backward() -> object:
        fn(leaf).sum().backward()
        leaf.grad = None
        return None

    return forward_backward


def _agree(impls: dict[str, Callable[[Tensor], Tensor]], F: int, k: int) -> dict[str, bool]:
    """Do the implementations compute the same values (on a small batch, float64)?"""
    g = torch.Generator().manual_seed(F * 1000 + k)
    e = torch.randn(8, min(F, 100), k, generator=g, dtype=torch.float64) * 0.1
    ref = fm_interaction(e)
    return {name: bool(torch.allclose(fn(e).reshape(-1), ref, rtol=1e-9, atol=1e-12)) for name, fn in impls.items()}


def _naive_check(k: int) -> dict[str, float]:
    """Time the naive form once at F = 1000 (B = CHECK_B) and compare with its pair-count extrapolation."""
    g = torch.Generator().manual_seed(7)
    small = torch.randn(CHECK_B, 100, k, generator=g) * 0.1
    big = torch.randn(CHECK_B, 1000, k, generator=g) * 0.1
    stats = interleaved({"naive F=100": lambda: fm_interaction_naive(small)}, repeats=5, warmup=1)
    predicted = stats["naive F=100"].median * pairs(1000) / pairs(100)
    start = time.thread_time()
    fm_interaction_naive(big)
    measured = time.thread_time() - start
    return {"B": CHECK_B, "k": k, "predicted_s": predicted, "measured_s": measured, "error": predicted / measured - 1}


def run(quick: bool = False) -> dict[str, object]:
    """Every cell of the grid; ``quick`` shrinks repeats for a smoke run."""
    repeats = 5 if quick else 30
    tfm = _torchfm()
    cells = []
    naive_forward: dict[tuple[int, int], Stats] = {}
    naive_fb_per_pair: dict[int, float] = {}
    for F in FIELDS:
        for k in FACTORS:
            g = torch.Generator().manual_seed(F * 100 + k)
            e = torch.randn(B, F, k, generator=g) * 0.1  # (B, F, k)
            impls: dict[str, Callable[[Tensor], Tensor]] = {"ours": fm_interaction}
            if tfm is not None:
                impls["torchfm"] = tfm
            agree = _agree({**impls, "naive": fm_interaction_naive}, F, k)
            for mode in MODES:
                cases = {name: _case(fn, e, mode) for name, fn in impls.items()}
                if tfm is not None and (F, k) == (39, 16):
                    cases["torchfm (A/A control)"] = _case(tfm, e, mode)
                run_naive = (mode == "forward" and F <= 100) or (mode == "forward+backward" and F == 10)
                if run_naive:
                    cases["naive"] = _case(fm_interaction_naive, e, mode)
                rounds = min(repeats, ROUNDS.get(F, repeats))
                naive_rounds = min(rounds, NAIVE_ROUNDS.get(F, rounds))
                if (F, k) == TARGET_CELL and not quick:
                    rounds = TARGET_ROUNDS
                before = load()
                stats = interleaved(
                    cases,
                    repeats=rounds,
                    warmup=1 if F >= 1000 else 3,
                    repeats_of={"naive": naive_rounds},
                    own_number={"naive"},
                )
                cell: dict[str, object] = {
                    "F": F,
                    "k": k,
                    "mode": mode,
                    "pairs": pairs(F),
                    "times": {name: s.as_dict() for name, s in stats.items()},
                    "agree": agree,
                    "load": [before, load()],
                }
                if "naive" in stats:
                    naive_s, how = stats["naive"].median, "measured"
                    if mode == "forward":
                        naive_forward[(F, k)] = stats["naive"]
                    else:
                        naive_fb_per_pair[k] = naive_s / pairs(F)
                elif mode == "forward":  # F = 1000
                    naive_s = naive_forward[(100, k)].median * pairs(F) / pairs(100)
                    how = "extrapolated from F=100 by pair count"
                else:
                    forward_s = next(
                        c["naive"]["seconds"] for c in cells if (c["F"], c["k"], c["mode"]) == (F, k, "forward")
                    )
                    per_pair = naive_fb_per_pair[k] * pairs(F)
                    naive_s = max(forward_s, per_pair)
                    how = (
                        "lower bound: the F=10 forward+backward time per pair times the pairs"
                        if per_pair >= forward_s
                        else "lower bound: the naive forward alone"
                    )
                cell["naive"] = {"seconds": naive_s, "how": how}
                ours = stats["ours"].median
                cell["ours_vs_naive"] = naive_s / ours
                if "torchfm" in stats:
                    cell["ours_vs_torchfm"] = ratio(stats["ours"], stats["torchfm"])
                    cell["ours_vs_torchfm_paired"] = paired_ratio(stats["ours"], stats["torchfm"])
                if "torchfm (A/A control)" in stats:
                    cell["aa_control"] = ratio(stats["torchfm (A/A control)"], stats["torchfm"])
                    cell["aa_control_paired"] = paired_ratio(stats["torchfm (A/A control)"], stats["torchfm"])
                cells.append(cell)
            del e
    check = [] if quick else [_naive_check(16)]
    return {
        "B": B,
        "torchfm": tfm is not None,
        "repeats": repeats,
        "rounds_at": {str(k): min(repeats, v) for k, v in ROUNDS.items()},
        "target_cell_rounds": None if quick else {"F": TARGET_CELL[0], "k": TARGET_CELL[1], "rounds": TARGET_ROUNDS},
        "naive_rounds_at": {str(k): min(repeats, v) for k, v in NAIVE_ROUNDS.items()},
        "cells": cells,
        "extrapolation_check": check,
    }
