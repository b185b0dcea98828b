"""BERT's pre-training data and objective: the input layout, next-sentence pairs and the summed loss.

Paper: Jacob Devlin, Ming-Wei Chang, Kenton Lee and Kristina Toutanova, "BERT: Pre-training of Deep Bidirectional
Transformers for Language Understanding", NAACL-HLT 2019 (BibTeX key ``devlin2019bert``).
Review: ``docs/reviews/bert.md``.
Implements: the input representation (§3, Figure 2): ``[CLS] A [SEP] B [SEP]`` with segment ids 0 then 1; the
next-sentence-prediction pairs of §3.1 ("Task #2"), built as google-research/bert's ``create_pretraining_data.py``
builds them (segments of whole sentences, 50% actual next and 50% from another document, short sequences with
probability 0.1, random truncation from the front or the back); the number of masked positions the same file
draws; and the pre-training loss of Appendix A.2: the mean masked-LM cross-entropy plus the mean NSP
cross-entropy, as ``BertForPreTraining`` of Hugging Face transformers computes it.

The masking itself (15% of the tokens; 80% [MASK], 10% random, 10% unchanged) is RoBERTa's
``snippets.roberta.dynamic_mask`` applied once per copy of the corpus (the reference's ``dupe_factor``).
Label conventions are those of ``BertForPreTraining``: masked-LM labels are -100 where nothing is predicted, and
the NSP label is 0 when B follows A (IsNext) and 1 when B comes from another document (NotNext).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "IGNORE_INDEX",
    "SentencePair",
    "bert_inputs",
    "next_sentence_pairs",
    "num_predictions",
    "pretraining_loss",
    "truncate_pair",
]

IGNORE_INDEX = -100
"""The masked-LM label of a position that is not predicted (the default ``ignore_index`` of cross-entropy)."""

RandomSource = torch.Generator | random.Random | None


class SentencePair(NamedTuple):
    """One pre-training example before the special tokens are added.

    Attributes:
        tokens_a: the token ids of segment A (one or more whole sentences).
        tokens_b: the token ids of segment B.
        label: 0 when B is the text that follows A (IsNext), 1 when B comes from another document (NotNext).
    """

    tokens_a: list[int]
    tokens_b: list[int]
    label: int


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _as_ids(name: str, tokens: object, allow_empty: bool = True) -> list[int]:
    """``tokens`` (a sequence of ints or a 1-D integer tensor) as a list of non-negative ints, or a ValueError."""
    if isinstance(tokens, Tensor):
        ok = tokens.dim() == 1 and not tokens.is_floating_point() and tokens.dtype != torch.bool
        ids = tokens.tolist() if ok else None
    elif isinstance(tokens, Sequence) and not isinstance(tokens, (str, bytes)):
        ids = list(tokens)
    else:
        ids = None
    if ids is None:
        raise ValueError(f"{name}: expected a sequence of token ids or a 1-D integer tensor, got {_describe(tokens)}")
    bad = next((t for t in ids if not _is_int(t) or t < 0), None)
    if bad is not None:
        raise ValueError(f"{name}: expected non-negative integer token ids, got {bad!r}")
    if not ids and not allow_empty:
        raise ValueError(f"{name}: expected at least one token id, got none")
    return ids


def _check_random_source(generator: object) -> None:
    if generator is not None and not isinstance(generator, (torch.Generator, random.Random)):
        raise ValueError(f"generator: expected a torch.Generator, a random.Random or None, got {_describe(generator)}")


def _uniform(generator: RandomSource) -> float:
    """One draw from U[0, 1)."""
    if isinstance(generator, random.Random):
        return generator.random()
    return torch.rand((), generator=generator, dtype=torch.float64).item()


def _randint(generator: RandomSource, low: int, high: int) -> int:
    """A uniform integer in [low, high], both ends included (like ``random.randint``)."""
    if isinstance(generator, random.Random):
        return generator.randint(low, high)
    return int(torch.randint(low, high + 1, (), generator=generator).item())


# --8<-- [start:bert_inputs]
def bert_inputs(
    tokens_a: Sequence[int] | Tensor, tokens_b: Sequence[int] | Tensor | None, cls_id: int, sep_id: int
) -> tuple[list[int], list[int]]:
    """The input layout of §3: ``[CLS] A [SEP] B [SEP]``, or ``[CLS] A [SEP]`` for a single segment.

    Args:
        tokens_a: (T_a,) token ids of segment A, without special tokens.
        tokens_b: (T_b,) token ids of segment B, or None for a single-segment input.
        cls_id: the id of [CLS].
        sep_id: the id of [SEP].

    Returns:
        ``(input_ids, token_type_ids)``, two lists of length T_a + 2 (+ T_b + 1 with B): the ids, and the
        segment ids, 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``.
    """
    a = _as_ids("tokens_a", tokens_a)
    b = None if tokens_b is None else _as_ids("tokens_b", tokens_b)
    for name, value in (("cls_id", cls_id), ("sep_id", sep_id)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer id, got {value!r}")
    input_ids = [cls_id, *a, sep_id]
    token_type_ids = [0] * len(input_ids)  # segment A, [CLS] and the first [SEP] included
    if b is not None:
        input_ids += [*b, sep_id]
        token_type_ids += [1] * (len(b) + 1)  # segment B and the final [SEP]
    return input_ids, token_type_ids


# --8<-- [end:bert_inputs]


# --8<-- [start:num_predictions]
def num_predictions(num_tokens: int, masked_lm_prob: float = 0.15, max_predictions: int = 20) -> int:
    """How many positions the reference masks in a sequence: min(N, max(1, round(p * n))).

    ``num_tokens`` counts [CLS] and [SEP]; Python's ``round`` sends halves to the even neighbour (30 tokens give
    round(4.5) = 4). ``snippets.roberta.dynamic_mask`` instead selects each token with probability p.

    Args:
        num_tokens: n, the length of the sequence with its special tokens.
        masked_lm_prob: p (0.15).
        max_predictions: N, the cap (``max_predictions_per_seq``: 20 for sequences of 128).

    Returns:
        The number of masked positions.
    """
    if not _is_int(num_tokens) or num_tokens < 0:
        raise ValueError(f"num_tokens: expected a non-negative integer, got {num_tokens!r}")
    if (
        isinstance(masked_lm_prob, bool)
        or not isinstance(masked_lm_prob, (int, float))
        or not 0.0 <= masked_lm_prob <= 1.0
    ):
        raise ValueError(f"masked_lm_prob: expected a probability in [0, 1], got {masked_lm_prob!r}")
    if not _is_int(max_predictions) or max_predictions < 1:
        raise ValueError(f"max_predictions: expected a positive integer, got {max_predictions!r}")
    return min(max_predictions, max(1, round(num_tokens * masked_lm_prob)))


# --8<-- [end:num_predictions]


# --8<-- [start:truncate_pair]
def truncate_pair(
    tokens_a: Sequence[int], tokens_b: Sequence[int], max_num_tokens: int, generator: RandomSource = None
) -> tuple[list[int], list[int]]:
    """Shorten a pair to at most ``max_num_tokens`` ids, one token at a time from the longer segment.

    Each removed token is the first or the last of that segment with probability 1/2 each; on a tie the token
    comes from B.

    Args:
        tokens_a: (T_a,) token ids of A.
        tokens_b: (T_b,) token ids of B.
        max_num_tokens: the budget for A and B together (the sequence length minus 3 special tokens).
        generator: the random source (a ``torch.Generator`` or a ``random.Random``); the global one when None.

    Returns:
        ``(tokens_a, tokens_b)``: new lists with len(A) + len(B) <= max_num_tokens.
    """
    a, b = _as_ids("tokens_a", tokens_a), _as_ids("tokens_b", tokens_b)
    if not _is_int(max_num_tokens) or max_num_tokens < 0:
        raise ValueError(f"max_num_tokens: expected a non-negative integer, got {max_num_tokens!r}")
    _check_random_source(generator)
    while len(a) + len(b) > max_num_tokens:
        longer = a if len(a) > len(b) else b
        if _uniform(generator) < 0.5:
            del longer[0]  # from the front
        else:
            longer.pop()  # from the back
    return a, b


# --8<-- [end:truncate_pair]


def _as_documents(documents: object) -> list[list[list[int]]]:
    """``documents`` as lists of non-empty sentences of ids, with at least two documents, or a ValueError."""

    def is_sequence(x: object) -> bool:
        return isinstance(x, Sequence) and not isinstance(x, (str, bytes))

    if not is_sequence(documents):
        raise ValueError(f"documents: expected a sequence of documents, got {_describe(documents)}")
    out = []
    for d, document in enumerate(documents):  # type: ignore[arg-type]
        if not is_sequence(document):
            raise ValueError(f"documents[{d}]: expected a sequence of sentences, got {_describe(document)}")
        if not document:
            raise ValueError(f"documents[{d}]: expected at least one sentence, got none")
        out.append(
            [_as_ids(f"documents[{d}][{s}]", sentence, allow_empty=False) for s, sentence in enumerate(document)]
        )
    if len(out) < 2:
        raise ValueError(f"documents: expected at least 2 documents (a random B needs another one), got {len(out)}")
    return out


# --8<-- [start:next_sentence_pairs]
def next_sentence_pairs(
    documents: Sequence[Sequence[Sequence[int]]],
    generator: RandomSource,
    max_tokens: int,
    short_seq_prob: float = 0.1,
) -> list[SentencePair]:
    """NSP examples from each document in turn, as google-research/bert's create_pretraining_data.py makes them.

    Args:
        documents: two or more documents, each a sequence of sentences, each a non-empty sequence of token ids.
        generator: the random source (a ``torch.Generator`` or a ``random.Random``); the global one when None.
        max_tokens: the sequence length: A and B share max_tokens - 3 ids ([CLS] and two [SEP] take the rest).
        short_seq_prob: how often a document aims at a random shorter length in [2, max_tokens - 3].

    Returns:
        The pairs, in document order; label 0 = B follows A, 1 = B comes from another document.
    """
    docs = _as_documents(documents)
    budget, short_seq_prob = _check_nsp_args(max_tokens, short_seq_prob, generator)
    pairs = []
    for d in range(len(docs)):
        short = _uniform(generator) < short_seq_prob  # one target length per document
        target = _randint(generator, 2, budget) if short else budget
        pairs += _document_pairs(docs, d, target, budget, generator)
    return pairs


# --8<-- [end:next_sentence_pairs]


# --8<-- [start:document_pairs]
def _document_pairs(
    docs: list[list[list[int]]], d: int, target: int, budget: int, generator: RandomSource
) -> list[SentencePair]:
    """The pairs of document ``d``: chunks of whole sentences of about ``target`` ids, each cut into A and B."""
    doc, pairs, chunk, i = docs[d], [], [], 0
    while i < len(doc):
        chunk.append(doc[i])
        if i == len(doc) - 1 or sum(map(len, chunk)) >= target:  # the chunk is long enough
            a_end = _randint(generator, 1, len(chunk) - 1) if len(chunk) >= 2 else 1  # sentences in A
            a = [t for sentence in chunk[:a_end] for t in sentence]
            if len(chunk) == 1 or _uniform(generator) < 0.5:  # NotNext: B from another document
                other = docs[(d + 1 + _randint(generator, 0, len(docs) - 2)) % len(docs)]  # never d itself
                b, label = _text_from(other, target - len(a), generator), 1
                i -= len(chunk) - a_end  # the chunk's unused sentences are read again
            else:  # IsNext: B is the rest of the chunk
                b, label = [t for sentence in chunk[a_end:] for t in sentence], 0
            pairs.append(SentencePair(*truncate_pair(a, b, budget, generator), label))
            chunk = []
        i += 1
    return pairs


# --8<-- [end:document_pairs]


def _text_from(document: list[list[int]], length: int, generator: RandomSource) -> list[int]:
    """Whole sentences of ``document`` from a random one on, until at least ``length`` ids (or the end)."""
    tokens: list[int] = []
    for sentence in document[_randint(generator, 0, len(document) - 1) :]:
        tokens += sentence
        if len(tokens) >= length:
            break
    return tokens


def _check_nsp_args(max_tokens: object, short_seq_prob: object, generator: object) -> tuple[int, float]:
    if not _is_int(max_tokens) or max_tokens < 5:  # type: ignore[operator]
        raise ValueError(
            f"max_tokens: expected an integer >= 5 ([CLS], [SEP], [SEP] and one id each for A and B), "
            f"got {max_tokens!r}"
        )
    if (
        isinstance(short_seq_prob, bool)
        or not isinstance(short_seq_prob, (int, float))
        or not 0.0 <= short_seq_prob <= 1.0
    ):
        raise ValueError(f"short_seq_prob: expected a probability in [0, 1], got {short_seq_prob!r}")
    _check_random_source(generator)
    return max_tokens - 3, float(short_seq_prob)  # type: ignore[operator]


# --8<-- [start:pretraining_loss]
def pretraining_loss(mlm_logits: Tensor, mlm_labels: Tensor, nsp_logits: Tensor, nsp_labels: Tensor) -> Tensor:
    """The pre-training objective: mean masked-LM cross-entropy plus mean NSP cross-entropy.

    Args:
        mlm_logits: (B, T, V) scores over the vocabulary at every position.
        mlm_labels: (B, T) int64 original ids at the masked positions, -100 elsewhere.
        nsp_logits: (B, 2) scores of IsNext (column 0) and NotNext (column 1).
        nsp_labels: (B,) int64, 0 = IsNext, 1 = NotNext.

    Returns:
        A scalar. The masked-LM term is 0 when no position is labelled (the reference divides by the number of
        predictions plus 1e-5; ``BertForPreTraining`` gives NaN there).
    """
    _check_loss_args(mlm_logits, mlm_labels, nsp_logits, nsp_labels)
    labelled = mlm_labels != IGNORE_INDEX  # (B, T)
    if labelled.any():
        mlm = F.cross_entropy(mlm_logits[labelled], mlm_labels[labelled])  # (M, V) vs (M,): mean over M
    else:
        mlm = mlm_logits.sum() * 0.0
    nsp = F.cross_entropy(nsp_logits, nsp_labels)  # (B, 2) vs (B,): mean over B
    return mlm + nsp


# --8<-- [end:pretraining_loss]


def _check_loss_args(mlm_logits: object, mlm_labels: object, nsp_logits: object, nsp_labels: object) -> None:
    if not isinstance(mlm_logits, Tensor) or mlm_logits.dim() != 3 or not mlm_logits.is_floating_point():
        raise ValueError(f"mlm_logits: expected a float tensor of shape (B, T, V), got {_describe(mlm_logits)}")
    B, T, V = mlm_logits.shape
    if not isinstance(mlm_labels, Tensor) or tuple(mlm_labels.shape) != (B, T) or mlm_labels.dtype != torch.int64:
        raise ValueError(
            f"mlm_labels: expected an int64 tensor of shape (B, T) = ({B}, {T}), got {_describe(mlm_labels)}"
        )
    bad = (mlm_labels != IGNORE_INDEX) & ((mlm_labels < 0) | (mlm_labels >= V))
    if bad.any():
        raise ValueError(f"mlm_labels: expected ids in [0, V = {V}) or -100, got {mlm_labels[bad][0].item()}")
    if not isinstance(nsp_logits, Tensor) or tuple(nsp_logits.shape) != (B, 2) or not nsp_logits.is_floating_point():
        raise ValueError(f"nsp_logits: expected a float tensor of shape (B, 2) = ({B}, 2), got {_describe(nsp_logits)}")
    if not isinstance(nsp_labels, Tensor) or tuple(nsp_labels.shape) != (B,) or nsp_labels.dtype != torch.int64:
        raise ValueError(f"nsp_labels: expected an int64 tensor of shape (B,) = ({B},), got {_describe(nsp_labels)}")
    if ((nsp_labels != 0) & (nsp_labels != 1)).any():
        raise ValueError(f"nsp_labels: expected 0 (IsNext) or 1 (NotNext), got {nsp_labels.tolist()}")
