"""RoBERTa's data pipeline: dynamic masking for masked language modelling and FULL-SENTENCES packing.

Paper: Yinhan Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", arXiv:1907.11692, 2019
(BibTeX key ``liu2019roberta``).
Review: ``docs/reviews/roberta.md``.
Implements: the masked-LM corruption with a fresh mask every time a sequence is fed (dynamic masking, compared
with static masking in Table 1), with Hugging Face's per-token Bernoulli semantics and the 80/10/10 split;
fairseq's exact per-sequence mask count as the alternative; the FULL-SENTENCES input format (Table 2):
contiguous sentences packed up to a length limit, crossing document boundaries with a separator token.

Each non-special token is selected independently with probability p (0.15). Of the selected tokens, 80%
become the mask token, 10% a token drawn uniformly from the vocabulary, and 10% keep their id; every selected
token is a prediction target, and every other label is -100.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["IGNORE_INDEX", "dynamic_mask", "exact_mask_count", "mask_from_uniforms", "pack_full_sentences"]

IGNORE_INDEX = -100
"""The label of a position that is not a prediction target (the default ``ignore_index`` of cross-entropy)."""


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_ids(name: str, x: object, shape: tuple[int, ...] | None = None) -> None:
    """Raise unless ``x`` is an int64 tensor of shape (B, T) (exactly ``shape`` when given)."""
    ok = isinstance(x, Tensor) and x.dim() == 2 and x.dtype == torch.int64
    if ok and shape is not None:
        ok = tuple(x.shape) == shape  # type: ignore[union-attr]
    if not ok:
        want = "(B, T)" if shape is None else f"(B, T) = {shape}"
        raise ValueError(f"{name}: expected an int64 tensor of shape {want}, got {_describe(x)}")


def _check_probability(name: str, p: object) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {p!r}")


def _check_token_id(name: str, token_id: object, vocab_size: int | None = None) -> None:
    ok = _is_int(token_id) and token_id >= 0  # type: ignore[operator]
    if ok and vocab_size is not None:
        ok = token_id < vocab_size  # type: ignore[operator]
    if not ok:
        bound = "" if vocab_size is None else f" below vocab_size = {vocab_size}"
        raise ValueError(f"{name}: expected a non-negative integer id{bound}, got {token_id!r}")


def _check_batch(input_ids: Tensor, special_tokens_mask: Tensor, mlm_probability: float) -> None:
    """Validate the arguments shared by :func:`mask_from_uniforms` and :func:`dynamic_mask`."""
    _check_ids("input_ids", input_ids)
    shape = tuple(input_ids.shape)
    ok = isinstance(special_tokens_mask, Tensor) and tuple(special_tokens_mask.shape) == shape
    if ok and special_tokens_mask.dtype != torch.bool:
        ok = bool(((special_tokens_mask == 0) | (special_tokens_mask == 1)).all())
    if not ok:
        raise ValueError(
            f"special_tokens_mask: expected a bool or 0/1 tensor of shape (B, T) = {shape}, "
            f"got {_describe(special_tokens_mask)}"
        )
    _check_probability("mlm_probability", mlm_probability)


def _check_draws(shape: tuple[int, ...], draws: dict[str, Tensor]) -> None:
    for name, u in draws.items():
        if name == "random_ids":
            _check_ids(name, u, shape)
        elif not isinstance(u, Tensor) or tuple(u.shape) != shape or not u.is_floating_point():
            raise ValueError(f"{name}: expected a float tensor of shape (B, T) = {shape}, got {_describe(u)}")


# --8<-- [start:mask_from_uniforms]
def mask_from_uniforms(
    input_ids: Tensor,
    special_tokens_mask: Tensor,
    mask_token_id: int,
    u_select: Tensor,
    u_mask: Tensor,
    u_random: Tensor,
    random_ids: Tensor,
    mlm_probability: float = 0.15,
) -> tuple[Tensor, Tensor]:
    """Masked-LM corruption given its random draws: fixed uniforms give a fixed result.

    Args:
        input_ids: (B, T) int64 token ids.
        special_tokens_mask: (B, T) bool or 0/1, True at special tokens and padding (never selected).
        mask_token_id: the id of the mask token.
        u_select: (B, T) uniforms in [0, 1): a token is selected when below p.
        u_mask: (B, T) uniforms: a selected token becomes the mask token when below 0.8.
        u_random: (B, T) uniforms: another selected token takes a random id when below 0.5 (0.2 * 0.5 = 10%).
        random_ids: (B, T) int64 ids used where the random branch is taken.
        mlm_probability: p, the selection probability of a non-special token.

    Returns:
        ``(inputs, labels)``, both (B, T) int64: the corrupted ids, and the original id at selected
        positions with ``IGNORE_INDEX`` (-100) elsewhere.
    """
    _check_batch(input_ids, special_tokens_mask, mlm_probability)
    _check_token_id("mask_token_id", mask_token_id)
    draws = {"u_select": u_select, "u_mask": u_mask, "u_random": u_random, "random_ids": random_ids}
    _check_draws(tuple(input_ids.shape), draws)
    selected = (u_select < mlm_probability) & ~special_tokens_mask.bool()  # (B, T): the targets
    to_mask = selected & (u_mask < 0.8)  # 80% of the targets
    to_random = selected & ~to_mask & (u_random < 0.5)  # half of the other 20%; the rest keep their id
    inputs = torch.where(to_mask, mask_token_id, input_ids)
    inputs = torch.where(to_random, random_ids, inputs)
    labels = torch.where(selected, input_ids, IGNORE_INDEX)  # random and kept tokens stay targets
    return inputs, labels


# --8<-- [end:mask_from_uniforms]


# --8<-- [start:dynamic_mask]
def dynamic_mask(
    input_ids: Tensor,
    special_tokens_mask: Tensor,
    mask_token_id: int,
    vocab_size: int,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """A fresh masked-LM corruption of a batch; call it every time the batch is fed (dynamic masking).

    The draws are made in the order of Hugging Face's ``DataCollatorForLanguageModeling``, so both give
    the same result from the same seeded generator.

    Args:
        input_ids: (B, T) int64 token ids.
        special_tokens_mask: (B, T) bool or 0/1, True at special tokens and padding.
        mask_token_id: the id of the mask token, in [0, vocab_size).
        vocab_size: random replacements are drawn uniformly from [0, vocab_size).
        mlm_probability: p, the selection probability of a non-special token.
        generator: the random generator to draw from; the global one when None.

    Returns:
        ``(inputs, labels)``, both (B, T) int64, as in :func:`mask_from_uniforms`.
    """
    _check_batch(input_ids, special_tokens_mask, mlm_probability)
    if not _is_int(vocab_size) or vocab_size < 1:
        raise ValueError(f"vocab_size: expected a positive integer, got {vocab_size!r}")
    _check_token_id("mask_token_id", mask_token_id, vocab_size)
    shape, device = input_ids.shape, input_ids.device
    u = [torch.rand(shape, generator=generator, device=device) for _ in range(3)]  # 3 x (B, T)
    random_ids = torch.randint(vocab_size, shape, generator=generator, device=device)  # (B, T)
    return mask_from_uniforms(input_ids, special_tokens_mask, mask_token_id, *u, random_ids, mlm_probability)


# --8<-- [end:dynamic_mask]


# --8<-- [start:exact_mask_count]
def exact_mask_count(seq_len: int, mlm_probability: float = 0.15, generator: torch.Generator | None = None) -> int:
    """fairseq's alternative to per-token draws: an exact number of targets per sequence.

    The count is floor(p * seq_len + U) with U ~ Unif[0, 1): p * seq_len rounded up or down at random, so
    its expectation is exactly p * seq_len. fairseq then picks that many positions without replacement.

    Args:
        seq_len: the number of tokens in the sequence.
        mlm_probability: p.
        generator: the random generator to draw U from; the global one when None.

    Returns:
        The number of positions to mask.
    """
    if not _is_int(seq_len) or seq_len < 0:
        raise ValueError(f"seq_len: expected a non-negative integer, got {seq_len!r}")
    _check_probability("mlm_probability", mlm_probability)
    u = torch.rand((), generator=generator, dtype=torch.float64).item()
    return int(mlm_probability * seq_len + u)  # int() floors a non-negative number


# --8<-- [end:exact_mask_count]


def _as_documents(documents: object) -> list[list[list[int]]]:
    """``documents`` as nested lists of ints, or a ValueError naming the first bad element."""

    def is_sequence(x: object) -> bool:
        return isinstance(x, Iterable) and not isinstance(x, (str, bytes))

    if not is_sequence(documents):
        raise ValueError(f"documents: expected a sequence of documents, got {type(documents).__name__}")
    out = []
    for d, document in enumerate(documents):  # type: ignore[arg-type]
        if not is_sequence(document) or isinstance(document, Tensor):
            raise ValueError(f"documents[{d}]: expected a sequence of sentences, got {type(document).__name__}")
        sentences = []
        for s, sentence in enumerate(document):
            ids = sentence.tolist() if isinstance(sentence, Tensor) and sentence.dim() == 1 else sentence
            if not is_sequence(ids):
                raise ValueError(f"documents[{d}][{s}]: expected a sequence of token ids, got {_describe(sentence)}")
            ids = list(ids)
            bad = next((t for t in ids if not _is_int(t)), None)
            if bad is not None:
                raise ValueError(f"documents[{d}][{s}]: expected integer token ids, got {bad!r}")
            sentences.append(ids)
        out.append(sentences)
    return out


# --8<-- [start:pack_full_sentences]
def pack_full_sentences(documents: Iterable[Iterable[Iterable[int]]], max_tokens: int, sep_id: int) -> list[list[int]]:
    """FULL-SENTENCES inputs: contiguous sentences packed greedily into blocks of at most ``max_tokens`` ids.

    A block closes when the next sentence does not fit. Packing runs on across documents with ``sep_id``
    between two documents (it counts towards ``max_tokens`` and is dropped when it would open a block).
    A sentence longer than ``max_tokens`` is cut into pieces of ``max_tokens`` ids (the last one shorter),
    each packed like a sentence: no id is lost and no block is too long. Empty sentences are skipped.

    Args:
        documents: documents, each a sequence of sentences, each a sequence of integer token ids.
        max_tokens: the largest block length.
        sep_id: the separator put between documents.

    Returns:
        The blocks, each a non-empty list of at most ``max_tokens`` ids.
    """
    if not _is_int(max_tokens) or max_tokens < 1:
        raise ValueError(f"max_tokens: expected a positive integer, got {max_tokens!r}")
    _check_token_id("sep_id", sep_id)
    blocks: list[list[int]] = []
    block: list[int] = []
    for document in _as_documents(documents):
        new_document = True
        for ids in document:
            for start in range(0, len(ids), max_tokens):  # one piece unless the sentence is too long
                piece = ids[start : start + max_tokens]
                lead = [sep_id] if new_document and block else []
                if len(block) + len(lead) + len(piece) > max_tokens:
                    blocks.append(block)  # close the block; a separator never opens one
                    block, lead = [], []
                block += lead + piece
                new_document = False
    return blocks + [block] if block else blocks


# --8<-- [end:pack_full_sentences]
