"""Tests of snippets.roberta: dynamic masking (a fixed-draw vector, HF parity, statistics), exact counts, packing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models

from snippets.roberta import IGNORE_INDEX, dynamic_mask, exact_mask_count, mask_from_uniforms, pack_full_sentences

# transformers takes about 2.5 s to import: each test imports what it compares with, and the module's tests share one
# xdist worker (make test runs with --dist loadgroup), so one process pays for it instead of every one.
pytestmark = pytest.mark.xdist_group("transformers")

if TYPE_CHECKING:
    from transformers import DataCollatorForLanguageModeling

MASK_ID = 50264  # RoBERTa's <mask>
VOCAB = 50265


def _hf_collator(vocab_size: int, mask_token_id: int, seed: int) -> DataCollatorForLanguageModeling:
    """Hugging Face's masked-LM collator over a local word-level tokenizer (nothing is downloaded)."""
    from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerFast

    names = ["<s>", "<pad>", "</s>", "<unk>"] + [f"w{i}" for i in range(vocab_size - 5)] + ["<mask>"]
    vocab = {name: i for i, name in enumerate(names)}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
        bos_token="<s>",
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        mask_token="<mask>",
    )
    assert len(tokenizer) == vocab_size and tokenizer.mask_token_id == mask_token_id
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    collator.generator = torch.Generator().manual_seed(seed)
    return collator


def _batch(B: int, T: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids in [4, 1000) with <s> first, </s> last and some padding; the special-tokens mask."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, 1000, (B, T), generator=g)
    ids[:, 0], ids[:, -1] = 0, 2
    ids[0, T // 2 :] = 1  # padding in the first row
    return ids, (ids == 0) | (ids == 1) | (ids == 2)


# --- shapes ---------------------------------------------------------------------------------------------


def test_shapes_and_dtypes() -> None:
    ids, special = _batch(3, 7)
    inputs, labels = dynamic_mask(ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(0))
    assert inputs.shape == labels.shape == (3, 7)
    assert inputs.dtype == labels.dtype == torch.int64
    assert torch.equal(ids, _batch(3, 7)[0])  # the input is not modified in place


# --- fixed-draw vector: the rule of transformers DataCollatorForLanguageModeling, given its uniforms ----------


def _papers_draws() -> dict[str, torch.Tensor]:
    u_mask = torch.full((1, 8), 0.99)  # unused positions: any value
    u_mask[0, [1, 3, 4]] = torch.tensor([0.30, 0.85, 0.95])
    u_random = torch.full((1, 8), 0.99)
    u_random[0, [3, 4]] = torch.tensor([0.20, 0.70])
    random_ids = torch.zeros(1, 8, dtype=torch.int64)
    random_ids[0, 3] = 11
    return {
        "u_select": torch.tensor([[0.01, 0.10, 0.50, 0.05, 0.14, 0.90, 0.02, 0.03]]),
        "u_mask": u_mask,
        "u_random": u_random,
        "random_ids": random_ids,
    }


def test_papers_vector() -> None:
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2, 1]])  # <s> ... </s> <pad>
    special = torch.tensor([[1, 0, 0, 0, 0, 0, 1, 1]])
    inputs, labels = mask_from_uniforms(ids, special, MASK_ID, **_papers_draws())
    assert inputs.tolist() == [[0, 50264, 6, 11, 8, 9, 2, 1]]
    assert labels.tolist() == [[-100, 5, -100, 7, 8, -100, -100, -100]]


def test_papers_vector_specials_stay_unmasked_despite_small_uniforms() -> None:
    # Positions 0 and 6 draw u = .01 and .02 (< 0.15) but are special; without the mask they would be targets.
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2, 1]])
    no_special = torch.zeros(1, 8, dtype=torch.bool)
    _, labels = mask_from_uniforms(ids, no_special, MASK_ID, **_papers_draws())
    assert labels[0, [0, 6, 7]].tolist() == [0, 2, 1]


# --- independent references ------------------------------------------------------------------------------


def _naive_mask(ids, special, mask_id, u1, u2, u3, rnd, p):  # type: ignore[no-untyped-def]
    """The corruption token by token, as the collator's documentation describes it."""
    inputs, labels = ids.tolist(), [[IGNORE_INDEX] * ids.shape[1] for _ in range(ids.shape[0])]
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            if special[b, t] or not u1[b, t] < p:
                continue
            labels[b][t] = int(ids[b, t])
            if u2[b, t] < 0.8:
                inputs[b][t] = mask_id
            elif u3[b, t] < 0.5:
                inputs[b][t] = int(rnd[b, t])
    return inputs, labels


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 12), p=st.floats(0.0, 1.0), seed=st.integers(0, 2**31 - 1))
def test_matches_naive_loop(B: int, T: int, p: float, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 50, (B, T), generator=g)
    special = torch.rand(B, T, generator=g) < 0.3
    u1, u2, u3 = (torch.rand(B, T, generator=g) for _ in range(3))
    rnd = torch.randint(0, 50, (B, T), generator=g)
    inputs, labels = mask_from_uniforms(ids, special, 99, u1, u2, u3, rnd, p)
    assert (inputs.tolist(), labels.tolist()) == _naive_mask(ids, special, 99, u1, u2, u3, rnd, p)


@pytest.mark.parametrize("seed", [0, 1])
def test_equals_huggingface_collator_with_the_same_seed(seed: int) -> None:
    vocab_size, mask_id = 40, 39
    collator = _hf_collator(vocab_size, mask_id, seed)
    ids = torch.randint(4, 39, (8, 24), generator=torch.Generator().manual_seed(123))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    special[0, 12:] = True  # padding
    hf_inputs, hf_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special.long())
    inputs, labels = dynamic_mask(
        ids, special.long(), mask_id, vocab_size, generator=torch.Generator().manual_seed(seed)
    )
    assert torch.equal(inputs, hf_inputs) and torch.equal(labels, hf_labels)
    assert bool((labels != IGNORE_INDEX).any()) and bool((inputs != ids).any())  # the comparison is not vacuous


def test_successive_calls_equal_huggingface_successive_calls() -> None:
    vocab_size, mask_id = 40, 39
    collator = _hf_collator(vocab_size, mask_id, seed=7)
    ids = torch.randint(4, 39, (4, 16), generator=torch.Generator().manual_seed(0))
    special = torch.zeros_like(ids, dtype=torch.bool)
    g = torch.Generator().manual_seed(7)
    for _ in range(3):
        hf_inputs, hf_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special)
        inputs, labels = dynamic_mask(ids, special, mask_id, vocab_size, generator=g)
        assert torch.equal(inputs, hf_inputs) and torch.equal(labels, hf_labels)


# --- the paper's properties ------------------------------------------------------------------------------


def test_million_tokens_selected_fraction_and_80_10_10_split() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, 50000, (1000, 1000), generator=g)  # 1e6 tokens, none equal to the mask id
    special = torch.zeros_like(ids, dtype=torch.bool)
    inputs, labels = dynamic_mask(ids, special, MASK_ID, VOCAB, generator=g)
    selected = labels != IGNORE_INDEX
    n = int(selected.sum())
    as_mask = int((selected & (inputs == MASK_ID)).sum())
    kept = int((selected & (inputs == ids)).sum())  # includes the rare random draw of the same id
    random = n - as_mask - kept
    assert n / ids.numel() == pytest.approx(0.15, abs=0.005)
    assert as_mask / n == pytest.approx(0.8, abs=0.005)
    assert random / n == pytest.approx(0.1, abs=0.005)
    assert kept / n == pytest.approx(0.1, abs=0.005)
    assert torch.equal(labels[selected], ids[selected])  # random and kept tokens stay targets
    assert torch.equal(inputs[~selected], ids[~selected])  # nothing else changes


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 30), seed=st.integers(0, 2**31 - 1))
def test_special_tokens_are_never_selected(B: int, T: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 100, (B, T), generator=g)
    special = torch.rand(B, T, generator=g) < 0.5
    inputs, labels = dynamic_mask(ids, special, 100, 101, mlm_probability=1.0, generator=g)
    assert bool((labels[special] == IGNORE_INDEX).all()) and torch.equal(inputs[special], ids[special])
    assert torch.equal(labels[~special], ids[~special])  # p = 1 selects every other token


def test_probability_zero_selects_nothing() -> None:
    ids, special = _batch(2, 9)
    inputs, labels = dynamic_mask(ids, special, MASK_ID, VOCAB, mlm_probability=0.0)
    assert torch.equal(inputs, ids) and bool((labels == IGNORE_INDEX).all())


def test_random_replacements_lie_in_the_vocabulary() -> None:
    ids = torch.full((200, 50), 5)
    special = torch.zeros_like(ids, dtype=torch.bool)
    inputs, _ = dynamic_mask(ids, special, 6, 7, mlm_probability=1.0, generator=torch.Generator().manual_seed(0))
    assert set(inputs.unique().tolist()) == set(range(7))  # 5 kept, 6 = mask, all of [0, 7) drawn at random


def test_a_new_mask_every_call_and_reproducible_with_a_generator() -> None:
    ids, special = _batch(4, 64)
    g = torch.Generator().manual_seed(3)
    first, second = (
        dynamic_mask(ids, special, MASK_ID, VOCAB, generator=g),
        dynamic_mask(ids, special, MASK_ID, VOCAB, generator=g),
    )
    assert not torch.equal(first[1], second[1])
    again = dynamic_mask(ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    torch.manual_seed(11)
    a = dynamic_mask(ids, special, MASK_ID, VOCAB)
    torch.manual_seed(11)
    b = dynamic_mask(ids, special, MASK_ID, VOCAB)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


# --- fairseq's exact count (fairseq/data/mask_tokens_dataset.py: floor(p * sz + U)) --------------------------


@pytest.mark.parametrize(("seq_len", "values", "mean"), [(10, {1, 2}, 1.5), (512, {76, 77}, 76.8)])
def test_exact_count_rounds_at_random_around_p_times_length(seq_len: int, values: set[int], mean: float) -> None:
    g = torch.Generator().manual_seed(0)
    counts = [exact_mask_count(seq_len, 0.15, generator=g) for _ in range(4000)]
    assert set(counts) == values
    assert sum(counts) / len(counts) == pytest.approx(mean, abs=0.03)  # standard error about 0.008


def test_exact_count_edge_cases_and_determinism() -> None:
    assert exact_mask_count(0) == 0
    assert exact_mask_count(20, 1.0) == 20
    a = [exact_mask_count(33, generator=torch.Generator().manual_seed(5)) for _ in range(2)]
    assert a[0] == a[1]


# --- FULL-SENTENCES packing ---------------------------------------------------------------------------------


def test_packing_example_crosses_documents_with_a_separator() -> None:
    docs = [[[1, 2], [3, 4, 5]], [[6], [7, 8]], [], [[9]]]
    assert pack_full_sentences(docs, 6, sep_id=0) == [[1, 2, 3, 4, 5], [6, 7, 8, 0, 9]]
    assert pack_full_sentences(docs, 8, sep_id=0) == [[1, 2, 3, 4, 5, 0, 6], [7, 8, 0, 9]]


def test_separator_is_dropped_when_it_would_open_a_block() -> None:
    assert pack_full_sentences([[[1, 2, 3]], [[4, 5]]], 4, sep_id=0) == [[1, 2, 3], [4, 5]]
    assert pack_full_sentences([[[1, 2]], [[3]]], 3, sep_id=0) == [[1, 2], [3]]  # 1 2 <sep> 3 is 4 long
    assert pack_full_sentences([[[1, 2]], [[3]]], 4, sep_id=0) == [[1, 2, 0, 3]]


def test_a_sentence_longer_than_max_tokens_is_cut_into_pieces() -> None:
    docs = [[[1], list(range(10, 22)), [2, 3]]]
    assert pack_full_sentences(docs, 5, sep_id=0) == [[1], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 2, 3]]


def test_packing_accepts_tensors_and_skips_empty_sentences() -> None:
    docs = [[torch.tensor([1, 2]), []], [torch.tensor([3])]]
    assert pack_full_sentences(docs, 10, sep_id=0) == [[1, 2, 0, 3]]
    assert pack_full_sentences([], 4, sep_id=0) == []


def _units(docs: list[list[list[int]]], max_tokens: int) -> list[tuple[list[int], bool]]:
    """Pieces of at most max_tokens ids, each flagged when it is the first piece of its document."""
    units = []
    for doc in docs:
        first = True
        for sentence in doc:
            for start in range(0, len(sentence), max_tokens):
                units.append((sentence[start : start + max_tokens], first))
                first = False
    return units


@settings(max_examples=80, deadline=None)
@given(
    docs=st.lists(st.lists(st.lists(st.integers(1, 9), max_size=9), max_size=4), max_size=5),
    max_tokens=st.integers(1, 8),
)
def test_packing_is_greedy_lossless_and_never_too_long(docs: list[list[list[int]]], max_tokens: int) -> None:
    blocks = pack_full_sentences(docs, max_tokens, sep_id=0)
    assert all(0 < len(block) <= max_tokens for block in blocks)
    # Walk the blocks: each is whole units in order, with a separator before a unit that opens a document
    # (unless it opens the block), and the unit after a block would not have fitted into it.
    units, i = _units(docs, max_tokens), 0
    for block in blocks:
        rebuilt: list[int] = []
        while i < len(units):
            piece, opens_doc = units[i]
            candidate = rebuilt + ([0] if opens_doc and rebuilt else []) + piece
            if len(candidate) > max_tokens:
                break
            rebuilt, i = candidate, i + 1
        assert block == rebuilt
    assert i == len(units)  # every unit was placed


# --- errors ---------------------------------------------------------------------------------------------------


def test_mask_input_errors() -> None:
    ids, special = _batch(2, 5)
    cases = [
        ((ids[0], special[0]), {}, r"input_ids: expected an int64 tensor of shape \(B, T\), got \(5,\)"),
        ((ids.int(), special), {}, r"input_ids: .* dtype torch.int32"),
        ((ids, special[:, :4]), {}, r"special_tokens_mask: expected a bool or 0/1 tensor of shape \(B, T\) = \(2, 5\)"),
        ((ids, special.float() / 2), {}, r"special_tokens_mask: .* dtype torch.float32"),
        ((ids, special.long() * 2), {}, r"special_tokens_mask: .* 0/1"),
        ((ids, special), {"mlm_probability": 1.5}, r"mlm_probability: expected a probability in \[0, 1\], got 1.5"),
        ((ids, special), {"mlm_probability": True}, r"mlm_probability: .* got True"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            dynamic_mask(*args, MASK_ID, VOCAB, **kwargs)
        draws = {k: torch.zeros(args[0].shape) for k in ("u_select", "u_mask", "u_random")}
        with pytest.raises(ValueError, match=message):
            mask_from_uniforms(*args, MASK_ID, **draws, random_ids=torch.zeros_like(ids), **kwargs)


@pytest.mark.parametrize(
    ("mask_token_id", "vocab_size", "message"),
    [
        (10, 0, r"vocab_size: expected a positive integer, got 0"),
        (10, 5.0, r"vocab_size: .* got 5.0"),
        (10, 10, r"mask_token_id: expected a non-negative integer id below vocab_size = 10, got 10"),
        (-1, 10, r"mask_token_id: .* got -1"),
    ],
)
def test_dynamic_mask_id_and_vocab_errors(mask_token_id: int, vocab_size: int, message: str) -> None:
    ids, special = _batch(2, 5)
    with pytest.raises(ValueError, match=message):
        dynamic_mask(ids, special, mask_token_id, vocab_size)


def test_mask_from_uniforms_draw_errors() -> None:
    ids, special = _batch(2, 5)
    good = {
        "u_select": torch.rand(2, 5),
        "u_mask": torch.rand(2, 5),
        "u_random": torch.rand(2, 5),
        "random_ids": torch.zeros(2, 5, dtype=torch.int64),
    }
    bad = [
        ("u_select", torch.rand(2, 4), r"u_select: expected a float tensor of shape \(B, T\) = \(2, 5\), got \(2, 4\)"),
        ("u_mask", torch.zeros(2, 5, dtype=torch.int64), r"u_mask: .* dtype torch.int64"),
        ("u_random", [0.5], r"u_random: .* got list"),
        ("random_ids", torch.zeros(2, 5), r"random_ids: expected an int64 tensor of shape \(B, T\) = \(2, 5\)"),
    ]
    for name, value, message in bad:
        with pytest.raises(ValueError, match=message):
            mask_from_uniforms(ids, special, MASK_ID, **{**good, name: value})
    with pytest.raises(ValueError, match=r"mask_token_id: expected a non-negative integer id, got -3"):
        mask_from_uniforms(ids, special, -3, **good)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seq_len": -1}, r"seq_len: expected a non-negative integer, got -1"),
        ({"seq_len": 3.0}, r"seq_len: .* got 3.0"),
        ({"seq_len": 3, "mlm_probability": -0.1}, r"mlm_probability: .* got -0.1"),
    ],
)
def test_exact_count_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        exact_mask_count(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("documents", "max_tokens", "sep_id", "message"),
    [
        ([[[1]]], 0, 0, r"max_tokens: expected a positive integer, got 0"),
        ([[[1]]], 2.5, 0, r"max_tokens: .* got 2.5"),
        ([[[1]]], 4, -1, r"sep_id: expected a non-negative integer id, got -1"),
        (5, 4, 0, r"documents: expected a sequence of documents, got int"),
        ("text", 4, 0, r"documents: .* got str"),
        ([[1, 2, 3]], 4, 0, r"documents\[0\]\[0\]: expected a sequence of token ids, got int"),
        ([7], 4, 0, r"documents\[0\]: expected a sequence of sentences, got int"),
        ([[[1]], [[1, 2.0]]], 4, 0, r"documents\[1\]\[0\]: expected integer token ids, got 2.0"),
        ([[["a"]]], 4, 0, r"documents\[0\]\[0\]: expected integer token ids, got 'a'"),
    ],
)
def test_packing_errors(documents: object, max_tokens: int, sep_id: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pack_full_sentences(documents, max_tokens, sep_id)  # type: ignore[arg-type]
