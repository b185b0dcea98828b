"""Transformer attention: ``snippets.transformer.MultiHeadAttention`` vs ``torch.nn.MultiheadAttention``.

Both modules hold the same weights (ours loads the reference's state dict) and get the same inputs; the reference
is called as a drop-in user would call it, ``nn.MultiheadAttention(d, h, batch_first=True)`` with its defaults
(``need_weights=True``, weights averaged over heads), so both sides compute the output and the head-averaged
weights. Forward runs in eval mode under ``torch.no_grad()`` (where PyTorch may take its fused native path);
forward+backward runs in training mode (dropout 0) and backpropagates ``output.sum()`` into the inputs and the
weights. The cases:

* self-attention, B = 8, T = 128, d = 512, h = 8 (the paper's base width and heads), no mask;
* encoder-decoder attention, B = 8, T_q = 96, T_k = 128, d = 512, h = 8, with a key padding mask;
* causal self-attention, B = 32, T = 64, d = 256, h = 4, with a bool ``attn_mask``.

Timed with one thread (``torch.set_num_threads(1)``), median thread CPU time per call from interleaved rounds.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from bench.timing import Skip, interleaved, load, paired_ratio, ratio

CASES = {  # name -> (B, T_q, T_k, d, h, mask)
    "self-attention B=8 T=128 d=512 h=8": (8, 128, 128, 512, 8, None),
    "encoder-decoder attention B=8 T_q=96 T_k=128 d=512 h=8, key padding": (8, 96, 128, 512, 8, "padding"),
    "causal self-attention B=32 T=64 d=256 h=4": (32, 64, 64, 256, 4, "causal"),
}
MODES = ("forward", "forward+backward")
TARGET = 1.1


def _inputs(B: int, T_q: int, T_k: int, d: int, mask: str | None, g: torch.Generator) -> tuple[tuple, dict]:
    query = torch.randn(B, T_q, d, generator=g)
    if mask == "padding":
        memory = torch.randn(B, T_k, d, generator=g)
        lengths = torch.randint(T_k // 2, T_k + 1, (B,), generator=g)
        padding = torch.arange(T_k).unsqueeze(0) >= lengths.unsqueeze(1)  # (B, T_k) True at padding
        return (query, memory, memory), {"key_padding_mask": padding}
    if mask == "causal":
        causal = torch.ones(T_q, T_q, dtype=torch.bool).triu(1)  # True = not allowed
        return (query, query, query), {"attn_mask": causal}
    return (query, query, query), {}


def _call(module: nn.Module, args: tuple, kwargs: dict, mode: str) -> Callable[[], object]:
    if mode == "forward":
        module.eval()

        def forward() -> object:
            with torch.no_grad():
                return module(*args, **kwargs)

        return forward
    module.train()
    leaf = args[0].detach().clone().requires_grad_()
    memory = args[1].detach().clone().requires_grad_() if args[1] is not args[0] else leaf
    inputs = (leaf, leaf, leaf) if args[1] is args[0] else (leaf, memory, memory)
    params = [leaf, memory, *module.parameters()]

    def forward_backward() -> object:
        out, _ = module(*inputs, **kwargs)
        out.sum().backward()
        for p in params:
            p.grad = None
        return None

    return forward_backward


def _max_diff(ours: nn.Module, reference: nn.Module, args: tuple, kwargs: dict) -> float:
    ours.eval()
    reference.eval()
    with torch.no_grad():
        a, b = ours(*args, **kwargs), reference(*args, **kwargs)
    return max(float((a[0] - b[0]).abs().max()), float((a[1] - b[1]).abs().max()))


def run(quick: bool = False) -> dict[str, object]:
    try:
        from snippets.transformer import MultiHeadAttention
    except ImportError as exc:
        raise Skip(f"snippets.transformer.MultiHeadAttention is not available ({exc})") from exc
    repeats = 5 if quick else 30
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as bench/run.py does; restored below when run on its own
    try:
        rows = _rows(MultiHeadAttention, repeats)
    finally:
        torch.set_num_threads(threads)
    return {
        "what": (
            "snippets.transformer.MultiHeadAttention against torch.nn.MultiheadAttention(d, h, batch_first=True) "
            "with the same weights and inputs: both return the attention output and the head-averaged weights"
        ),
        "rows": rows,
        "target": TARGET,
        "repeats": repeats,
        "threads": 1,
    }


def _rows(MultiHeadAttention: type[nn.Module], repeats: int) -> list[dict[str, object]]:
    rows = []
    for case, (B, T_q, T_k, d, h, mask) in CASES.items():
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        reference = nn.MultiheadAttention(d, h, batch_first=True)
        ours = MultiHeadAttention(d, h)
        ours.load_state_dict(reference.state_dict(), strict=True)
        args, kwargs = _inputs(B, T_q, T_k, d, mask, g)
        diff = _max_diff(ours, reference, args, kwargs)
        for mode in MODES:
            before = load()
            stats = interleaved(
                {"ours": _call(ours, args, kwargs, mode), "reference": _call(reference, args, kwargs, mode)},
                repeats=repeats,
            )
            rows.append(
                {
                    "case": case,
                    "mode": mode,
                    "ours_s": stats["ours"].median,
                    "reference_s": stats["reference"].median,
                    "ratio": ratio(stats["ours"], stats["reference"]),
                    "paired_ratio": paired_ratio(stats["ours"], stats["reference"]),
                    "max_abs_diff": diff,
                    "load": [before, load()],
                    "times": {name: s.as_dict() for name, s in stats.items()},
                }
            )
    return rows
