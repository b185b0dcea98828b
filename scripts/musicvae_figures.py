"""Train a tiny MusicVAE on synthetic melodies, interpolate between two of them, draw and write the result.

Run from the repository root:

    .venv/bin/python scripts/musicvae_figures.py

It writes into docs/assets/musicvae/: ``interpolation.svg`` (a piano roll of every step) and the MIDI files
``interp_<i>.mid`` (one per step) and ``interp_all.mid`` (all steps in a row). Everything is offline, seeded and
single-threaded, so a rerun on the same machine rewrites the same bytes. Training takes about 75 s of CPU time on
one core.

The data set is enumerated, not sampled: every combination of 6 one-bar rhythms, 5 melodic contours, 8 starting
scale degrees and 4 bar-to-bar sequences (960 four-bar melodies of eighth notes in C major) is a training
example, except the two interpolation endpoints, which are held out.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import mido
import torch

from kbsite.figure_style import pyplot, save_svg
from snippets.musicvae import MusicVAE, beta_schedule

OUT = Path(__file__).resolve().parent.parent / "docs" / "assets" / "musicvae"

# Tokens: 0 = rest, 1 = hold the sounding note, 2 + k = start scale degree k (C major, C4 .. C6).
REST, HOLD = 0, 1
SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79, 81, 83, 84]
VOCAB = 2 + len(SCALE)
BARS, STEPS = 4, 8  # four bars of eight eighth notes
RHYTHMS = [[2, 2, 2, 2], [1, 1, 2, 1, 1, 2], [3, 1, 2, 2], [2, 1, 1, 4], [1, 1, 1, 1, 2, 2], [4, 2, 2]]
CONTOURS = {
    "up": lambda i: i,
    "down": lambda i: -i,
    "arpeggio": lambda i: [0, 2, 4, 7, 4, 2][i],
    "zigzag": lambda i: [0, 2, 1, 3, 2, 4][i],
    "neighbour": lambda i: [0, 1, 0, -1, 0, 1][i],
}
SEQUENCES = [[0, 1, 2, 0], [0, -1, -2, 0], [0, 2, 4, 0], [0, 0, 3, 0]]
ROOTS = range(3, 11)

START = (RHYTHMS[0], "arpeggio", 3, SEQUENCES[2])  # quarter-note arpeggios climbing by thirds
END = (RHYTHMS[1], "down", 10, SEQUENCES[1])  # falling eighth-note runs stepping down

STEPS_TRAIN, BATCH, LR = 1500, 64, 3e-3
Z_DIM, FREE_BITS, MAX_BETA, BETA_RATE = 16, 8.0, 0.2, 0.999
NUM_INTERP = 5


def melody(rhythm: list[int], contour: str, root: int, sequence: list[int]) -> list[int]:
    """Four bars: the same one-bar motif, moved by the scale steps of ``sequence``."""
    tokens = []
    for shift in sequence:
        for i, duration in enumerate(rhythm):
            degree = min(max(root + shift + CONTOURS[contour](i), 0), len(SCALE) - 1)
            tokens += [2 + degree] + [HOLD] * (duration - 1)
    return tokens


def data_set() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    held_out = {tuple(melody(*START)), tuple(melody(*END))}
    rows = {tuple(melody(r, c, root, s)) for r, c, root, s in itertools.product(RHYTHMS, CONTOURS, ROOTS, SEQUENCES)}
    train = torch.tensor(sorted(rows - held_out))  # (N, 32), sorted so the order never depends on hashing
    return train, torch.tensor(melody(*START)), torch.tensor(melody(*END))


def train_model(train: torch.Tensor) -> tuple[MusicVAE, dict[str, float]]:
    torch.manual_seed(0)
    model = MusicVAE(VOCAB, BARS, STEPS, encoder_size=64, z_dim=Z_DIM, conductor_size=64, decoder_size=64)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for step in range(STEPS_TRAIN):
        batch = train[torch.randint(0, len(train), (BATCH,), generator=g)]
        beta = beta_schedule(step, MAX_BETA, BETA_RATE)
        terms = model.loss(batch, beta, FREE_BITS, generator=g)
        opt.zero_grad()
        terms.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(train)
        recon = model.decoder.sample(mu, temperature=0.0)
        terms = model.loss(train, beta, FREE_BITS, generator=g)
    stats = {
        "seconds": seconds,
        "accuracy": (recon == train).float().mean().item(),  # greedy decoding from the posterior means
        "exact": (recon == train).all(dim=1).float().mean().item(),
        "kl_bits": terms.kl.mean().item() / torch.log(torch.tensor(2.0)).item(),
        "recon_nats": terms.recon.mean().item(),
    }
    return model, stats


def notes(tokens: list[int]) -> list[tuple[int, int, int]]:
    """(start step, length in steps, MIDI pitch) of every note; a hold extends the sounding note."""
    out: list[list[int]] = []
    for t, tok in enumerate(tokens):
        if tok >= 2:
            out.append([t, 1, SCALE[tok - 2]])
        elif tok == HOLD and out and out[-1][0] + out[-1][1] == t:
            out[-1][1] += 1
    return [tuple(n) for n in out]  # type: ignore[misc]


def piano_roll(rows: list[tuple[str, list[int]]], path: Path) -> None:
    plt = pyplot("musicvae")
    fig, axes = plt.subplots(len(rows), 1, figsize=(7.5, 1.05 * len(rows)), sharex=True)
    T = BARS * STEPS
    for ax, (label, tokens) in zip(axes, rows):
        is_input = label.startswith("input")
        for start, length, pitch in notes(tokens):
            ax.add_patch(
                plt.Rectangle(
                    (start, pitch - 0.45), length - 0.1, 0.9, color="#888888" if is_input else "#3f51b5", linewidth=0
                )
            )
        for bar in range(1, BARS):
            ax.axvline(bar * STEPS - 0.05, color="#bbbbbb", linewidth=0.8)
        ax.set_xlim(0, T)
        ax.set_ylim(SCALE[0] - 1.5, SCALE[-1] + 1.5)
        ax.set_yticks([60, 72, 84], ["C4", "C5", "C6"])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    axes[-1].set_xticks([b * STEPS for b in range(BARS + 1)], [f"bar {b + 1}" for b in range(BARS)] + ["end"])
    fig.tight_layout(h_pad=0.3)
    save_svg(fig, path)
    plt.close(fig)


def write_midi(melodies: list[list[int]], path: Path, gap_bars: int = 1) -> None:
    """Melodies one after another (a bar of silence between them), 120 bpm, eighth note = 240 ticks."""
    eighth = 240
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    track.append(mido.Message("program_change", program=0, time=0))
    clock, last = 0, 0  # absolute ticks of the melody start and of the last event
    for tokens in melodies:
        for start, length, pitch in notes(tokens):
            on, off = clock + start * eighth, clock + (start + length) * eighth
            track.append(mido.Message("note_on", note=pitch, velocity=80, time=on - last))
            track.append(mido.Message("note_off", note=pitch, velocity=0, time=off - on))
            last = off
        clock += (len(tokens) + gap_bars * STEPS) * eighth
    track.append(mido.MetaMessage("end_of_track", time=max(clock - gap_bars * STEPS * eighth - last, 0)))
    midi = mido.MidiFile(ticks_per_beat=2 * eighth)
    midi.tracks.append(track)
    midi.save(path)


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    train, start, end = data_set()
    model, stats = train_model(train)
    steps = model.interpolate(start, end, num_steps=NUM_INTERP)  # (N, 32), greedy decoding
    ts = torch.linspace(0, 1, NUM_INTERP).tolist()
    rows = [("input A", start.tolist())]
    rows += [(f"t = {t:.2f}", s.tolist()) for t, s in zip(ts, steps)]
    rows += [("input B", end.tolist())]
    piano_roll(rows, OUT / "interpolation.svg")
    for i, s in enumerate(steps):
        write_midi([s.tolist()], OUT / f"interp_{i}.mid")
    write_midi([s.tolist() for s in steps], OUT / "interp_all.mid")
    print(f"training melodies: {len(train)}, steps: {STEPS_TRAIN}, batch: {BATCH}, time: {stats['seconds']:.0f} s")
    print(
        f"greedy reconstruction from mu on the training set: token accuracy {stats['accuracy']:.3f}, "
        f"exact melodies {stats['exact']:.3f}"
    )
    print(f"mean KL {stats['kl_bits']:.1f} bits, mean summed cross-entropy {stats['recon_nats']:.2f} nats")
    print(
        "A reconstructed exactly:",
        torch.equal(steps[0], start),
        "| B reconstructed exactly:",
        torch.equal(steps[-1], end),
    )
    known = {tuple(row) for row in train.tolist()}
    print("steps that are training melodies:", [tuple(s) in known for s in steps.tolist()])
    print(f"interp_all.mid lasts {mido.MidiFile(OUT / 'interp_all.mid').length:.1f} s")
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
