"""Pre-train a tiny ELECTRA on a synthetic corpus on CPU and draw the discriminator's learning curve.

Run from the repository root:

    .venv/bin/python scripts/electra_figures.py

It writes ``docs/assets/electra/learning_curve.svg`` and prints the numbers the review quotes, with the run time.
Everything is offline, seeded and single-threaded, so a rerun on the same machine rewrites the same bytes.

The corpus is made to have replacements a discriminator can and cannot detect. The 64 words form 8 topics of 8
words; the 8 words of a topic are 4 "even" words and 4 "odd" words. A sentence picks one topic and puts a
random even word of it at every even position and a random odd word at every odd position. A sampled
replacement is therefore detectable when it comes from another topic or from the wrong half of the topic, and
undetectable (as plausible as the original) when it is another word of the right half.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from kbsite.figure_style import pyplot, save_svg
from snippets.electra import TinyElectra, pretraining_step

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "assets" / "electra"

PAD, CLS, SEP, MASK, FIRST_WORD = 0, 1, 2, 3, 4
TOPICS, HALF = 8, 4  # 8 topics of 2 x 4 words
VOCAB = FIRST_WORD + TOPICS * 2 * HALF  # 68
MAX_LEN = 32  # [CLS] + up to 30 words + [SEP]
STEPS, BATCH, LR, WARMUP = 400, 32, 3e-3, 50
EVAL_EVERY, EVAL_SIZE = 20, 512


def make_corpus(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` padded sentences of 12 to 30 words: (n, MAX_LEN) ids and attention mask."""
    lengths = torch.randint(12, MAX_LEN - 1, (n,), generator=g)  # (n,)
    topic = torch.randint(TOPICS, (n, 1), generator=g)  # (n, 1)
    parity = torch.arange(1, MAX_LEN - 1) % 2  # (MAX_LEN - 2,): position parity, [CLS] at 0
    word = torch.randint(HALF, (n, MAX_LEN - 2), generator=g)  # (n, MAX_LEN - 2)
    words = FIRST_WORD + topic * 2 * HALF + parity * HALF + word  # (n, MAX_LEN - 2)
    is_word = torch.arange(MAX_LEN - 2) < lengths.unsqueeze(1)  # (n, MAX_LEN - 2)
    ids = torch.full((n, MAX_LEN), PAD)
    ids[:, 0] = CLS
    ids[:, 1:-1] = torch.where(is_word, words, PAD)
    ids[torch.arange(n), lengths + 1] = SEP
    return ids, (ids != PAD).long()


def detectable(original: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """True where a replacement can be told from the original: another topic, the wrong half, or not a word."""

    def group(ids: torch.Tensor) -> torch.Tensor:  # topic and half: 2 * topic + half
        return torch.where(ids >= FIRST_WORD, (ids - FIRST_WORD) // HALF, -1)

    return (corrupted != original) & (group(corrupted) != group(original))


def evaluate(model: TinyElectra, ids: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """Corrupt a fixed held-out set with the current generator and score the discriminator on it."""
    model.eval()
    with torch.no_grad():
        out = pretraining_step(model, None, ids, mask, MASK, (CLS, SEP), generator=torch.Generator().manual_seed(2))
    model.train()
    real, replaced = mask.bool(), out.is_replaced
    said_replaced = out.discriminator_logits > 0
    n_replaced = int(replaced.sum())
    return {
        "replaced_acc": float((said_replaced & replaced).sum()) / n_replaced,
        "detectable": float(detectable(ids, out.corrupted_ids).sum()) / n_replaced,
        "all_acc": float(((said_replaced == replaced) & real).sum() / real.sum()),
        "baseline_all": float((~replaced & real).sum() / real.sum()),
        "replaced_share": n_replaced / int(out.masked_positions.sum()),
        "mlm_loss": float(out.mlm_loss),
    }


def train() -> tuple[list[int], list[dict[str, float]], float, float]:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    eval_ids, eval_mask = make_corpus(EVAL_SIZE, torch.Generator().manual_seed(1))
    model = TinyElectra(VOCAB, MAX_LEN)  # embeddings 32, discriminator 64 wide, generator 16 wide, 2 layers each
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then linear decay, as in ELECTRA
        optimizer, lambda s: min(1.0, (s + 1) / WARMUP) * max(0.0, 1.0 - s / STEPS)
    )
    steps, history = [], []
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(STEPS + 1):
        if step % EVAL_EVERY == 0:
            steps.append(step)
            history.append(evaluate(model, eval_ids, eval_mask))
        if step == STEPS:
            break
        ids, mask = make_corpus(BATCH, g)  # a fresh batch and fresh masks every step
        pretraining_step(model, optimizer, ids, mask, MASK, (CLS, SEP), generator=g)
        schedule.step()
    return steps, history, time.perf_counter() - wall, time.process_time() - cpu


def plot(steps: list[int], history: list[dict[str, float]]) -> Path:
    plt = pyplot("electra-learning-curve")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    series = {key: [h[key] for h in history] for key in history[0]}
    left.plot(steps, series["replaced_acc"], marker=".", label="discriminator")
    left.plot(steps, series["detectable"], ls="--", label="share detectable (ceiling)")
    left.axhline(0.0, color="gray", ls=":", label='always "original"')
    left.set(title="Accuracy on replaced tokens", xlabel="step", ylim=(-0.03, 1.03))
    left.legend(loc="upper right", fontsize=8)
    right.plot(steps, series["all_acc"], marker=".", label="discriminator")
    right.plot(steps, series["baseline_all"], color="gray", ls=":", label='always "original"')
    right.set(title="Accuracy on all real tokens", xlabel="step", ylim=(0.25, 1.0))
    right.legend(loc="lower right", fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    path = save_svg(fig, OUT / "learning_curve.svg")
    plt.close(fig)
    return path


def main() -> None:
    torch.set_num_threads(1)
    steps, history, wall, cpu = train()
    path = plot(steps, history)
    print("step  replaced_acc  detectable  all_acc  baseline_all  replaced_share  mlm_loss")
    for step, h in zip(steps, history):
        print(
            f"{step:4d}  {h['replaced_acc']:12.3f}  {h['detectable']:10.3f}  {h['all_acc']:7.3f}  "
            f"{h['baseline_all']:12.3f}  {h['replaced_share']:14.3f}  {h['mlm_loss']:8.3f}"
        )
    best = max(range(len(steps)), key=lambda i: history[i]["replaced_acc"] if steps[i] > 0 else -1.0)
    last = history[-1]
    print(f"peak accuracy on replaced tokens (after step 0): {history[best]['replaced_acc']:.3f} at step {steps[best]}")
    print(
        f"final: replaced {last['replaced_acc']:.3f} (detectable share {last['detectable']:.3f}); "
        f"all tokens {last['all_acc']:.3f} vs always-original {last['baseline_all']:.3f}"
    )
    print(
        f"training and evaluation: {STEPS} steps of {BATCH} sentences in {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"1 thread, torch {torch.__version__}"
    )
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
