"""Tests of snippets.bert: the input layout against BertTokenizer, NSP pairs, the loss against BertForPreTraining."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.bert import (
    IGNORE_INDEX,
    SentencePair,
    bert_inputs,
    next_sentence_pairs,
    num_predictions,
    pretraining_loss,
    truncate_pair,
)

if TYPE_CHECKING:
    from transformers import BertTokenizer

# transformers takes about 2.5 s to import: each test imports what it compares with, and the module's tests share one
# xdist worker (make test runs with --dist loadgroup), so one process pays for it instead of every one.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.xdist_group("transformers")]


def _corpus(num_docs: int, sentences: int, length: int) -> list[list[list[int]]]:
    """Documents whose token ids name their document: document d uses ids 1000 d + 1, 1000 d + 2, ..."""
    ids = iter(range(10**9))
    return [
        [[1000 * d + 1 + next(ids) % 999 for _ in range(length)] for _ in range(sentences)] for d in range(num_docs)
    ]


def _doc_of(token: int) -> int:
    return (token - 1) // 1000


def _runs(document: list[list[int]]) -> set[tuple[int, ...]]:
    """Every run of whole consecutive sentences of a document, flattened."""
    return {
        tuple(t for sentence in document[i:j] for t in sentence)
        for i in range(len(document))
        for j in range(i + 1, len(document) + 1)
    }


# --- the input layout ---------------------------------------------------------------------------------------


@pytest.fixture
def tokenizer(tmp_path: Path) -> BertTokenizer:
    # [CLS] and [SEP] are not at their usual places, so the test cannot pass by a coincidence of ids.
    from transformers import BertTokenizer

    words = ["[PAD]", "[UNK]", "my", "dog", "is", "hair", "##y", "the", "cat", "[CLS]", "[SEP]", "[MASK]", "sat"]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(words) + "\n", encoding="utf-8")
    return BertTokenizer(vocab=str(vocab_file))  # built from the local file; nothing is downloaded


def test_layout_matches_bert_tokenizer_for_a_pair_and_a_single_segment(tokenizer: BertTokenizer) -> None:
    a = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("my dog is hairy"))
    b = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("the cat sat"))
    assert a == [2, 3, 4, 5, 6] and tokenizer.cls_token_id == 9 and tokenizer.sep_token_id == 10
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    expected = tokenizer("my dog is hairy", "the cat sat")
    assert bert_inputs(a, b, cls_id, sep_id) == (expected["input_ids"], expected["token_type_ids"])
    single = tokenizer("my dog is hairy")
    assert bert_inputs(a, None, cls_id, sep_id) == (single["input_ids"], single["token_type_ids"])
    assert bert_inputs(torch.tensor(a), torch.tensor(b), cls_id, sep_id)[0] == expected["input_ids"]


@given(a=st.lists(st.integers(0, 50), max_size=8), b=st.none() | st.lists(st.integers(0, 50), max_size=8))
def test_layout_segments(a: list[int], b: list[int] | None) -> None:
    ids, types = bert_inputs(a, b, 101, 102)
    assert len(ids) == len(types) == len(a) + 2 + (0 if b is None else len(b) + 1)
    assert ids[0] == 101 and ids[len(a) + 1] == 102 and ids[-1] == 102
    assert ids[1 : len(a) + 1] == a and types[: len(a) + 2] == [0] * (len(a) + 2)
    if b is not None:
        assert ids[len(a) + 2 : -1] == b and types[len(a) + 2 :] == [1] * (len(b) + 1)


# --- the reference's number of masked positions (test vectors) -------------------------------------------


def test_num_predictions_vectors() -> None:
    # len(tokens) -> predictions with max_predictions_per_seq = 20; round() sends halves to the even neighbour.
    for n, k in [(5, 1), (10, 2), (30, 4), (50, 8), (70, 10), (128, 19), (512, 20)]:
        assert num_predictions(n) == k, n
    assert num_predictions(512, max_predictions=80) == 77
    assert num_predictions(0) == 1  # at least one


# --- truncation ------------------------------------------------------------------------------------------------


def test_truncate_pair_takes_from_the_longer_segment_front_or_back() -> None:
    g = torch.Generator().manual_seed(0)
    fronts = backs = 0
    for _ in range(2000):
        a, b = truncate_pair(list(range(10)), [100, 101], 11, g)  # one token too many, A is the longer
        assert b == [100, 101] and len(a) == 9
        fronts += a == list(range(1, 10))
        backs += a == list(range(9))
    assert fronts + backs == 2000
    assert abs(fronts / 2000 - 0.5) < 0.05  # 4.5 standard errors of a fair coin
    a, b = truncate_pair([1, 2], [3, 4], 3, g)  # a tie: B gives the token
    assert a == [1, 2] and len(b) == 1


@settings(max_examples=60, deadline=None)
@given(la=st.integers(1, 30), lb=st.integers(1, 30), budget=st.integers(2, 40), seed=st.integers(0, 2**31 - 1))
def test_truncate_pair_keeps_contiguous_pieces_within_budget(la: int, lb: int, budget: int, seed: int) -> None:
    a0, b0 = list(range(la)), list(range(100, 100 + lb))
    a, b = truncate_pair(a0, b0, budget, random.Random(seed))
    assert len(a) + len(b) == min(la + lb, budget) and a and b
    assert a == a0[a[0] : a[0] + len(a)] and b == b0[b[0] - 100 : b[0] - 100 + len(b)]  # contiguous pieces
    assert abs(len(a) - len(b)) <= max(abs(la - lb), 1) or len(a) + len(b) == la + lb  # the longer one shrinks


# --- next-sentence pairs -----------------------------------------------------------------------------------------


def test_isnext_pairs_are_consecutive_text_and_notnext_pairs_cross_documents() -> None:
    docs = _corpus(num_docs=6, sentences=12, length=2)  # 24 ids a document: A + B <= 48 < 61, no truncation
    pairs = next_sentence_pairs(docs, torch.Generator().manual_seed(0), max_tokens=64)
    runs = [_runs(doc) for doc in docs]
    assert {p.label for p in pairs} == {0, 1}
    for p in pairs:
        d = _doc_of(p.tokens_a[0])
        assert {_doc_of(t) for t in p.tokens_a} == {d}
        assert tuple(p.tokens_a) in runs[d]  # A is whole consecutive sentences
        if p.label == 0:
            assert tuple(p.tokens_a + p.tokens_b) in runs[d]  # B is the text that follows A
        else:
            (other,) = {_doc_of(t) for t in p.tokens_b}
            assert other != d and tuple(p.tokens_b) in runs[other]  # never from A's own document


def test_about_half_of_the_pairs_are_isnext() -> None:
    docs = _corpus(num_docs=60, sentences=200, length=5)
    pairs = next_sentence_pairs(docs, torch.Generator().manual_seed(1), max_tokens=23, short_seq_prob=0.0)
    n = len(pairs)
    share = sum(p.label == 0 for p in pairs) / n
    # Chunks of 4 sentences; about 4,000 pairs. Tolerance: 4 standard errors of a fair coin, plus, below 0.5, the
    # chunks of a single sentence, which are always NotNext (at most one per document, at its end).
    assert n > 3500
    assert 0.5 - 60 / n - 4 * 0.5 / math.sqrt(n) < share < 0.5 + 4 * 0.5 / math.sqrt(n)


def test_unused_sentences_are_put_back() -> None:
    # Documents of two sentences, budget 61: the chunk is both sentences. IsNext (p = 1/2) gives one pair; NotNext
    # uses sentence 0 only and puts sentence 1 back, which then forms a chunk of one: a second, NotNext pair.
    docs = _corpus(num_docs=3000, sentences=2, length=10)
    pairs = next_sentence_pairs(docs, random.Random(0), max_tokens=64, short_seq_prob=0.0)
    isnext = sum(p.label == 0 for p in pairs)
    assert len(pairs) == isnext + 2 * (3000 - isnext)
    assert isnext / len(pairs) == pytest.approx(1 / 3, abs=0.02)  # E = 0.5 / (0.5 * 1 + 0.5 * 2)
    assert all(len(p.tokens_a) == 10 for p in pairs)


def test_short_sequences_and_lengths() -> None:
    # Sentences of one token: a chunk stops at exactly the document's target length, so an IsNext pair that opens
    # a document is as long as the target: max_tokens - 3 = 10 unless a short target in [2, 10] was drawn.
    docs = _corpus(num_docs=4000, sentences=12, length=1)
    firsts: dict[int, SentencePair] = {}
    for p in next_sentence_pairs(docs, random.Random(2), max_tokens=13):
        assert len(p.tokens_a) + len(p.tokens_b) + 3 <= 13
        firsts.setdefault(_doc_of(p.tokens_a[0]), p)
    lengths = [len(p.tokens_a) + len(p.tokens_b) for p in firsts.values() if p.label == 0]
    short = sum(n < 10 for n in lengths) / len(lengths)
    assert short == pytest.approx(0.1 * 8 / 9, abs=0.025)  # randint(2, 10) is 10 one time in 9
    assert min(lengths) == 2
    long_only: dict[int, SentencePair] = {}
    for p in next_sentence_pairs(docs[:300], random.Random(2), max_tokens=13, short_seq_prob=0.0):
        long_only.setdefault(_doc_of(p.tokens_a[0]), p)
    assert all(len(p.tokens_a) + len(p.tokens_b) == 10 for p in long_only.values() if p.label == 0)


def test_a_long_sentence_is_truncated_into_the_budget() -> None:
    docs = [[list(range(1, 101))], [[1001, 1002, 1003]]]  # a 100-token sentence alone: NotNext, then truncated
    (first, second) = next_sentence_pairs(docs, torch.Generator().manual_seed(0), max_tokens=13)
    assert first.label == 1 and len(first.tokens_a) + len(first.tokens_b) == 10
    assert first.tokens_a == list(range(first.tokens_a[0], first.tokens_a[0] + len(first.tokens_a)))  # a piece
    assert set(first.tokens_b) <= {1001, 1002, 1003}
    assert second.label == 1 and set(second.tokens_b) <= set(range(1, 101))


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(
        st.lists(st.lists(st.integers(1, 999), min_size=1, max_size=9), min_size=1, max_size=6), min_size=2, max_size=5
    ),
    max_tokens=st.integers(5, 30),
    seed=st.integers(0, 2**31 - 1),
)
def test_pairs_fit_and_are_not_empty(docs: list[list[list[int]]], max_tokens: int, seed: int) -> None:
    pairs = next_sentence_pairs(docs, torch.Generator().manual_seed(seed), max_tokens, short_seq_prob=0.5)
    assert pairs
    for p in pairs:
        assert p.tokens_a and p.tokens_b and len(p.tokens_a) + len(p.tokens_b) <= max_tokens - 3
        assert p.label in (0, 1)


def test_pairs_are_reproducible_with_either_kind_of_generator() -> None:
    docs = _corpus(num_docs=4, sentences=8, length=4)
    for make in (lambda s: torch.Generator().manual_seed(s), random.Random):
        first, again, other = (next_sentence_pairs(docs, make(s), 20) for s in (3, 3, 4))
        assert first == again and first != other


# --- the pre-training loss ------------------------------------------------------------------------------------


def test_loss_equals_bert_for_pretraining() -> None:
    from transformers import BertConfig, BertForPreTraining

    config = BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        initializer_range=0.5,  # wide logits: a sharp test
    )
    torch.manual_seed(0)
    model = BertForPreTraining(config).eval()
    ids = torch.randint(5, 40, (3, 10))
    labels = torch.full((3, 10), IGNORE_INDEX)
    labels[0, [1, 4]] = ids[0, [1, 4]]
    labels[1, 7] = ids[1, 7]
    labels[2, [2, 3, 8]] = ids[2, [2, 3, 8]]
    nsp = torch.tensor([0, 1, 1])
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels, next_sentence_label=nsp)
        ours = pretraining_loss(out.prediction_logits, labels, out.seq_relationship_logits, nsp)
    torch.testing.assert_close(ours, out.loss, atol=1e-6, rtol=1e-6)
    flipped = pretraining_loss(out.prediction_logits, labels, out.seq_relationship_logits, 1 - nsp)
    assert abs(flipped.item() - out.loss.item()) > 0.01  # the NSP labels count, in HF's 0 = IsNext convention


def test_loss_is_the_mean_over_labelled_positions_plus_the_mean_nsp_loss() -> None:
    g = torch.Generator().manual_seed(0)
    logits, nsp_logits = torch.randn(2, 4, 6, generator=g, dtype=torch.float64), torch.randn(2, 2, generator=g)
    labels = torch.tensor([[3, IGNORE_INDEX, IGNORE_INDEX, 0], [IGNORE_INDEX, 5, IGNORE_INDEX, IGNORE_INDEX]])
    nsp = torch.tensor([1, 0])
    terms = [-torch.log_softmax(logits[b, t], -1)[labels[b, t]].item() for b, t in [(0, 0), (0, 3), (1, 1)]]
    nsp_terms = [-torch.log_softmax(nsp_logits[b], -1)[nsp[b]].item() for b in range(2)]
    expected = sum(terms) / 3 + sum(nsp_terms) / 2  # not a mean over all 8 positions, nor per sequence
    assert pretraining_loss(logits, labels, nsp_logits, nsp).item() == pytest.approx(expected, rel=1e-6)


def test_mlm_normalisation_vector() -> None:
    # Per-position losses 2, 1 and 5 with the third not labelled: 3 / 2 here; the reference's
    # 3 / (2 + 1e-5) = 1.49999250 differs by 7.5e-6.
    logits = torch.tensor([[[0.0, math.log(math.e**c - 1)] for c in (2.0, 1.0, 5.0)]], dtype=torch.float64)
    assert F.cross_entropy(logits[0], torch.zeros(3, dtype=torch.int64), reduction="none").tolist() == pytest.approx(
        [2.0, 1.0, 5.0]
    )
    labels = torch.tensor([[0, 0, IGNORE_INDEX]])
    certain_nsp = torch.tensor([[0.0, -1e4]], dtype=torch.float64)  # NSP loss 0
    loss = pretraining_loss(logits, labels, certain_nsp, torch.tensor([0])).item()
    assert loss == pytest.approx(1.5, abs=1e-12)
    assert abs(loss - 1.49999250) == pytest.approx(7.5e-6, abs=1e-8)


def test_loss_without_labelled_positions_is_the_nsp_loss() -> None:
    nsp_logits = torch.tensor([[0.3, -0.2]])
    loss = pretraining_loss(torch.randn(1, 3, 5), torch.full((1, 3), IGNORE_INDEX), nsp_logits, torch.tensor([1]))
    torch.testing.assert_close(loss, F.cross_entropy(nsp_logits, torch.tensor([1])))


# --- errors ---------------------------------------------------------------------------------------------------


def test_bert_inputs_errors() -> None:
    with pytest.raises(
        ValueError, match=r"tokens_a: expected a sequence of token ids or a 1-D integer tensor, got str"
    ):
        bert_inputs("my dog", None, 1, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"tokens_b: expected a sequence .* got \(2, 2\), dtype torch.int64"):
        bert_inputs([1], torch.ones(2, 2, dtype=torch.int64), 1, 2)
    with pytest.raises(ValueError, match=r"tokens_a: expected non-negative integer token ids, got -1"):
        bert_inputs([3, -1], None, 1, 2)
    with pytest.raises(ValueError, match=r"tokens_b: .* got 2.5"):
        bert_inputs([3], [2.5], 1, 2)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"sep_id: expected a non-negative integer id, got None"):
        bert_inputs([3], None, 1, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("documents", "kwargs", "message"),
    [
        ("text", {}, r"documents: expected a sequence of documents, got str"),
        ([[[1, 2]]], {}, r"documents: expected at least 2 documents \(a random B needs another one\), got 1"),
        ([[[1]], []], {}, r"documents\[1\]: expected at least one sentence, got none"),
        ([[[1]], 7], {}, r"documents\[1\]: expected a sequence of sentences, got int"),
        ([[[1]], [[2], []]], {}, r"documents\[1\]\[1\]: expected at least one token id, got none"),
        ([[[1]], [[2, "x"]]], {}, r"documents\[1\]\[0\]: expected non-negative integer token ids, got 'x'"),
        ([[[1]], [[2]]], {"max_tokens": 4}, r"max_tokens: expected an integer >= 5 .* got 4"),
        ([[[1]], [[2]]], {"short_seq_prob": 1.5}, r"short_seq_prob: expected a probability in \[0, 1\], got 1.5"),
        ([[[1]], [[2]]], {"generator": 3}, r"generator: expected a torch.Generator, a random.Random or None, got int"),
    ],
)
def test_next_sentence_pairs_errors(documents: object, kwargs: dict[str, object], message: str) -> None:
    args = {"generator": None, "max_tokens": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        next_sentence_pairs(documents, **args)  # type: ignore[arg-type]


def test_truncate_and_count_errors() -> None:
    with pytest.raises(ValueError, match=r"max_num_tokens: expected a non-negative integer, got -1"):
        truncate_pair([1], [2], -1)
    with pytest.raises(ValueError, match=r"generator: expected a torch.Generator"):
        truncate_pair([1], [2], 1, generator="seed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"num_tokens: expected a non-negative integer, got 1.5"):
        num_predictions(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"masked_lm_prob: expected a probability in \[0, 1\], got 2"):
        num_predictions(10, masked_lm_prob=2)
    with pytest.raises(ValueError, match=r"max_predictions: expected a positive integer, got 0"):
        num_predictions(10, max_predictions=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (torch.randn(2, 3), torch.zeros(2, 3), torch.randn(2, 2), torch.zeros(2)),
            r"mlm_logits: expected a float tensor of shape \(B, T, V\), got \(2, 3\)",
        ),
        (
            (torch.randn(2, 3, 5), torch.zeros(2, 4, dtype=torch.int64), torch.randn(2, 2), torch.zeros(2)),
            r"mlm_labels: expected an int64 tensor of shape \(B, T\) = \(2, 3\), got \(2, 4\)",
        ),
        (
            (torch.randn(2, 3, 5), torch.full((2, 3), 5), torch.randn(2, 2), torch.zeros(2, dtype=torch.int64)),
            r"mlm_labels: expected ids in \[0, V = 5\) or -100, got 5",
        ),
        (
            (torch.randn(2, 3, 5), torch.zeros(2, 3, dtype=torch.int64), torch.randn(2, 3), torch.zeros(2)),
            r"nsp_logits: expected a float tensor of shape \(B, 2\) = \(2, 2\), got \(2, 3\)",
        ),
        (
            (torch.randn(2, 3, 5), torch.zeros(2, 3, dtype=torch.int64), torch.randn(2, 2), torch.zeros(2)),
            r"nsp_labels: expected an int64 tensor of shape \(B,\) = \(2,\), got \(2,\), dtype torch.float32",
        ),
        (
            (torch.randn(2, 3, 5), torch.zeros(2, 3, dtype=torch.int64), torch.randn(2, 2), torch.tensor([0, 2])),
            r"nsp_labels: expected 0 \(IsNext\) or 1 \(NotNext\), got \[0, 2\]",
        ),
    ],
)
def test_pretraining_loss_errors(args: tuple[torch.Tensor, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pretraining_loss(*args)
