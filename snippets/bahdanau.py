"""Bahdanau's additive attention, Luong's dot and general scores, and a tiny RNNsearch that learns to reverse.

Paper: Dzmitry Bahdanau, Kyunghyun Cho and Yoshua Bengio, "Neural Machine Translation by Jointly Learning to
Align and Translate", ICLR 2015 (BibTeX key ``bahdanau2015neural``); the comparison with Minh-Thang Luong,
Hieu Pham and Christopher D. Manning, "Effective Approaches to Attention-based Neural Machine Translation",
EMNLP 2015 (``luong2015effective``).
Review: ``docs/reviews/bahdanau.md``.
Implements: the alignment model of Appendix A.1.2, e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j); the weights
alpha_ij = softmax_j(e_ij) of Eq. (6) over the real (unpadded) source positions; the context
c_i = sum_j alpha_ij h_j of Eq. (5); Luong et al.'s "dot" and "general" scores (their §3.1) with the same
interface; and RNNsearch (§3, Appendix A.2): a bidirectional GRU encoder whose annotations are
h_j = [forward h_j; backward h_j], a GRU decoder s_i = f(s_{i-1}, y_{i-1}, c_i) started from
s_0 = tanh(W_s backward h_1), and a maxout output layer, at toy size, with the sequence-reversal task it learns
on CPU in seconds.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "AdditiveAttention",
    "LuongAttention",
    "RNNsearch",
    "masked_softmax",
    "reversal_accuracy",
    "reversal_batch",
    "train_reversal",
]

PAD, BOS, EOS = 0, 1, 2  # the toy task's special ids; symbols are 3, 4, ...


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_positive(**sizes: object) -> None:
    for name, value in sizes.items():
        if not _is_int(value) or value < 1:  # type: ignore[operator]
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")


def _check_query_keys(query: object, keys: object, query_dim: int, key_dim: int) -> None:
    if (
        not isinstance(query, Tensor)
        or query.dim() != 2
        or query.shape[1] != query_dim
        or not query.is_floating_point()
    ):
        raise ValueError(
            f"query: expected a float tensor of shape (B, d_q) with d_q = {query_dim}, got {_describe(query)}"
        )
    B = query.shape[0]
    if (
        not isinstance(keys, Tensor)
        or keys.dim() != 3
        or keys.shape[0] != B
        or keys.shape[2] != key_dim
        or keys.shape[1] < 1
        or not keys.is_floating_point()
    ):
        raise ValueError(
            f"keys: expected a float tensor of shape (B, T, d_k) with B = {B}, T >= 1, "
            f"d_k = {key_dim}, got {_describe(keys)}"
        )


# --8<-- [start:masked_softmax]
def masked_softmax(scores: Tensor, mask: Tensor | None = None) -> Tensor:
    """alpha_ij = exp(e_ij) / sum_k exp(e_ik) over the real positions k (Eq. 6); exactly 0 at padding.

    Args:
        scores: (B, T) float scores e_i.
        mask: (B, T) bool, True at real source positions; None when nothing is padded.

    Returns:
        (B, T) weights; each row sums to 1 over its real positions.
    """
    if not isinstance(scores, Tensor) or scores.dim() != 2 or not scores.is_floating_point():
        raise ValueError(f"scores: expected a float tensor of shape (B, T), got {_describe(scores)}")
    if mask is None:
        return torch.softmax(scores, dim=-1)
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != scores.shape:
        raise ValueError(f"mask: expected a bool tensor of shape (B, T) = {tuple(scores.shape)}, got {_describe(mask)}")
    empty = ~mask.any(dim=-1)  # (B,)
    if empty.any():
        rows = torch.nonzero(empty).squeeze(1).tolist()
        raise ValueError(f"mask: expected at least one real position (True) in every row, rows {rows} have none")
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)  # exp(-inf) = 0 exactly


# --8<-- [end:masked_softmax]


# --8<-- [start:additive]
class AdditiveAttention(nn.Module):
    """Bahdanau's alignment model a(s_{i-1}, h_j) = v_a^T tanh(W_a s_{i-1} + U_a h_j) (Appendix A.1.2).

    Args:
        query_dim: n, the size of the decoder state s_{i-1}.
        key_dim: the size of an annotation h_j (2n for the bidirectional encoder).
        hidden_dim: n', the width of the alignment model.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        _check_positive(query_dim=query_dim, key_dim=key_dim, hidden_dim=hidden_dim)
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        self.W_a = nn.Linear(query_dim, hidden_dim, bias=False)
        self.U_a = nn.Linear(key_dim, hidden_dim, bias=False)
        self.v_a = nn.Linear(hidden_dim, 1, bias=False)

    # --8<-- [end:additive]

    # --8<-- [start:additive_forward]
    def score(self, query: Tensor, keys: Tensor, projected_keys: Tensor | None = None) -> Tensor:
        """e_ij for every j: (B, d_q) and (B, T, d_k) -> (B, T); ``projected_keys`` is U_a h_j, (B, T, n')."""
        _check_query_keys(query, keys, self.query_dim, self.key_dim)
        if projected_keys is None:
            projected_keys = self.U_a(keys)  # (B, T, n')
        elif not isinstance(projected_keys, Tensor) or projected_keys.shape != (*keys.shape[:2], self.hidden_dim):
            raise ValueError(
                f"projected_keys: expected a tensor of shape (B, T, n') = "
                f"{(*keys.shape[:2], self.hidden_dim)}, got {_describe(projected_keys)}"
            )
        hidden = torch.tanh(self.W_a(query).unsqueeze(1) + projected_keys)  # (B, T, n')
        return self.v_a(hidden).squeeze(-1)  # (B, T)

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor | None = None, *, projected_keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """The context c_i = sum_j alpha_ij h_j (Eq. 5) and the weights alpha_ij (Eq. 6).

        Args:
            query: (B, d_q) previous decoder state s_{i-1}.
            keys: (B, T, d_k) annotations h_1 ... h_T.
            mask: (B, T) bool, True at real positions; None when nothing is padded.
            projected_keys: (B, T, n') U_a h_j, which does not depend on i: a decoder computes it once per
                source sentence. Computed here when None.

        Returns:
            ``(context, weights)``: (B, d_k) and (B, T).
        """
        weights = masked_softmax(self.score(query, keys, projected_keys), mask)  # (B, T)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, d_k)
        return context, weights

    # --8<-- [end:additive_forward]


class LuongAttention(nn.Module):
    """Luong et al.'s global attention scores: "dot" h_t^T hbar_s, or "general" h_t^T W_a hbar_s (their §3.1).

    The query is the *current* decoder state h_t, where Bahdanau's model scores with the previous one.

    Args:
        query_dim: size of h_t.
        key_dim: size of a source state hbar_s; must equal query_dim for "dot".
        score: "dot" (no parameters) or "general" (W_a of shape (query_dim, key_dim)).
    """

    def __init__(self, query_dim: int, key_dim: int, score: Literal["dot", "general"] = "general") -> None:
        super().__init__()
        _check_positive(query_dim=query_dim, key_dim=key_dim)
        if score not in ("dot", "general"):
            raise ValueError(f"score: expected 'dot' or 'general', got {score!r}")
        if score == "dot" and query_dim != key_dim:
            raise ValueError(f"key_dim: expected key_dim = query_dim = {query_dim} for the dot score, got {key_dim}")
        self.query_dim, self.key_dim, self.kind = query_dim, key_dim, score
        self.W_a = nn.Linear(key_dim, query_dim, bias=False) if score == "general" else None

    # --8<-- [start:luong]
    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        """score(h_t, hbar_s) for every s: (B, d_q) and (B, T, d_k) -> (B, T)."""
        _check_query_keys(query, keys, self.query_dim, self.key_dim)
        projected = keys if self.W_a is None else self.W_a(keys)  # (B, T, d_q)
        return torch.bmm(projected, query.unsqueeze(2)).squeeze(2)  # (B, T)

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(context (B, d_k), weights (B, T))``, as :meth:`AdditiveAttention.forward`."""
        weights = masked_softmax(self.score(query, keys), mask)  # (B, T)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights

    # --8<-- [end:luong]


class RNNsearch(nn.Module):
    """A small RNNsearch: bidirectional GRU encoder, GRU decoder reading c_i, additive attention, maxout output.

    Args:
        vocab_size: V, shared by source and target.
        embed_dim: m, the word-embedding size (620 in the paper).
        hidden_dim: n, the GRU size (1000 in the paper); annotations have 2n entries.
        attention_dim: n', the alignment model's width (1000 in the paper).
        maxout_dim: l, the number of maxout units (500 in the paper).
    """

    def __init__(
        self, vocab_size: int, embed_dim: int = 16, hidden_dim: int = 32, attention_dim: int = 32, maxout_dim: int = 16
    ) -> None:
        super().__init__()
        _check_positive(
            vocab_size=vocab_size,
            embed_dim=embed_dim,
            hidden_dim=hidden_dim,
            attention_dim=attention_dim,
            maxout_dim=maxout_dim,
        )
        self.vocab_size, self.hidden_dim = vocab_size, hidden_dim
        self.src_embedding = nn.Embedding(vocab_size, embed_dim)
        self.tgt_embedding = nn.Embedding(vocab_size, embed_dim)
        self.encoder = nn.GRU(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.W_s = nn.Linear(hidden_dim, hidden_dim)
        self.attention = AdditiveAttention(hidden_dim, 2 * hidden_dim, attention_dim)
        self.decoder = nn.GRUCell(embed_dim + 2 * hidden_dim, hidden_dim)  # input [E y_{i-1}; c_i]
        self.deep_output = nn.Linear(hidden_dim + embed_dim + 2 * hidden_dim, 2 * maxout_dim)
        self.W_o = nn.Linear(maxout_dim, vocab_size)

    # --8<-- [start:encode]
    def encode(self, src: Tensor, src_mask: Tensor) -> tuple[Tensor, Tensor]:
        """Annotations h_j = [forward h_j; backward h_j] (§3.2) and the first decoder state s_0.

        Args:
            src: (B, T_x) int64 source ids, padded on the right.
            src_mask: (B, T_x) bool, True at real positions; every row starts with at least one.

        Returns:
            ``(annotations, s_0)``: (B, T_x, 2n), zero at padding, and (B, n) = tanh(W_s backward h_1).
        """
        _check_source(src, src_mask, self.vocab_size)
        lengths = src_mask.sum(dim=1)  # (B,)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.src_embedding(src), lengths, batch_first=True, enforce_sorted=False
        )  # the backward GRU starts at each row's last real token, not at its padding
        out, _ = self.encoder(packed)
        annotations, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        s_0 = torch.tanh(self.W_s(annotations[:, 0, self.hidden_dim :]))  # (B, n) from backward h_1
        return annotations, s_0  # (B, T_x, 2n), (B, n)

    # --8<-- [end:encode]

    # --8<-- [start:step]
    def step(
        self, y_prev: Tensor, state: Tensor, annotations: Tensor, src_mask: Tensor, projected_keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One decoder step: score with s_{i-1}, read c_i, update to s_i, then p(y_i | y_{i-1}, s_i, c_i).

        Args:
            y_prev: (B,) int64 previous target word y_{i-1} (BOS at i = 1).
            state: (B, n) previous decoder state s_{i-1}.
            annotations: (B, T_x, 2n) encoder annotations.
            src_mask: (B, T_x) bool, True at real source positions.
            projected_keys: (B, T_x, n') U_a h_j, computed once per source; computed here when None.

        Returns:
            ``(logits, state, weights)``: (B, V) scores of y_i, (B, n) state s_i, (B, T_x) weights alpha_i.
        """
        context, weights = self.attention(state, annotations, src_mask, projected_keys=projected_keys)  # Eq. 5, 6
        embedded = self.tgt_embedding(y_prev)  # (B, m)
        state = self.decoder(torch.cat([embedded, context], dim=-1), state)  # (B, n): s_i = f(s_{i-1}, y, c_i)
        t = self.deep_output(torch.cat([state, embedded, context], dim=-1))  # (B, 2l)
        t = t.view(t.shape[0], -1, 2).amax(dim=-1)  # (B, l): maxout over pairs
        return self.W_o(t), state, weights  # (B, V)

    # --8<-- [end:step]

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced decoding of the target prefixes ``tgt_in`` (BOS, y_1, ..., y_{T_y - 1}).

        Args:
            src: (B, T_x) int64 source ids.
            src_mask: (B, T_x) bool, True at real positions.
            tgt_in: (B, T_y) int64 previous target words.

        Returns:
            ``(logits, weights)``: (B, T_y, V) and the alignment (B, T_y, T_x).
        """
        if (
            not isinstance(tgt_in, Tensor)
            or tgt_in.dim() != 2
            or tgt_in.dtype != torch.int64
            or tgt_in.shape[0] != src.shape[0]
        ):
            raise ValueError(
                f"tgt_in: expected an int64 tensor of shape (B, T_y) with B = {src.shape[0]}, got {_describe(tgt_in)}"
            )
        annotations, state = self.encode(src, src_mask)
        projected = self.attention.U_a(annotations)  # (B, T_x, n'): U_a h_j, the same at every step
        logits, weights = [], []
        for i in range(tgt_in.shape[1]):
            step_logits, state, alpha = self.step(tgt_in[:, i], state, annotations, src_mask, projected)
            logits.append(step_logits)
            weights.append(alpha)
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1)  # (B, T_y, V), (B, T_y, T_x)

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, src_mask: Tensor, max_len: int) -> tuple[Tensor, Tensor]:
        """Decode by taking the most probable word at each step (the paper uses beam search).

        Args:
            src: (B, T_x) int64 source ids.
            src_mask: (B, T_x) bool, True at real positions.
            max_len: the number of steps.

        Returns:
            ``(tokens, weights)``: (B, max_len) int64 words and (B, max_len, T_x) alignments.
        """
        _check_positive(max_len=max_len)
        annotations, state = self.encode(src, src_mask)
        projected = self.attention.U_a(annotations)  # (B, T_x, n')
        y = torch.full((src.shape[0],), BOS, dtype=torch.int64)
        tokens, weights = [], []
        for _ in range(max_len):
            logits, state, alpha = self.step(y, state, annotations, src_mask, projected)
            y = logits.argmax(dim=-1)  # (B,)
            tokens.append(y)
            weights.append(alpha)
        return torch.stack(tokens, dim=1), torch.stack(weights, dim=1)


def _check_source(src: object, src_mask: object, vocab_size: int) -> None:
    if not isinstance(src, Tensor) or src.dim() != 2 or src.dtype != torch.int64 or src.shape[1] < 1:
        raise ValueError(f"src: expected an int64 tensor of shape (B, T_x) with T_x >= 1, got {_describe(src)}")
    if not isinstance(src_mask, Tensor) or src_mask.dtype != torch.bool or src_mask.shape != src.shape:
        raise ValueError(
            f"src_mask: expected a bool tensor of shape (B, T_x) = {tuple(src.shape)}, got {_describe(src_mask)}"
        )
    if not src_mask[:, 0].all():
        raise ValueError("src_mask: expected every row to start with a real position (padding on the right)")
    if bool((src < 0).any()) or bool((src >= vocab_size).any()):
        raise ValueError(f"src: expected ids in [0, {vocab_size}), got values in [{int(src.min())}, {int(src.max())}]")


# --8<-- [start:task]
def reversal_batch(
    batch_size: int, generator: torch.Generator | None, num_symbols: int = 10, min_len: int = 3, max_len: int = 8
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random sequences of symbols 3 ... num_symbols + 2 and their reversals followed by EOS.

    Args:
        batch_size: B.
        generator: the random generator to draw from; the global one when None.
        num_symbols: how many distinct symbols (the vocabulary has num_symbols + 3 ids).
        min_len: the shortest source.
        max_len: the longest source, T_x.

    Returns:
        ``(src, src_mask, tgt_in, tgt_out)``: (B, T_x) source padded with PAD, (B, T_x) bool mask,
        (B, T_x + 1) decoder input BOS + reversal, (B, T_x + 1) target reversal + EOS, both padded with PAD.
    """
    _check_positive(batch_size=batch_size, num_symbols=num_symbols, min_len=min_len, max_len=max_len)
    if min_len > max_len:
        raise ValueError(f"min_len: expected at most max_len = {max_len}, got {min_len}")
    lengths = torch.randint(min_len, max_len + 1, (batch_size,), generator=generator)  # (B,)
    symbols = 3 + torch.randint(num_symbols, (batch_size, max_len), generator=generator)  # (B, T_x)
    positions = torch.arange(max_len)  # (T_x,)
    src_mask = positions < lengths.unsqueeze(1)  # (B, T_x)
    src = torch.where(src_mask, symbols, PAD)
    mirror = (lengths.unsqueeze(1) - 1 - positions).clamp(min=0)  # (B, T_x): position of the j-th output
    reversed_ = torch.where(src_mask, src.gather(1, mirror), PAD)  # (B, T_x)
    pad = torch.full((batch_size, 1), PAD)
    tgt_out = torch.cat([reversed_, pad], dim=1).scatter(1, lengths.unsqueeze(1), EOS)  # (B, T_x + 1)
    tgt_in = torch.cat([torch.full((batch_size, 1), BOS), reversed_], dim=1)  # (B, T_x + 1)
    return src, src_mask, tgt_in, tgt_out


# --8<-- [end:task]


# --8<-- [start:train]
def train_reversal(
    model: RNNsearch, steps: int, generator: torch.Generator | None, batch_size: int = 64, lr: float = 0.01, **task: int
) -> list[float]:
    """Train ``model`` on fresh reversal batches with Adam and cross-entropy over the non-PAD targets.

    Args:
        model: the RNNsearch to train; its vocabulary must hold num_symbols + 3 ids.
        steps: the number of updates.
        generator: the random generator for the batches.
        batch_size: sequences per update.
        lr: Adam's learning rate.
        **task: num_symbols, min_len, max_len, passed to :func:`reversal_batch`.

    Returns:
        The training loss of every step.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        src, src_mask, tgt_in, tgt_out = reversal_batch(batch_size, generator, **task)
        logits, _ = model(src, src_mask, tgt_in)  # (B, T_y, V)
        loss = F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the paper clips the gradient norm at 1
        optimizer.step()
        losses.append(loss.item())
    return losses


# --8<-- [end:train]


def reversal_accuracy(model: RNNsearch, src: Tensor, src_mask: Tensor, tgt_out: Tensor) -> float:
    """The share of sources whose greedy decoding reproduces the whole target, EOS included.

    Args:
        model: a trained RNNsearch.
        src: (B, T_x) int64 sources.
        src_mask: (B, T_x) bool mask.
        tgt_out: (B, T_y) int64 targets, padded with PAD after EOS.

    Returns:
        A number in [0, 1].
    """
    tokens, _ = model.greedy_decode(src, src_mask, tgt_out.shape[1])  # (B, T_y)
    real = tgt_out != PAD  # (B, T_y)
    return float(((tokens == tgt_out) | ~real).all(dim=1).float().mean())
