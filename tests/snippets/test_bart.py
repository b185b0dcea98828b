"""Tests of snippets.bart: hand-computed vectors, invariants on documents of distinct ids, the Poisson span lengths,
agreement in distribution with a port of fairseq's masking loop, and the errors bad input gets."""

from __future__ import annotations

import math
from collections import Counter
from itertools import chain, permutations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.bart import (
    _insert_masks,
    _masking_budget,
    _poisson_table,
    _replace_spans,
    document_rotation,
    sentence_permutation,
    text_infilling,
    token_deletion,
    token_masking,
)

BOS, EOS, MASK, STOP = 0, 2, 3, 13
FIRST = 10  # inner ids are FIRST, FIRST + 1, ...: distinct, so every output token says where it came from


def _doc(n: int) -> torch.Tensor:
    """<s>, n distinct inner ids in increasing order, </s>."""
    return torch.cat([torch.tensor([BOS]), torch.arange(FIRST, FIRST + n), torch.tensor([EOS])])


def _gaps(out: torch.Tensor, n: int) -> list[tuple[int, int]]:
    """For each stretch between two consecutive kept tokens of the output: (removed originals, [MASK]s there).

    Works on the output of a document made by ``_doc``: a kept inner token id gives its original position.
    """
    positions, masks, gaps = [0], 0, []
    for token in out[1:].tolist():
        if token == MASK:
            masks += 1
            continue
        pos = n + 1 if token == EOS else token - FIRST + 1
        gaps.append((pos - positions[-1] - 1, masks))
        positions.append(pos)
        masks = 0
    return gaps


def _chi2_critical_001(df: int) -> float:
    """The 0.999 quantile of chi-square(df), by the Wilson-Hilferty approximation (within 1% for df >= 3)."""
    z = 3.090232  # the 0.999 quantile of N(0, 1)
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


# --- a port of fairseq's masking loop ----------------------------------------------------------------------
# Ported for these tests from facebookresearch/fairseq, fairseq/data/denoising_dataset.py at commit
# 3d262bb25690e4eb2e7d3c1309b1e9c406ca4b99: DenoisingDataset.add_whole_word_mask (l.257-362) with
# mask_length="span-poisson", replace_length=1, mask_random=0 and no whole-word mask (every inner token a word
# start), then add_insertion_noise (l.379-400); the span table is built as in __init__ (l.164-177). The global
# RNG of the original is replaced by an explicit generator; the control flow and the arithmetic are the original's.


def _fairseq_table(lam: float) -> torch.Tensor:
    ps, lam_k, fact = [], 1.0, 1
    for k in range(128):
        ps.append(math.exp(-lam) * lam_k / fact)
        lam_k *= lam
        fact *= k + 1
        if ps[-1] < 1e-7:
            break
    return torch.tensor(ps, dtype=torch.float32)


def _fairseq_insertion_noise(tokens: torch.Tensor, p: float, g: torch.Generator) -> torch.Tensor:
    if p == 0.0:
        return tokens
    num_tokens = len(tokens)
    n = int(math.ceil(num_tokens * p))  # float64: ceil(L * (k / L)) can be k + 1
    noise_indices = torch.randperm(num_tokens + n - 2, generator=g)[:n] + 1
    noise_mask = torch.zeros(num_tokens + n, dtype=torch.bool)
    noise_mask[noise_indices] = True
    result = torch.full((n + num_tokens,), -1, dtype=torch.int64)
    result[noise_indices] = MASK
    result[~noise_mask] = tokens
    return result


def _fairseq_infilling(source: torch.Tensor, p: float, lam: float, g: torch.Generator) -> torch.Tensor:
    source = source.clone()
    is_word_start = torch.ones(source.size())
    is_word_start[0] = 0
    is_word_start[-1] = 0
    num_to_mask = int(math.ceil(is_word_start.float().sum() * p))  # a float32 tensor times p
    num_inserts = 0
    if num_to_mask == 0:
        return source
    table = _fairseq_table(lam)
    lengths = torch.multinomial(table, num_to_mask, replacement=True, generator=g)  # Categorical(ps).sample
    cum_length = torch.cumsum(lengths, 0)
    while cum_length[-1] < num_to_mask:
        more = torch.multinomial(table, num_to_mask, replacement=True, generator=g)
        lengths = torch.cat([lengths, more], dim=0)
        cum_length = torch.cumsum(lengths, 0)
    i = 0
    while cum_length[i] < num_to_mask:
        i += 1
    lengths[i] = num_to_mask - (0 if i == 0 else cum_length[i - 1])
    num_to_mask = i + 1
    lengths = lengths[:num_to_mask]
    lengths = lengths[lengths > 0]
    num_inserts = num_to_mask - lengths.size(0)
    num_to_mask -= num_inserts
    if num_to_mask == 0:
        return _fairseq_insertion_noise(source, num_inserts / source.size(0), g)
    word_starts = is_word_start.nonzero(as_tuple=False)
    indices = word_starts[torch.randperm(word_starts.size(0), generator=g)[:num_to_mask]].squeeze(1)
    source_length = source.size(0)
    to_keep = torch.ones(source_length, dtype=torch.bool)
    is_word_start[-1] = 255  # a long "word" at </s> stops every span there
    source[indices] = MASK
    lengths -= 1
    while indices.size(0) > 0:
        lengths -= is_word_start[indices + 1].long()
        uncompleted = lengths >= 0
        indices = indices[uncompleted] + 1
        lengths = lengths[uncompleted]
        to_keep[indices] = False  # replace_length=1: the rest of the span is deleted
    source = source[to_keep]
    if num_inserts > 0:
        source = _fairseq_insertion_noise(source, num_inserts / source.size(0), g)
    return source


# --- Hand-computed test vectors (the Poisson table and span budget of fairseq denoising_dataset.py)


def test_poisson_table_vector() -> None:
    table = _poisson_table(3.0)
    assert table.numel() == 18
    expected = [0.049787, 0.149361, 0.224042, 0.224042, 0.168031, 0.100819, 0.050409, 0.021604]
    torch.testing.assert_close(table[:8], torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=0)
    table = _poisson_table(3.5)
    assert table.numel() == 19
    expected = [0.030197, 0.105691, 0.184959, 0.215785, 0.188812, 0.132169]
    torch.testing.assert_close(table[:6], torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(table, _fairseq_table(3.5).double(), atol=1e-7, rtol=0)


@pytest.mark.parametrize(("n", "budget"), [(10, 3), (20, 6), (50, 16), (100, 31), (510, 153)])
def test_float32_budget_vector(n: int, budget: int) -> None:
    # Exact arithmetic would give 15 for 50 and 30 for 100; fairseq's float32 product gives one more.
    assert _masking_budget(n, 0.3) == budget
    g = torch.Generator().manual_seed(n)
    assert int((token_masking(_doc(n), MASK, g) == MASK).sum()) == budget
    assert token_deletion(_doc(n), g).numel() == n + 2 - budget


def test_infilling_by_hand_vector() -> None:
    A, B, C, D, E, F, G = range(20, 27)
    doc = torch.tensor([BOS, A, B, C, D, E, F, G, EOS])
    spans = _replace_spans(doc, starts=torch.tensor([2]), lengths=torch.tensor([3]), mask_id=MASK)
    assert spans.tolist() == [BOS, A, MASK, E, F, G, EOS]
    # One 0-length span: a [MASK] inserted at one of the 6 inner slots, each about equally often (the slots on
    # either side of the span's [MASK] give the same sequence).
    outcomes = Counter(
        tuple(_insert_masks(spans, 1, MASK, torch.Generator().manual_seed(s)).tolist()) for s in range(600)
    )
    assert (BOS, A, MASK, E, F, MASK, G, EOS) in outcomes
    assert set(outcomes) == {
        (BOS, MASK, A, MASK, E, F, G, EOS),
        (BOS, A, MASK, MASK, E, F, G, EOS),
        (BOS, A, MASK, E, MASK, F, G, EOS),
        (BOS, A, MASK, E, F, MASK, G, EOS),
        (BOS, A, MASK, E, F, G, MASK, EOS),
    }
    assert 160 < outcomes[(BOS, A, MASK, MASK, E, F, G, EOS)] < 240  # 200 expected (sd 11.5); 100 for the others
    assert min(outcomes.values()) > 60


def test_rotation_vector_and_uniform_offsets() -> None:
    doc = torch.tensor([0, 5, 6, 7, 8, 2])
    outcomes = Counter(tuple(document_rotation(doc, torch.Generator().manual_seed(s)).tolist()) for s in range(800))
    assert set(outcomes) == {(0, 5, 6, 7, 8, 2), (0, 6, 7, 8, 5, 2), (0, 7, 8, 5, 6, 2), (0, 8, 5, 6, 7, 2)}
    assert min(outcomes.values()) > 150  # 200 expected each (binomial sd 12): uniform over the 4 inner tokens


def test_permutation_vectors() -> None:
    doc = torch.tensor([0, 40, 41, 13, 50, 51, 13, 60, 13, 2])
    outcomes = Counter(
        tuple(sentence_permutation(doc, STOP, torch.Generator().manual_seed(s)).tolist()) for s in range(600)
    )
    assert len(outcomes) == 6 and min(outcomes.values()) > 60  # all 3! orders, each about 100 times
    assert (0, 60, 13, 40, 41, 13, 50, 51, 13, 2) in outcomes
    no_final_stop = torch.tensor([0, 40, 41, 13, 50, 51, 2])
    outcomes = {
        tuple(sentence_permutation(no_final_stop, STOP, torch.Generator().manual_seed(s)).tolist()) for s in range(50)
    }
    assert outcomes == {(0, 40, 41, 13, 50, 51, 2), (0, 50, 51, 40, 41, 13, 2)}


def test_monte_carlo_vector() -> None:
    # 100 inner tokens, mask 0.3, lambda 3. Reference from fairseq over 2000 seeds: share of inner tokens masked or
    # deleted 0.276 on average, range [0.18, 0.31]; 9.06 [MASK] per document on average, range 4-16.
    removed, masks = [], []
    for seed in range(1000):
        out = text_infilling(_doc(100), MASK, torch.Generator().manual_seed(seed))
        removed.append(100 - int(((out != MASK) & (out >= FIRST)).sum()))
        masks.append(int((out == MASK).sum()))
    assert sum(removed) / 100_000 == pytest.approx(0.276, abs=0.006)  # the sd of one document is about 0.025
    assert max(removed) <= 31  # never more than the budget
    assert min(removed) >= 15
    assert sum(masks) / 1000 == pytest.approx(9.06, abs=0.25)  # the sd of one document is about 2
    assert min(masks) >= 2 and max(masks) <= 18


# --- invariants on documents of distinct ids ---------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 60), ratio=st.floats(0.0, 1.0), lam=st.floats(0.5, 6.0), seed=st.integers(0, 2**31 - 1))
def test_infilling_invariants(n: int, ratio: float, lam: float, seed: int) -> None:
    doc = _doc(n)
    out = text_infilling(doc, MASK, torch.Generator().manual_seed(seed), mask_ratio=ratio, poisson_lambda=lam)
    assert out[0] == BOS and out[-1] == EOS  # the ends are never touched
    assert not bool(((out[1:-1] == BOS) | (out[1:-1] == EOS)).any())
    kept = out[(out != MASK)][1:-1]
    assert bool((kept[1:] > kept[:-1]).all())  # the kept tokens are a subsequence in the original order
    budget = _masking_budget(n, ratio)
    gaps = _gaps(out, n)
    assert sum(r for r, _ in gaps) <= budget  # overlapping spans and </s> can only lower the count
    assert all(m >= 1 for r, m in gaps if r > 0)  # every removed stretch is marked by at least one [MASK]
    if budget == 0:
        assert torch.equal(out, doc)
    else:
        assert int((out == MASK).sum()) >= 1


def test_removed_tokens_per_mask_and_share_of_insertions() -> None:
    # Sparse spans (3% of 3000 tokens) rarely touch, so each [MASK] stands for one drawn span: the removed tokens
    # per [MASK] estimate the mean length lambda, and the [MASK] with nothing removed are the 0-length spans.
    removed, masks, inserted = 0, 0, 0
    for seed in range(10):
        gaps = _gaps(text_infilling(_doc(3000), MASK, torch.Generator().manual_seed(seed), mask_ratio=0.03), 3000)
        removed += sum(r for r, _ in gaps)
        masks += sum(m for _, m in gaps)
        inserted += sum(m for r, m in gaps if r == 0)
    assert removed == pytest.approx(10 * 90, abs=10)  # the budget is 90 per document; few spans overlap
    assert removed / masks == pytest.approx(3.0, abs=0.25)  # about 300 spans: the sd of the mean is about 0.1
    assert inserted / masks == pytest.approx(math.exp(-3.0), abs=0.04)  # 0.0498; the sd is about 0.013


def test_isolated_span_lengths_follow_poisson() -> None:
    # A [MASK] alone between two kept tokens is one span (at 1% of 20000 tokens, spans rarely touch and one in 67
    # is the trimmed last one); the originals missing
    # there are its length. Their histogram is compared with Poisson(3) by a chi-square statistic over the bins
    # 0, 1, ..., 8 and ">= 9"; the bound is the 0.999 quantile of chi-square with 9 degrees of freedom (27.9).
    lengths: list[int] = []
    for seed in range(15):
        out = text_infilling(_doc(20000), MASK, torch.Generator().manual_seed(seed), mask_ratio=0.01)
        lengths += [r for r, m in _gaps(out, 20000) if m == 1]
    assert len(lengths) > 300
    table = _poisson_table(3.0)
    expected = torch.cat([table[:9], table[9:].sum().unsqueeze(0)]) / table.sum() * len(lengths)  # (10,)
    counts = torch.bincount(torch.tensor(lengths).clamp(max=9), minlength=10).double()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < _chi2_critical_001(9)
    # The same statistic rejects a nearby distribution: lengths drawn from Poisson(3.5) are told apart.
    shifted = _poisson_table(3.5)
    wrong = torch.cat([shifted[:9], shifted[9:].sum().unsqueeze(0)]) / shifted.sum() * len(lengths)
    assert float(((counts - wrong) ** 2 / wrong).sum()) > _chi2_critical_001(9)


def test_agrees_in_distribution_with_the_fairseq_port() -> None:
    # 100-token documents, mask 0.3, lambda 3, 500 documents from each implementation on disjoint seeds: the
    # histograms of removed tokens and of [MASK] counts pass a two-sample chi-square test of homogeneity at the
    # 0.001 level (bins pooled until each holds at least 20 documents of each sample).
    ours, theirs = [], []
    for seed in range(500):
        mine = text_infilling(_doc(100), MASK, torch.Generator().manual_seed(seed))
        port = _fairseq_infilling(_doc(100), 0.3, 3.0, torch.Generator().manual_seed(10**6 + seed))
        for sink, out in ((ours, mine), (theirs, port)):
            assert out[0] == BOS and out[-1] == EOS
            gaps = _gaps(out, 100)
            sink.append((sum(r for r, _ in gaps), sum(m for _, m in gaps)))
    for index in (0, 1):
        a = Counter(x[index] for x in ours)
        b = Counter(x[index] for x in theirs)
        bins: list[tuple[int, int]] = []
        pending = (0, 0)
        for value in sorted(set(a) | set(b)):
            pending = (pending[0] + a[value], pending[1] + b[value])
            if min(pending) >= 20:
                bins.append(pending)
                pending = (0, 0)
        bins[-1] = (bins[-1][0] + pending[0], bins[-1][1] + pending[1])
        chi2 = sum((x - y) ** 2 / (x + y) for x, y in bins)  # equal sample sizes
        assert len(bins) >= 5
        assert chi2 < _chi2_critical_001(len(bins) - 1), (index, bins)
    mean = [sum(x[i] for x in ours) / 500 - sum(x[i] for x in theirs) / 500 for i in (0, 1)]
    assert abs(mean[0]) < 0.6 and abs(mean[1]) < 0.5  # 4 standard errors; 27.6 removed, 9.06 [MASK] on average


@pytest.mark.parametrize("n", [40, 100, 185])
def test_same_draws_as_the_fairseq_port(n: int) -> None:
    # Stronger than agreement in distribution: given the same generator, the snippet draws the same random numbers
    # in the same order (lengths, span starts, insertion slots), so it returns the very same document.
    for seed in range(100):
        ours = text_infilling(_doc(n), MASK, torch.Generator().manual_seed(seed))
        theirs = _fairseq_infilling(_doc(n), 0.3, 3.0, torch.Generator().manual_seed(seed))
        assert torch.equal(ours, theirs), seed


def test_one_mask_per_zero_length_span_unlike_fairseq() -> None:
    # fairseq inserts ceil(L * (k / L)) tokens for k 0-length spans in a document of L tokens, in float64: for
    # L = 187 and k = 3 that is 4. The snippet inserts exactly k.
    assert math.ceil(187 * (3 / 187)) == 4
    doc = _doc(185)  # 187 tokens
    assert int((_fairseq_insertion_noise(doc, 3 / 187, torch.Generator().manual_seed(0)) == MASK).sum()) == 4
    assert int((_insert_masks(doc, 3, MASK, torch.Generator().manual_seed(0)) == MASK).sum()) == 3


def test_token_masking_and_deletion() -> None:
    doc = _doc(40)
    hits = torch.zeros(42)
    for seed in range(300):
        masked = token_masking(doc, MASK, torch.Generator().manual_seed(seed))
        assert masked.shape == doc.shape and masked[0] == BOS and masked[-1] == EOS
        assert int((masked == MASK).sum()) == 12  # ceil(0.3 * 40)
        assert torch.equal(masked[masked != MASK], doc[masked != MASK])  # the others are untouched
        hits += (masked == MASK).float()
        deleted = token_deletion(doc, torch.Generator().manual_seed(seed))
        assert deleted.numel() == 30 and deleted[0] == BOS and deleted[-1] == EOS
        assert bool((deleted[2:-1] > deleted[1:-2]).all())  # the survivors keep their order
    assert hits[0] == hits[-1] == 0
    assert hits[1:-1].min() > 60 and hits[1:-1].max() < 120  # 90 expected at each inner position (sd 7.9)


def test_sentence_permutation_keeps_the_sentences() -> None:
    # Runs of full stops stay with their sentence; a sentence without a full stop at the end is a sentence too.
    doc = torch.tensor([BOS, 40, STOP, STOP, 50, 51, STOP, 60, 61, 62, STOP, STOP, STOP, 70, EOS])
    sentences = [[40, STOP, STOP], [50, 51, STOP], [60, 61, 62, STOP, STOP, STOP], [70]]
    orders = {(BOS, *chain.from_iterable(sentences[i] for i in order), EOS) for order in permutations(range(4))}
    seen: Counter[tuple[int, ...]] = Counter()
    for seed in range(480):
        out = sentence_permutation(doc, STOP, torch.Generator().manual_seed(seed))
        assert tuple(out.tolist()) in orders  # whole sentences, each with all its full stops, in some order
        seen[tuple(out.tolist())] += 1
    assert len(seen) == 24 and min(seen.values()) >= 6  # every order of the 4 sentences, 20 expected each
    one = torch.tensor([BOS, 40, 41, STOP, EOS])
    assert torch.equal(sentence_permutation(one, STOP, torch.Generator().manual_seed(0)), one)


def test_determinism_for_a_seeded_generator() -> None:
    doc = _doc(200)
    calls = {
        "infilling": lambda g: text_infilling(doc, MASK, g),
        "masking": lambda g: token_masking(doc, MASK, g),
        "deletion": lambda g: token_deletion(doc, g),
        "permutation": lambda g: sentence_permutation(doc.where(doc % 7 != 0, STOP), STOP, g),
        "rotation": lambda g: document_rotation(doc, g),
    }
    for name, call in calls.items():
        first = call(torch.Generator().manual_seed(5))
        assert torch.equal(first, call(torch.Generator().manual_seed(5))), name
        assert not torch.equal(first, call(torch.Generator().manual_seed(6))), name
    before = doc.clone()
    text_infilling(doc, MASK, torch.Generator().manual_seed(0))
    assert torch.equal(doc, before)  # the input is not modified


def test_short_documents() -> None:
    g = torch.Generator().manual_seed(0)
    empty = torch.tensor([BOS, EOS])
    for out in (
        text_infilling(empty, MASK, g),
        token_masking(empty, MASK, g),
        token_deletion(empty, g),
        sentence_permutation(empty, STOP, g),
        document_rotation(empty, g),
    ):
        assert out.tolist() == [BOS, EOS]
    one = torch.tensor([BOS, 40, EOS])
    assert text_infilling(one, MASK, g, mask_ratio=1.0, poisson_lambda=0.5).tolist()[1:-1].count(40) == 0
    assert document_rotation(one, g).tolist() == [BOS, 40, EOS]


# --- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: text_infilling(torch.tensor([0.0, 1.0, 2.0]), MASK, g), r"tokens: expected an int64 tensor"),
        (lambda g: text_infilling(torch.zeros(2, 5, dtype=torch.int64), MASK, g), r"shape \(T,\).*\(2, 5\)"),
        (lambda g: text_infilling(torch.tensor([0]), MASK, g), r"T >= 2.*\(1,\)"),
        (lambda g: text_infilling(_doc(5), 3.0, g), r"mask_id: expected an integer"),
        (lambda g: text_infilling(_doc(5), MASK, g, mask_ratio=1.5), r"mask_ratio: expected a number in \[0, 1\]"),
        (lambda g: text_infilling(_doc(5), MASK, g, mask_ratio=True), r"mask_ratio"),
        (lambda g: text_infilling(_doc(5), MASK, g, poisson_lambda=0.0), r"poisson_lambda: expected a positive"),
        (lambda g: text_infilling(_doc(5), MASK, 0), r"generator: expected a torch.Generator"),
        (lambda g: token_masking(_doc(5), MASK, g, mask_ratio=-0.1), r"mask_ratio"),
        (lambda g: token_deletion(_doc(5), g, deletion_ratio=2), r"deletion_ratio"),
        (lambda g: token_deletion([0, 5, 2], g), r"tokens: expected an int64 tensor.*got list"),
        (lambda g: sentence_permutation(_doc(5), ".", g), r"sentence_end_id: expected an integer"),
        (lambda g: document_rotation(torch.tensor([[0, 5, 2]]), g), r"tokens"),
    ],
)
def test_bad_input_raises(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(torch.Generator().manual_seed(0))
