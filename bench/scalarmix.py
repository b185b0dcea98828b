"""ELMo's ScalarMix (``snippets.elmo.ScalarMix``) vs a straightforward loop over the layers.

The loop baseline below is written from Eq. (1) of ELMo and AllenNLP's description of its layer normalisation,
independently of the snippet: softmax the logits, then for each layer (normalised with one mean and one variance
over its unmasked entries, when asked) add weight * layer, and scale by gamma. 3 layers of (32, 128, 1024) with a
padding mask; forward under ``torch.no_grad()``, forward+backward through the weights and gamma (the biLM is
frozen, as in the paper, so the layers need no gradient). A third variant, ``fused_scalar_mix``, shows what a
fused accumulation would gain; it has no target.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from bench.timing import Skip, interleaved, load, paired_ratio, ratio

SHAPE = (32, 128, 1024)
LAYERS = 3
INITIAL = [0.1, -0.2, 0.3]
EPS = 1e-13  # float32, as AllenNLP's tiny_value_of_dtype


def loop_scalar_mix(tensors: list[Tensor], mask: Tensor, w: Tensor, gamma: Tensor, do_layer_norm: bool) -> Tensor:
    """gamma * sum_j softmax(w)_j * h_j, one layer at a time (the baseline)."""
    weights = torch.softmax(w, dim=0)
    broadcast_mask = mask.unsqueeze(-1).to(tensors[0].dtype)  # (B, T, 1)
    count = broadcast_mask.sum() * tensors[0].shape[-1]
    pieces = []
    for weight, h in zip(weights, tensors, strict=True):
        if do_layer_norm:
            mean = (h * broadcast_mask).sum() / count
            variance = (((h - mean) * broadcast_mask) ** 2).sum() / count
            h = (h - mean) / torch.sqrt(variance + EPS)
        pieces.append(weight * h)
    return gamma * sum(pieces)


def fused_scalar_mix(tensors: list[Tensor], mask: Tensor, w: Tensor, gamma: Tensor, do_layer_norm: bool) -> Tensor:
    """The same sum started from the first term and accumulated with ``torch.addcmul`` (one pass per layer).

    Not a target: timed next to the others as a candidate fix should ScalarMix miss "no slower".
    """
    weights = torch.softmax(w, dim=0)
    broadcast_mask = mask.unsqueeze(-1).to(tensors[0].dtype)  # (B, T, 1)
    count = broadcast_mask.sum() * tensors[0].shape[-1]

    def layer(h: Tensor) -> Tensor:
        if not do_layer_norm:
            return h
        mean = (h * broadcast_mask).sum() / count
        variance = (((h - mean) * broadcast_mask) ** 2).sum() / count
        return (h - mean) / torch.sqrt(variance + EPS)

    mixed = weights[0] * layer(tensors[0])
    for weight, h in zip(weights[1:], tensors[1:], strict=True):
        mixed = torch.addcmul(mixed, weight, layer(h))
    return gamma * mixed


def _cases(mix: Callable[[], Tensor], params: list[Tensor]) -> dict[str, Callable[[], object]]:
    """A forward (no autograd) and a forward+backward callable for one implementation."""

    def forward() -> object:
        with torch.no_grad():
            return mix()

    def forward_backward() -> object:
        mix().sum().backward()
        for p in params:
            p.grad = None
        return None

    return {"forward": forward, "forward+backward": forward_backward}


def run(quick: bool = False) -> dict[str, object]:
    try:
        from snippets.elmo import ScalarMix
    except ImportError as exc:
        raise Skip(f"snippets.elmo.ScalarMix is not available ({exc})") from exc
    repeats = 5 if quick else 30
    g = torch.Generator().manual_seed(0)
    B, T, D = SHAPE
    tensors = [torch.randn(B, T, D, generator=g) for _ in range(LAYERS)]  # L x (B, T, D)
    lengths = torch.randint(T // 2, T + 1, (B,), generator=g)  # (B,)
    mask = torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T) bool
    cells = []
    for norm in (False, True):
        ours = ScalarMix(LAYERS, do_layer_norm=norm, initial_scalar_parameters=INITIAL)
        w = torch.tensor(INITIAL, requires_grad=True)
        gamma = torch.ones(1, requires_grad=True)
        impls = {
            "ours": (partial(ours, tensors, mask), list(ours.parameters())),
            "loop": (partial(loop_scalar_mix, tensors, mask, w, gamma, norm), [w, gamma]),
            "fused": (partial(fused_scalar_mix, tensors, mask, w, gamma, norm), [w, gamma]),
        }
        with torch.no_grad():
            outputs = {name: mix() for name, (mix, _) in impls.items()}
        diff = max(float((outputs["ours"] - out).abs().max()) for out in outputs.values())
        per_impl = {name: _cases(mix, params) for name, (mix, params) in impls.items()}
        for mode in ("forward", "forward+backward"):
            before = load()
            stats = interleaved({name: cases[mode] for name, cases in per_impl.items()}, repeats=repeats)
            cells.append(
                {
                    "norm": norm,
                    "mode": mode,
                    "times": {k: s.as_dict() for k, s in stats.items()},
                    "ratio": ratio(stats["ours"], stats["loop"]),
                    "paired": paired_ratio(stats["ours"], stats["loop"]),
                    "fused_ratio": ratio(stats["fused"], stats["loop"]),
                    "max_abs_diff": diff,
                    "load": [before, load()],
                }
            )
    return {"shape": list(SHAPE), "layers": LAYERS, "repeats": repeats, "cells": cells}
