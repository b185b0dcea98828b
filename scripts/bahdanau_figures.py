"""Train the tiny RNNsearch to reverse sequences on CPU and draw the alignment of one example, as in Figure 3.

Run from the repository root:

    .venv/bin/python scripts/bahdanau_figures.py

It writes ``docs/assets/bahdanau/alignment.svg`` and prints the numbers the review quotes, with the run time.
Everything is offline, seeded and single-threaded, so a rerun on the same machine rewrites the same bytes.

The training is the one the review runs and the tests check: 200 Adam steps (learning rate 0.01, gradient norm
clipped at 1) of 64 random sequences of 3 to 8 symbols out of 10, seeds 0. The example is a fixed source of 8
symbols with repeated letters, so that the model has to find the position, not the letter.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from snippets.bahdanau import EOS, RNNsearch, reversal_accuracy, reversal_batch, train_reversal

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "assets" / "bahdanau"

STEPS, EVAL_SIZE = 200, 500
LETTERS = "abcdefghij"  # symbol ids 3 ... 12
EXAMPLE = "bedacebf"


def train() -> tuple[RNNsearch, float, float]:
    torch.manual_seed(0)
    model = RNNsearch(vocab_size=13)  # embeddings 16, GRUs 32, alignment model 32, 16 maxout units
    wall, cpu = time.perf_counter(), time.process_time()
    train_reversal(model, STEPS, torch.Generator().manual_seed(0))
    return model, time.perf_counter() - wall, time.process_time() - cpu


def alignment_statistics(model: RNNsearch) -> dict[str, float]:
    """Accuracy and where the weights of each output word go, on held-out sources."""
    src, src_mask, _, tgt_out = reversal_batch(EVAL_SIZE, torch.Generator().manual_seed(100))
    _, alignment = model.greedy_decode(src, src_mask, tgt_out.shape[1])  # (B, T_y, T_x)
    peak = near = mass = total = 0.0
    for b, T in enumerate(src_mask.sum(1).tolist()):
        mirror = torch.arange(T - 1, -1, -1)
        offset = (alignment[b, :T].argmax(dim=1) - mirror).abs()
        peak += int((offset == 0).sum())
        near += int((offset <= 1).sum())
        mass += float(alignment[b, torch.arange(T), mirror].sum())
        total += T
    return {
        "accuracy": reversal_accuracy(model, src, src_mask, tgt_out),
        "peak_on_mirror": peak / total,
        "peak_within_one": near / total,
        "mass_on_mirror": mass / total,
    }


def plot(model: RNNsearch) -> tuple[Path, list[str], torch.Tensor]:
    src = torch.tensor([[3 + LETTERS.index(c) for c in EXAMPLE]])
    tokens, alignment = model.greedy_decode(src, torch.ones_like(src, dtype=torch.bool), len(EXAMPLE) + 1)
    output = ["</s>" if t == EOS else LETTERS[t - 3] for t in tokens[0].tolist()]
    weights = alignment[0].numpy()  # (T_y, T_x)
    plt.rcParams.update({"svg.hashsalt": "bahdanau-alignment", "svg.fonttype": "none", "font.size": 10})
    fig, ax = plt.subplots(figsize=(4.6, 4.1), constrained_layout=True)
    image = ax.pcolormesh(weights, cmap="gray", vmin=0.0, vmax=1.0, edgecolors="face", linewidth=0.4)  # no seams
    ax.set_xticks([j + 0.5 for j in range(len(EXAMPLE))], list(EXAMPLE))
    ax.set_yticks([i + 0.5 for i in range(len(output))], output)
    ax.invert_yaxis()
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set(xlabel="source x (read by the encoder)", ylabel="output y (generated)", aspect="equal")
    fig.colorbar(image, ax=ax, shrink=0.8, label=r"weight $\alpha_{ij}$")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "alignment.svg"
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return path, output, alignment[0]


def main() -> None:
    torch.set_num_threads(1)
    model, wall, cpu = train()
    stats = alignment_statistics(model)
    path, output, weights = plot(model)
    print(f"source {' '.join(EXAMPLE)} -> output {' '.join(output)}")
    torch.set_printoptions(precision=2, sci_mode=False, linewidth=120)
    print(weights)
    print(f"held-out accuracy (whole sequences, {EVAL_SIZE} sources): {stats['accuracy']:.3f}")
    print(
        f"peak weight on the mirror position: {stats['peak_on_mirror']:.3f}; within one position: "
        f"{stats['peak_within_one']:.3f}; mean weight on the mirror position: {stats['mass_on_mirror']:.3f}"
    )
    print(
        f"training: {STEPS} steps of 64 sequences in {wall:.1f} s wall, {cpu:.1f} s CPU, 1 thread, "
        f"torch {torch.__version__}"
    )
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
