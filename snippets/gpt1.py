"""GPT-1 fine-tuning: the causal mask, the task input transformations and the objective L3 = L2 + lambda * L1.

Paper: Alec Radford, Karthik Narasimhan, Tim Salimans and Ilya Sutskever, "Improving Language Understanding by
Generative Pre-Training", OpenAI technical report, 2018 (BibTeX key ``radford2018gpt``).
Review: ``docs/reviews/gpt1.md``.
Implements: the decoder-only Transformer of Eq. (2) with its output layer tied to the embedding matrix; the
traversal-style input transformations of §3.3 and Figure 1 (classification, entailment, similarity, multiple
choice); the classifier of Eq. (3), read at the extract token; the fine-tuning objective of Eq. (5) with the
auxiliary language-model loss averaged per sequence, as the reference code does.

Layout of the single embedding matrix, as in the reference code: rows 0..n_vocab-1 are the BPE tokens, then
the start, delimiter and extract (classify) tokens, then n_ctx position rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "GPT1",
    "InputLayout",
    "PackedInputs",
    "TaskHead",
    "causal_mask",
    "extract_features",
    "finetune_loss",
    "lm_loss",
    "pack_inputs",
    "transform_classification",
    "transform_entailment",
    "transform_multiple_choice",
    "transform_similarity",
]

TASKS = ("classification", "entailment", "similarity", "multiple_choice")
_gelu = partial(F.gelu, approximate="tanh")  # the reference's GELU


def _block(d_model: int, n_head: int, dropout: float) -> nn.TransformerEncoderLayer:
    """One post-LN block with the reference's dropouts: on the attention weights and on both residual branches.

    PyTorch's layer also drops out the feed-forward hidden activation (its ``dropout`` module, between the GELU
    and the second linear layer); ``mlp()`` in the reference's ``train.py`` has no dropout there, so it is removed.
    """
    block = nn.TransformerEncoderLayer(d_model, n_head, 4 * d_model, dropout, activation=_gelu, batch_first=True)
    block.dropout = nn.Identity()  # no dropout on GELU(x W_1): only dropout1, dropout2 and attention dropout remain
    return block


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


# --8<-- [start:causal_mask]
def causal_mask(T: int) -> Tensor:
    """Which positions may attend to which: position i sees positions 0..i.

    Note that ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` read a boolean mask the other
    way round (True = blocked); pass them ``~causal_mask(T)``.

    Args:
        T: sequence length.

    Returns:
        (T, T) bool, True where query i may attend to key j (j <= i).
    """
    if int(T) < 1:
        raise ValueError(f"T: expected a positive sequence length, got {T}")
    return torch.ones(T, T, dtype=torch.bool).tril()  # (T, T)


# --8<-- [end:causal_mask]


@dataclass(frozen=True)
class InputLayout:
    """Token ids of the special tokens and of the positions in GPT-1's single embedding matrix.

    Args:
        n_vocab: number of BPE tokens (40,478 for the released model).
        n_ctx: context length, the padded length of every sequence (512 in the paper).
    """

    n_vocab: int
    n_ctx: int

    def __post_init__(self) -> None:
        if self.n_vocab < 1 or self.n_ctx < 3:
            raise ValueError(f"n_vocab, n_ctx: expected n_vocab >= 1 and n_ctx >= 3, got {self.n_vocab}, {self.n_ctx}")

    @property
    def start(self) -> int:
        """Id of the start token, the first row after the BPE tokens."""
        return self.n_vocab

    @property
    def delimiter(self) -> int:
        """Id of the delimiter token between the two texts of a pair."""
        return self.n_vocab + 1

    @property
    def extract(self) -> int:
        """Id of the extract (classify) token; the classifier reads the hidden state here."""
        return self.n_vocab + 2

    @property
    def n_embeddings(self) -> int:
        """Rows of the embedding matrix: BPE tokens, 3 special tokens, n_ctx positions."""
        return self.n_vocab + 3 + self.n_ctx

    def positions(self) -> Tensor:
        """(n_ctx,) int64 position ids: the rows after the special tokens."""
        return torch.arange(self.n_ctx) + self.n_vocab + 3


def _sequence(parts: Sequence[Sequence[int]], layout: InputLayout) -> list[int]:
    """[start] part_1 [delim] part_2 ... [extract], each part cut to an equal share of the free slots."""
    budget = (layout.n_ctx - len(parts) - 1) // len(parts)  # slots left by the special tokens, per part
    if budget < 1:
        n = len(parts)
        raise ValueError(f"n_ctx: {layout.n_ctx} leaves no room for {n} texts and {n + 1} special tokens")
    for part in parts:
        bad = [t for t in part if not isinstance(t, int) or not 0 <= t < layout.n_vocab]
        if bad:
            n_vocab = layout.n_vocab
            raise ValueError(f"text: expected BPE ids in 0..{n_vocab - 1} (n_vocab = {n_vocab}), got {bad}")
    sequence = [layout.start]
    for i, part in enumerate(parts):
        if i > 0:
            sequence.append(layout.delimiter)
        sequence.extend(part[:budget])  # keep the first tokens, as the reference does
    sequence.append(layout.extract)
    return sequence


# --8<-- [start:transforms]
def transform_classification(text: Sequence[int], layout: InputLayout) -> list[list[int]]:
    """Classification: one sequence, [start] text [extract]."""
    return [_sequence([text], layout)]


def transform_entailment(premise: Sequence[int], hypothesis: Sequence[int], layout: InputLayout) -> list[list[int]]:
    """Entailment: one sequence, [start] premise [delim] hypothesis [extract]."""
    return [_sequence([premise, hypothesis], layout)]


def transform_similarity(text_a: Sequence[int], text_b: Sequence[int], layout: InputLayout) -> list[list[int]]:
    """Similarity: both orderings, since neither text comes first; their features are added later."""
    return [_sequence([text_a, text_b], layout), _sequence([text_b, text_a], layout)]


def transform_multiple_choice(
    context: Sequence[int], answers: Sequence[Sequence[int]], layout: InputLayout
) -> list[list[int]]:
    """Multiple choice: one sequence per answer, [start] context [delim] answer_k [extract].

    ``context`` holds the document and the question (for RACE) or the story (for the Story Cloze Test).
    """
    if len(answers) == 0:
        raise ValueError("answers: expected at least one candidate answer, got none")
    return [_sequence([context, answer], layout) for answer in answers]


# --8<-- [end:transforms]


@dataclass(frozen=True)
class PackedInputs:
    """A padded batch of transformed examples, each made of K sequences.

    Attributes:
        tokens: (B, K, n_ctx) int64 token ids, 0 after the extract token.
        positions: (B, K, n_ctx) int64 position ids (rows n_vocab + 3 onwards).
        mask: (B, K, n_ctx) float, 1 from the start token through the extract token.
        extract_index: (B, K) int64 position of the extract token, where the classifier reads.
    """

    tokens: Tensor
    positions: Tensor
    mask: Tensor
    extract_index: Tensor

    @property
    def lm_targets(self) -> Tensor:
        """(B, K, n_ctx - 1) the next token at each position: the LM predicts tokens 1 onwards."""
        return self.tokens[..., 1:]

    @property
    def lm_mask(self) -> Tensor:
        """(B, K, n_ctx - 1) the mask shifted by one: delimiter and extract are targets, start never is."""
        return self.mask[..., 1:]


# --8<-- [start:pack_inputs]
def pack_inputs(examples: Sequence[list[list[int]]], layout: InputLayout) -> PackedInputs:
    """Pad the transformed examples to n_ctx and record the mask and the extract positions.

    Args:
        examples: B outputs of the ``transform_*`` functions, each a list of K token lists.
        layout: the special-token and position ids.

    Returns:
        :class:`PackedInputs` with tensors of shape (B, K, n_ctx) and (B, K).
    """
    if len(examples) == 0 or any(len(e) != len(examples[0]) for e in examples):
        sizes = [len(e) for e in examples]
        raise ValueError(f"examples: expected a non-empty batch with the same number K of sequences each, got {sizes}")
    B, K, T = len(examples), len(examples[0]), layout.n_ctx
    tokens = torch.zeros(B, K, T, dtype=torch.int64)  # (B, K, n_ctx)
    mask = torch.zeros(B, K, T)  # (B, K, n_ctx)
    extract_index = torch.zeros(B, K, dtype=torch.int64)  # (B, K)
    for b, example in enumerate(examples):
        for k, sequence in enumerate(example):
            if not 2 <= len(sequence) <= T or sequence[-1] != layout.extract:
                raise ValueError(f"examples[{b}][{k}]: expected a transformed sequence of 2..{T} ids ending in extract")
            n = len(sequence)
            tokens[b, k, :n] = torch.tensor(sequence)
            mask[b, k, :n] = 1.0
            extract_index[b, k] = n - 1
    positions = layout.positions().expand(B, K, T)  # (B, K, n_ctx)
    return PackedInputs(tokens, positions, mask, extract_index)


# --8<-- [end:pack_inputs]


class GPT1(nn.Module):
    """A decoder-only Transformer with GPT-1's embedding layout and tied output layer, Eq. (2).

    h_0 = U W_e + W_p, h_l = transformer_block(h_(l-1)), P(u) = softmax(h_n W_e^T). The blocks are
    PyTorch's post-LN ``nn.TransformerEncoderLayer`` with a 4 x d_model feed-forward layer and the tanh
    approximation of GELU that the reference code uses, made causal by the mask, and without the dropout
    PyTorch puts on the feed-forward hidden activation (the reference has none there). Token, special and
    position rows share one matrix; as in the reference code, dropout is applied to that matrix, and the
    LM logits cover all of its rows (positions included).

    Args:
        layout: the vocabulary, special-token and position ids.
        d_model: hidden size (768 in the paper).
        n_head: attention heads (12).
        n_layer: blocks (12).
        dropout: dropout on the embedding matrix, attention weights and residual branches (0.1).

    Attributes:
        embedding: (n_vocab + 3 + n_ctx, d_model) the matrix W_e, with W_p in its last n_ctx rows.
        blocks: ``n_layer`` Transformer blocks.
    """

    def __init__(self, layout: InputLayout, d_model: int, n_head: int, n_layer: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.layout = layout
        self.dropout = dropout
        self.embedding = nn.Parameter(torch.randn(layout.n_embeddings, d_model) * 0.02)  # N(0, 0.02)
        self.blocks = nn.ModuleList(_block(d_model, n_head, dropout) for _ in range(n_layer))

    # --8<-- [start:gpt1_forward]
    def forward(self, tokens: Tensor, positions: Tensor) -> tuple[Tensor, Tensor]:
        """Hidden states of the last block and the tied LM logits.

        Args:
            tokens: (*, T) int64 token ids, T <= n_ctx; any leading dims, e.g. (B, K, T).
            positions: (*, T) int64 position ids, same shape.

        Returns:
            hidden: (*, T, d_model) h_n.
            lm_logits: (*, T, n_vocab + 3 + n_ctx) h_n W_e^T; position t predicts token t + 1.
        """
        if not isinstance(tokens, Tensor) or tokens.dtype != torch.int64 or tokens.dim() < 1:
            raise ValueError(f"tokens: expected an int64 tensor of shape (*, T), got {_describe(tokens)}")
        if not isinstance(positions, Tensor) or positions.shape != tokens.shape:
            raise ValueError(f"positions: expected shape {tuple(tokens.shape)} like tokens, got {_describe(positions)}")
        *lead, T = tokens.shape
        if T > self.layout.n_ctx:
            raise ValueError(f"tokens: expected at most n_ctx = {self.layout.n_ctx} positions, got {T}")
        W = F.dropout(self.embedding, self.dropout, self.training)  # (n_embeddings, d)
        h = W[tokens.reshape(-1, T)] + W[positions.reshape(-1, T)]  # (N, T, d): h_0 = U W_e + W_p
        blocked = ~causal_mask(T).to(h.device)  # (T, T): True = may not attend
        for block in self.blocks:
            h = block(h, src_mask=blocked)  # (N, T, d)
        lm_logits = h @ W.T  # (N, T, n_embeddings): tied output layer
        return h.reshape(*lead, T, -1), lm_logits.reshape(*lead, T, -1)

    # --8<-- [end:gpt1_forward]


# --8<-- [start:extract_features]
def extract_features(hidden: Tensor, extract_index: Tensor) -> Tensor:
    """The hidden state at each sequence's extract token, h_l^m of Eq. (3).

    Args:
        hidden: (B, K, T, d) final-block states of K sequences per example.
        extract_index: (B, K) int64 position of the extract token in each sequence.

    Returns:
        (B, K, d) features, not the states at the last (padded) position.
    """
    if not isinstance(hidden, Tensor) or hidden.dim() != 4:
        raise ValueError(f"hidden: expected a tensor of shape (B, K, T, d), got {_describe(hidden)}")
    B, K, T, d = hidden.shape
    if not isinstance(extract_index, Tensor) or extract_index.shape != (B, K) or extract_index.dtype != torch.int64:
        given = _describe(extract_index)
        raise ValueError(f"extract_index: expected an int64 tensor of shape (B, K) = ({B}, {K}), got {given}")
    if extract_index.min() < 0 or extract_index.max() >= T:
        raise ValueError(f"extract_index: expected positions in 0..{T - 1}, got {extract_index.tolist()}")
    index = extract_index.view(B, K, 1, 1).expand(B, K, 1, d)  # (B, K, 1, d)
    return hidden.gather(2, index).squeeze(2)  # (B, K, d)


# --8<-- [end:extract_features]


class TaskHead(nn.Module):
    """The linear output layer W_y of Eq. (3), for each task type of Figure 1.

    - classification, entailment: K = 1 sequence, ``n_class`` logits;
    - similarity: K = 2 orderings, whose features are added before the linear layer;
    - multiple choice: one scalar score per candidate; the K scores are the logits of a softmax over answers.

    Classifier dropout uses one mask per example, shared by its K sequences, as the reference does.

    Args:
        d_model: width of the features.
        task: one of "classification", "entailment", "similarity", "multiple_choice".
        n_class: number of classes (ignored for multiple choice).
        dropout: classifier dropout (0.1 in the paper).

    Attributes:
        linear: d_model -> n_class (or -> 1 for multiple choice), initialised N(0, 0.02) with zero bias.
    """

    def __init__(self, d_model: int, task: str, n_class: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
        self.task = task
        self.dropout = dropout
        self.linear = nn.Linear(d_model, 1 if task == "multiple_choice" else n_class)
        nn.init.normal_(self.linear.weight, std=0.02)
        nn.init.zeros_(self.linear.bias)

    # --8<-- [start:task_head]
    def forward(self, features: Tensor) -> Tensor:
        """Classifier logits from the extract-token features.

        Args:
            features: (B, K, d) output of :func:`extract_features`.

        Returns:
            (B, n_class) logits, or (B, K) for multiple choice.
        """
        if not isinstance(features, Tensor) or features.dim() != 3:
            raise ValueError(f"features: expected a tensor of shape (B, K, d), got {_describe(features)}")
        B, K, d = features.shape
        expected_k = {"classification": 1, "entailment": 1, "similarity": 2}.get(self.task, K)
        if K != expected_k:
            raise ValueError(f"features: task {self.task!r} expects K = {expected_k} sequences, got shape {(B, K, d)}")
        keep = F.dropout(features.new_ones(B, 1, d), self.dropout, self.training)  # (B, 1, d): shared by the K
        features = features * keep  # (B, K, d)
        if self.task == "multiple_choice":
            return self.linear(features).squeeze(-1)  # (B, K): one score per answer
        return self.linear(features.sum(dim=1))  # (B, n_class); the sum adds the two orderings

    # --8<-- [end:task_head]


def _check_lm(lm_logits: Tensor, lm_targets: Tensor, lm_mask: Tensor) -> None:
    if not isinstance(lm_logits, Tensor) or lm_logits.dim() < 3 or not lm_logits.is_floating_point():
        raise ValueError(f"lm_logits: expected a float tensor of shape (B, T, V), got {_describe(lm_logits)}")
    expected = tuple(lm_logits.shape[:-1])
    if not isinstance(lm_targets, Tensor) or tuple(lm_targets.shape) != expected or lm_targets.dtype != torch.int64:
        raise ValueError(
            f"lm_targets: expected an int64 tensor of shape {expected} (B, T), got {_describe(lm_targets)}"
        )
    if not isinstance(lm_mask, Tensor) or tuple(lm_mask.shape) != expected:
        raise ValueError(f"lm_mask: expected shape {expected} (B, T), got {_describe(lm_mask)}")
    if ((lm_mask != 0).sum(dim=-1) == 0).any():
        raise ValueError("lm_mask: every sequence needs at least one LM target; got a row of zeros")


# --8<-- [start:lm_loss]
def lm_loss(lm_logits: Tensor, lm_targets: Tensor, lm_mask: Tensor) -> Tensor:
    """Auxiliary LM loss, -L1 of Eq. (1) on the task data: each sequence's masked mean, then the batch mean.

    Averaging per sequence first weights short and long sequences equally; a flat mean over all
    unmasked tokens (what you get from ``ignore_index``) weights long sequences more and is not the
    reference's loss.

    Args:
        lm_logits: (B, T, V) logits for the next token (any extra leading dims are flattened).
        lm_targets: (B, T) int64 next tokens.
        lm_mask: (B, T) 1 where the target counts, 0 elsewhere.

    Returns:
        () mean over sequences of the per-sequence mean cross-entropy.
    """
    _check_lm(lm_logits, lm_targets, lm_mask)
    T, V = lm_logits.shape[-2:]
    nll = F.cross_entropy(lm_logits.reshape(-1, T, V).transpose(1, 2), lm_targets.reshape(-1, T), reduction="none")
    m = lm_mask.reshape(-1, T).to(nll.dtype)  # (N, T)
    per_sequence = (nll * m).sum(dim=1) / m.sum(dim=1)  # (N,)
    return per_sequence.mean()


# --8<-- [end:lm_loss]


# --8<-- [start:finetune_loss]
def finetune_loss(
    clf_logits: Tensor,
    clf_labels: Tensor,
    lm_logits: Tensor,
    lm_targets: Tensor,
    lm_mask: Tensor,
    lm_coef: float = 0.5,
) -> Tensor:
    """The fine-tuning objective L3 = L2 + lambda * L1 of Eq. (5), as a loss to minimise.

    Args:
        clf_logits: (B, C) classifier logits (C = K answers for multiple choice).
        clf_labels: (B,) int64 gold classes.
        lm_logits: (N, T, V) LM logits of every transformed sequence (N = B * K; extra leading dims allowed).
        lm_targets: (N, T) int64 next tokens.
        lm_mask: (N, T) LM target mask.
        lm_coef: lambda, the weight of the auxiliary LM loss (0.5 in the paper; 0 switches it off).

    Returns:
        () mean classification cross-entropy + lm_coef * :func:`lm_loss`.
    """
    if not isinstance(clf_logits, Tensor) or clf_logits.dim() != 2 or not clf_logits.is_floating_point():
        raise ValueError(f"clf_logits: expected a float tensor of shape (B, C), got {_describe(clf_logits)}")
    B, C = clf_logits.shape
    if not isinstance(clf_labels, Tensor) or clf_labels.shape != (B,) or clf_labels.dtype != torch.int64:
        raise ValueError(f"clf_labels: expected an int64 tensor of shape (B,) = ({B},), got {_describe(clf_labels)}")
    if clf_labels.min() < 0 or clf_labels.max() >= C:
        raise ValueError(f"clf_labels: expected classes in 0..{C - 1}, got {clf_labels.tolist()}")
    clf = F.cross_entropy(clf_logits, clf_labels)  # -L2, averaged over examples
    return clf + lm_coef * lm_loss(lm_logits, lm_targets, lm_mask)  # -L3 = -(L2 + lambda * L1)


# --8<-- [end:finetune_loss]
