"""BART's five noising functions: text infilling, token masking, token deletion, sentence permutation, rotation.

Paper: Mike Lewis, Yinhan Liu, Naman Goyal, Marjan Ghazvininejad, Abdelrahman Mohamed, Omer Levy, Veselin Stoyanov
and Luke Zettlemoyer, "BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation,
Translation, and Comprehension", ACL 2020 (BibTeX key ``lewis2020bart``).
Review: ``docs/reviews/bart.md``.
Implements (§2.2): the transformations of a document x that BART's encoder reads as noise(x) while its decoder
reconstructs x. Text infilling replaces spans whose lengths are drawn from Poisson(lambda = 3) with one [MASK]
each, a span of length 0 inserting a [MASK]; token masking replaces tokens by [MASK]; token deletion removes them;
sentence permutation shuffles the sentences; document rotation starts the document at a uniformly drawn token.

A document is a 1-D tensor of token ids whose first and last entries are <s> and </s>; those two are never
noised. Where the paper is silent the functions follow fairseq's ``DenoisingDataset``
(``fairseq/data/denoising_dataset.py``): the budget ceil(mask_ratio * n) over the n inner tokens, computed in
float32; span lengths drawn from a Poisson table cut at the first probability below 1e-7, drawn until they sum
to the budget, the last one trimmed; distinct span starts, so that spans may overlap; spans stopped at </s>;
0-length spans inserted as [MASK] at random inner positions. Departures from fairseq: every token is a word
start (no whole-word masking), spans are always replaced by one [MASK] (``replace_length=1``), no [MASK] is
swapped for a random token (``mask_random=0``), a 0-length span inserts exactly one [MASK], a run of sentence
ends stays with its sentence, and the rotation offset is uniform over the inner tokens.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "document_rotation",
    "sentence_permutation",
    "text_infilling",
    "token_deletion",
    "token_masking",
]


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _check_document(tokens: object) -> None:
    """Raise unless ``tokens`` is a 1-D int64 tensor holding at least <s> and </s>."""
    if not isinstance(tokens, Tensor) or tokens.dim() != 1 or tokens.dtype != torch.int64 or tokens.numel() < 2:
        raise ValueError(
            f"tokens: expected an int64 tensor of shape (T,) with T >= 2 (<s> ... </s>), got {_describe(tokens)}"
        )


def _check_ratio(name: str, ratio: object) -> None:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0.0 <= ratio <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {ratio!r}")


def _check_id(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer token id, got {value!r}")


def _check_generator(generator: object) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")


def _check_common(tokens: object, generator: object, **named: object) -> None:
    """Check the document, the generator, and each named id (``*_id``) or ratio (``*_ratio``)."""
    _check_document(tokens)
    for name, value in named.items():
        (_check_id if name.endswith("_id") else _check_ratio)(name, value)
    _check_generator(generator)


# --8<-- [start:budget]
def _masking_budget(num_inner: int, ratio: float) -> int:
    """ceil(ratio * n) in float32, as fairseq computes it: 100 inner tokens at 0.3 give 31, not 30."""
    return math.ceil((torch.tensor(float(num_inner), dtype=torch.float32) * ratio).item())


def _poisson_table(poisson_lambda: float) -> Tensor:
    """P(L = k) = exp(-lambda) lambda^k / k! for k = 0, 1, ... up to the first value below 1e-7 (kept)."""
    k = torch.arange(128, dtype=torch.float64)  # (128,)
    pmf = torch.exp(k * math.log(poisson_lambda) - poisson_lambda - torch.lgamma(k + 1))  # (128,)
    below = torch.nonzero(pmf < 1e-7)
    return pmf[: int(below[0]) + 1] if below.numel() else pmf  # 18 entries for lambda = 3


# --8<-- [end:budget]


# --8<-- [start:span_lengths]
def _span_lengths(budget: int, poisson_lambda: float, generator: torch.Generator | None) -> Tensor:
    """Poisson lengths drawn until they sum to at least ``budget``; the last one trimmed so they sum to it."""
    table = _poisson_table(poisson_lambda)
    lengths = torch.empty(0, dtype=torch.int64)
    while int(lengths.sum()) < budget:  # the expected sum of one draw of `budget` lengths is lambda * budget
        draw = torch.multinomial(table, budget, replacement=True, generator=generator)  # (budget,)
        lengths = torch.cat([lengths, draw])
    total = torch.cumsum(lengths, 0)  # (S,)
    last = int(torch.nonzero(total >= budget)[0])  # the span that reaches the budget
    lengths = lengths[: last + 1].clone()
    lengths[last] -= int(total[last]) - budget  # trim it: the lengths now sum to the budget
    return lengths  # (S,) int64, zeros included


# --8<-- [end:span_lengths]


# --8<-- [start:replace_spans]
def _replace_spans(tokens: Tensor, starts: Tensor, lengths: Tensor, mask_id: int) -> Tensor:
    """Put one [MASK] at each span start and delete the rest of each span; spans stop before </s>.

    A start that falls inside another span is deleted with it, so overlapping spans leave one [MASK].
    """
    T = tokens.numel()
    offsets = torch.arange(int(lengths.max()), dtype=torch.int64)  # (Lmax,)
    covered = starts.unsqueeze(1) + offsets  # (S, Lmax): the positions each span would cover
    inside = (offsets < lengths.unsqueeze(1)) & (offsets > 0) & (covered < T - 1)  # (S, Lmax): never </s>
    deleted = torch.zeros(T, dtype=torch.bool)
    deleted[covered[inside]] = True  # every position after a span's first
    noised = tokens.clone()
    noised[starts] = mask_id
    return noised[~deleted]  # (T',)


# --8<-- [end:replace_spans]


# --8<-- [start:insert_masks]
def _insert_masks(tokens: Tensor, count: int, mask_id: int, generator: torch.Generator | None) -> Tensor:
    """Insert ``count`` [MASK] at uniformly drawn positions strictly between <s> and </s>."""
    T = tokens.numel() + count
    slots = 1 + torch.randperm(T - 2, generator=generator)[:count]  # (count,) positions in the output
    is_mask = torch.zeros(T, dtype=torch.bool)
    is_mask[slots] = True
    out = torch.full((T,), mask_id, dtype=torch.int64)
    out[~is_mask] = tokens  # the original tokens fill the other positions in order
    return out  # (T + count,)


# --8<-- [end:insert_masks]


# --8<-- [start:text_infilling]
def text_infilling(
    tokens: Tensor,
    mask_id: int,
    generator: torch.Generator | None,
    mask_ratio: float = 0.3,
    poisson_lambda: float = 3.0,
) -> Tensor:
    """Replace Poisson(lambda)-long spans by one [MASK] each until mask_ratio of the inner tokens are covered.

    Args:
        tokens: (T,) int64 document, <s> first and </s> last; both are left in place.
        mask_id: the id of [MASK].
        generator: the random generator to draw from; the global one when None.
        mask_ratio: the share of the T - 2 inner tokens the spans cover (0.3 in BART).
        poisson_lambda: the mean span length (3 in BART).

    Returns:
        (T',) int64 noised document. A 0-length span adds a [MASK] without removing a token.
    """
    _check_common(tokens, generator, mask_id=mask_id, mask_ratio=mask_ratio)
    if isinstance(poisson_lambda, bool) or not isinstance(poisson_lambda, (int, float)) or not poisson_lambda > 0:
        raise ValueError(f"poisson_lambda: expected a positive number, got {poisson_lambda!r}")
    n = tokens.numel() - 2
    budget = _masking_budget(n, mask_ratio)
    if budget == 0:
        return tokens.clone()
    lengths = _span_lengths(budget, poisson_lambda, generator)  # (S,), sums to the budget
    spans = lengths[lengths > 0]  # (S',): at least one, since the lengths sum to budget > 0
    starts = 1 + torch.randperm(n, generator=generator)[: spans.numel()]  # distinct inner positions
    noised = _replace_spans(tokens, starts, spans, mask_id)
    return _insert_masks(noised, lengths.numel() - spans.numel(), mask_id, generator)  # the 0-length spans


# --8<-- [end:text_infilling]


# --8<-- [start:token_masking]
def token_masking(
    tokens: Tensor,
    mask_id: int,
    generator: torch.Generator | None,
    mask_ratio: float = 0.3,
) -> Tensor:
    """Replace ceil(mask_ratio * (T - 2)) distinct inner tokens, drawn uniformly, by [MASK] (BERT-style).

    Args:
        tokens: (T,) int64 document, <s> first and </s> last.
        mask_id: the id of [MASK].
        generator: the random generator to draw from; the global one when None.
        mask_ratio: the share of inner tokens masked.

    Returns:
        (T,) int64 noised document.
    """
    _check_common(tokens, generator, mask_id=mask_id, mask_ratio=mask_ratio)
    n = tokens.numel() - 2
    chosen = 1 + torch.randperm(n, generator=generator)[: _masking_budget(n, mask_ratio)]
    noised = tokens.clone()
    noised[chosen] = mask_id
    return noised


# --8<-- [end:token_masking]


# --8<-- [start:token_deletion]
def token_deletion(tokens: Tensor, generator: torch.Generator | None, deletion_ratio: float = 0.3) -> Tensor:
    """Delete ceil(deletion_ratio * (T - 2)) distinct inner tokens, drawn uniformly; nothing marks where.

    Args:
        tokens: (T,) int64 document, <s> first and </s> last.
        generator: the random generator to draw from; the global one when None.
        deletion_ratio: the share of inner tokens deleted.

    Returns:
        (T - k,) int64 noised document, k the number deleted.
    """
    _check_common(tokens, generator, deletion_ratio=deletion_ratio)
    n = tokens.numel() - 2
    keep = torch.ones(tokens.numel(), dtype=torch.bool)
    keep[1 + torch.randperm(n, generator=generator)[: _masking_budget(n, deletion_ratio)]] = False
    return tokens[keep]


# --8<-- [end:token_deletion]


# --8<-- [start:sentence_permutation]
def sentence_permutation(tokens: Tensor, sentence_end_id: int, generator: torch.Generator | None) -> Tensor:
    """Split the inner tokens into sentences after each run of ``sentence_end_id`` and shuffle them uniformly.

    Args:
        tokens: (T,) int64 document, <s> first and </s> last.
        sentence_end_id: the full stop (fairseq uses the GPT-2 id of "." with GPT-2 BPE). A last sentence
            without one is still a sentence.
        generator: the random generator to draw from; the global one when None.

    Returns:
        (T,) int64 document with the same sentences, each with its own full stop, in a random order.
    """
    _check_common(tokens, generator, sentence_end_id=sentence_end_id)
    inner = tokens[1:-1]  # (n,)
    is_end = inner == sentence_end_id  # (n,)
    run_ends = is_end & ~torch.cat([is_end[1:], torch.tensor([False])])  # the last full stop of each run
    ends = (torch.nonzero(run_ends).squeeze(1) + 1).tolist()  # exclusive ends of the sentences
    if not ends or ends[-1] != inner.numel():
        ends.append(inner.numel())  # the tail after the last full stop is a sentence too
    sentences = list(torch.tensor_split(inner, ends[:-1]))
    order = torch.randperm(len(sentences), generator=generator).tolist()
    return torch.cat([tokens[:1], *[sentences[i] for i in order], tokens[-1:]])


# --8<-- [end:sentence_permutation]


# --8<-- [start:document_rotation]
def document_rotation(tokens: Tensor, generator: torch.Generator | None) -> Tensor:
    """Rotate the inner tokens so that a uniformly drawn one comes first; <s> and </s> stay at the ends.

    Args:
        tokens: (T,) int64 document, <s> first and </s> last.
        generator: the random generator to draw from; the global one when None.

    Returns:
        (T,) int64 rotated document; the unrotated one with probability 1 / (T - 2).
    """
    _check_common(tokens, generator)
    n = tokens.numel() - 2
    if n == 0:
        return tokens.clone()
    start = int(torch.randint(n, (1,), generator=generator))  # index of the new first inner token
    inner = tokens[1:-1]
    return torch.cat([tokens[:1], inner[start:], inner[:start], tokens[-1:]])


# --8<-- [end:document_rotation]
