"""ELECTRA: tokens per second of one pre-training step of the tiny model, and ``rtd_loss`` vs transformers' loss.

The transformers side is the exact loss computation of ``ElectraForPreTraining.forward`` (transformers 5.x,
``models/electra/modeling_electra.py``), isolated below as ``hf_pretraining_loss`` so that both losses get the
same logits and the encoder is not timed. Before timing, the isolation is checked: a tiny random
``ElectraForPreTraining`` is called with ``labels`` and ``attention_mask``, and ``hf_pretraining_loss`` of the
logits it returns must equal the loss it returns.
"""

from __future__ import annotations

import inspect

import torch
from torch import Tensor, nn

from bench.timing import Skip, interleaved, load, paired_ratio, ratio

LOSS_SHAPE = (128, 128)  # ELECTRA-Small's pre-training batch: 128 sequences of 128 tokens
PADDING = 0.15  # fraction of padded positions in the loss benchmark
STEP_BATCH, STEP_LEN, VOCAB = 32, 128, 1000
PAD, CLS, SEP, MASK = 0, 1, 2, 3


def hf_pretraining_loss(logits: Tensor, labels: Tensor, attention_mask: Tensor) -> Tensor:
    """The loss lines of ``ElectraForPreTraining.forward``, with ``discriminator_sequence_output.shape[1]`` = T."""
    T = logits.shape[1]
    loss_fct = nn.BCEWithLogitsLoss()
    active_loss = attention_mask.view(-1, T) == 1
    active_logits = logits.view(-1, T)[active_loss]
    active_labels = labels[active_loss]
    return loss_fct(active_logits, active_labels.float())


def _verify_against_model() -> dict[str, object]:
    """Run a tiny random ElectraForPreTraining with labels; its loss must equal hf_pretraining_loss of its logits."""
    from transformers import ElectraConfig, ElectraForPreTraining

    torch.manual_seed(0)
    config = ElectraConfig(
        vocab_size=50,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
    )
    model = ElectraForPreTraining(config).eval()
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(4, 50, (3, 12), generator=g)
    attention_mask = torch.ones(3, 12, dtype=torch.int64)
    attention_mask[1, 8:] = 0
    attention_mask[2, 5:] = 0
    labels = torch.randint(0, 2, (3, 12), generator=g)
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    isolated = hf_pretraining_loss(out.logits, labels, attention_mask)
    return {
        "model_loss": float(out.loss),
        "isolated_loss": float(isolated),
        "equal": bool(torch.equal(out.loss, isolated)),
    }


def _loss_benchmark(rtd_loss, repeats: int) -> dict[str, object]:
    try:
        verified = _verify_against_model()
    except ImportError as exc:
        return {"skipped": f"transformers is not installed ({exc})"}
    if not verified["equal"]:
        raise RuntimeError(f"the isolated transformers loss no longer matches ElectraForPreTraining: {verified}")
    g = torch.Generator().manual_seed(2)
    B, T = LOSS_SHAPE
    logits = torch.randn(B, T, generator=g)  # (B, T)
    labels = (torch.rand(B, T, generator=g) < 0.15).to(torch.int64)  # (B, T) 0/1, as transformers takes them
    lengths = T - (torch.rand(B, generator=g) * 2 * PADDING * T).long()  # (B,) mean padding about PADDING
    attention_mask = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).to(torch.int64)  # (B, T)
    leaf = logits.clone().requires_grad_()
    ours_value = rtd_loss(logits, labels, attention_mask)
    hf_value = hf_pretraining_loss(logits, labels, attention_mask)

    def fwd(fn):
        def call() -> object:
            with torch.no_grad():
                return fn(logits, labels, attention_mask)

        return call

    def fwd_bwd(fn):
        def call() -> object:
            fn(leaf, labels, attention_mask).backward()
            leaf.grad = None
            return None

        return call

    cells = []
    for mode, wrap in (("forward", fwd), ("forward+backward", fwd_bwd)):
        before = load()
        stats = interleaved({"rtd_loss": wrap(rtd_loss), "hf": wrap(hf_pretraining_loss)}, repeats=repeats)
        cells.append(
            {
                "mode": mode,
                "times": {k: s.as_dict() for k, s in stats.items()},
                "ratio": ratio(stats["rtd_loss"], stats["hf"]),
                "paired": paired_ratio(stats["rtd_loss"], stats["hf"]),
                "load": [before, load()],
            }
        )
    padding = 1 - float(attention_mask.float().mean())
    return {
        "shape": [B, T],
        "padding": padding,
        "repeats": repeats,
        "cells": cells,
        "max_abs_diff": abs(float(ours_value) - float(hf_value)),
        "verification": verified,
    }


def _step_benchmark(electra, repeats: int) -> dict[str, object]:
    TinyElectra, pretraining_step = electra.TinyElectra, electra.pretraining_step
    torch.manual_seed(0)
    model = TinyElectra(VOCAB, STEP_LEN)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(3)
    input_ids = torch.randint(4, VOCAB, (STEP_BATCH, STEP_LEN), generator=g)  # (B, T)
    input_ids[:, 0], input_ids[:, -1] = CLS, SEP
    attention_mask = torch.ones(STEP_BATCH, STEP_LEN, dtype=torch.int64)  # (B, T): no padding
    sampler = torch.Generator().manual_seed(4)

    def step() -> object:
        return pretraining_step(model, optimizer, input_ids, attention_mask, MASK, (CLS, SEP), generator=sampler)

    stats = interleaved({"step": step}, repeats=repeats)["step"]
    hyper = {
        k: v.default
        for k, v in inspect.signature(TinyElectra).parameters.items()
        if v.default is not inspect.Parameter.empty
    }
    config = f"vocabulary {VOCAB}, " + ", ".join(f"{k} {v}" for k, v in hyper.items())
    return {
        "call": "pretraining_step",
        "batch": STEP_BATCH,
        "seq_len": STEP_LEN,
        "config": config,
        "parameters": sum(p.numel() for p in model.parameters()),
        "step_s": stats.as_dict(),
        "tokens_per_s": STEP_BATCH * STEP_LEN / stats.median,
    }


def run(quick: bool = False) -> dict[str, object]:
    try:
        from snippets import electra
    except ImportError as exc:
        raise Skip(f"snippets.electra is not available ({exc})") from exc
    repeats = 5 if quick else 30
    out: dict[str, object] = {"load": [load()]}
    if all(hasattr(electra, n) for n in ("TinyElectra", "pretraining_step")):
        out["step"] = _step_benchmark(electra, repeats)
    else:
        out["step"] = {"skipped": "snippets.electra has no TinyElectra / pretraining_step yet"}
    if hasattr(electra, "rtd_loss"):
        out["loss"] = _loss_benchmark(electra.rtd_loss, repeats)
    else:
        out["loss"] = {"skipped": "snippets.electra has no rtd_loss yet"}
    out["load"].append(load())
    return out
