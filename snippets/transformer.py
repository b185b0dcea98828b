"""The Transformer's attention, positional encoding, label smoothing and learning-rate schedule, and a tiny model.

Paper: Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, Aidan N. Gomez, Lukasz Kaiser
and Illia Polosukhin, "Attention Is All You Need", NIPS 2017 (BibTeX key ``vaswani2017attention``).
Review: ``docs/reviews/transformer.md``.
Implements: scaled dot-product attention, Eq. (1) (§3.2.1); multi-head attention (§3.2.2) with the parameters and
masks of ``torch.nn.MultiheadAttention(d_model, num_heads, batch_first=True)``; the position-wise feed-forward network,
Eq. (2) (§3.3); shared embeddings scaled by sqrt(d_model) (§3.4); the sinusoidal positional encoding (§3.5);
the learning-rate schedule, Eq. (3) (§5.3); residual dropout and label smoothing (§5.4); and a small post-LN
encoder-decoder (§3.1) that learns to reverse a sequence.

Mask conventions: ``scaled_dot_product_attention`` takes a bool ``mask`` with True = may attend (the convention of
``torch.nn.functional.scaled_dot_product_attention``); ``MultiHeadAttention`` takes PyTorch's
``key_padding_mask`` and ``attn_mask`` (bool True = padding / not allowed, or float masks added to the scores).
A query with no key it may attend to gets all-zero weights and a zero output, never NaN.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "DecoderLayer",
    "EncoderLayer",
    "MultiHeadAttention",
    "TinyTransformer",
    "label_smoothed_cross_entropy",
    "reversal_batch",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
    "train_reversal",
    "transformer_lr",
]


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_positive_int(name: str, value: object) -> None:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")


def _check_float(name: str, x: object, shape: str, min_dim: int) -> None:
    if not isinstance(x, Tensor) or x.dim() < min_dim or not x.is_floating_point():
        raise ValueError(f"{name}: expected a float tensor of shape {shape}, got {_describe(x)}")


# --8<-- [start:attention_weights]
def _attention_weights(query: Tensor, key: Tensor, allowed: Tensor | None, bias: Tensor | None) -> Tensor:
    """softmax(Q K^T / sqrt(d_k) + bias) over the allowed keys: (..., T_q, d_k), (..., T_k, d_k) -> (..., T_q, T_k)."""
    d_k = query.shape[-1]
    scores = torch.matmul(query * d_k**-0.5, key.transpose(-2, -1))  # (..., T_q, T_k); scaling Q first is cheaper
    if bias is not None:
        scores = scores + bias
    if allowed is None:
        return torch.softmax(scores, dim=-1)
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)  # masked weights exactly 0
    # A query with no allowed key has a row of -inf, whose softmax is NaN: give it zeros. (No NaN reaches the
    # gradient either: the backward of the masked_fill above zeroes the gradient at every masked score.)
    return weights.masked_fill(~allowed.any(dim=-1, keepdim=True), 0.0)  # (..., T_q, T_k)


# --8<-- [end:attention_weights]


# --8<-- [start:attention]
def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, Eq. (1).

    Args:
        query: (..., T_q, d_k) queries Q.
        key: (..., T_k, d_k) keys K.
        value: (..., T_k, d_v) values V. The leading dimensions of the three broadcast together.
        mask: bool, broadcastable to (..., T_q, T_k); True where the query may attend to the key (the
            convention of ``torch.nn.functional.scaled_dot_product_attention``). None: every key.

    Returns:
        ``(output, weights)``: (..., T_q, d_v) and (..., T_q, T_k). The weights of masked keys are exactly 0;
        a query with no allowed key gets all-zero weights and a zero output (not NaN).
    """
    _check_attention_args(query, key, value, mask)
    weights = _attention_weights(query, key, mask, None)  # (..., T_q, T_k)
    return torch.matmul(weights, value), weights  # (..., T_q, d_v)


# --8<-- [end:attention]


def _check_attention_args(query: object, key: object, value: object, mask: object) -> None:
    _check_float("query", query, "(..., T_q, d_k)", 2)
    d_k = query.shape[-1]  # type: ignore[union-attr]
    _check_float("key", key, f"(..., T_k, d_k) with d_k = {d_k}", 2)
    if key.shape[-1] != d_k:  # type: ignore[union-attr]
        raise ValueError(
            f"key: expected a float tensor of shape (..., T_k, d_k) with d_k = {d_k}, got {_describe(key)}"
        )
    T_k = key.shape[-2]  # type: ignore[union-attr]
    _check_float("value", value, f"(..., T_k, d_v) with T_k = {T_k}", 2)
    if value.shape[-2] != T_k:  # type: ignore[union-attr]
        raise ValueError(
            f"value: expected a float tensor of shape (..., T_k, d_v) with T_k = {T_k}, got {_describe(value)}"
        )
    try:
        batch = torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])  # type: ignore[union-attr]
    except RuntimeError:
        raise ValueError(
            f"query, key, value: expected leading dimensions that broadcast, got "
            f"{_describe(query)}; {_describe(key)}; {_describe(value)}"
        ) from None
    if mask is None:
        return
    scores = (*batch, query.shape[-2], T_k)  # type: ignore[union-attr]
    ok = isinstance(mask, Tensor) and mask.dtype == torch.bool and mask.dim() <= len(scores)
    if ok:
        try:
            ok = torch.broadcast_shapes(mask.shape, scores) == scores  # type: ignore[union-attr]
        except RuntimeError:
            ok = False
    if not ok:
        raise ValueError(
            f"mask: expected a bool tensor broadcastable to (..., T_q, T_k) = {scores}, got {_describe(mask)}"
        )


def _canonical_mask(
    name: str, mask: object, shapes: dict[tuple[int, ...], tuple[int, ...]]
) -> tuple[Tensor, Tensor | None]:
    """A PyTorch-convention mask as (allowed, bias), reshaped to broadcast against (B, h, T_q, T_k).

    ``shapes`` maps each accepted shape to the view it takes. Bool: True = not allowed. Float: added to the
    scores, and its -inf entries count as not allowed.
    """
    ok = isinstance(mask, Tensor) and (mask.dtype == torch.bool or mask.is_floating_point())
    if not ok or tuple(mask.shape) not in shapes:  # type: ignore[union-attr]
        accepted = " or ".join(str(s) for s in shapes)
        raise ValueError(f"{name}: expected a bool or float tensor of shape {accepted}, got {_describe(mask)}")
    mask = mask.reshape(shapes[tuple(mask.shape)])  # type: ignore[union-attr]
    if mask.dtype == torch.bool:
        return ~mask, None
    return mask != float("-inf"), mask


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O with head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).

    The counterpart of ``torch.nn.MultiheadAttention(d_model, num_heads, dropout, batch_first=True)``: the same
    parameters, so state dicts load both ways, the same initialisation, and the same mask conventions. Its
    ``forward`` has no ``need_weights``, ``average_attn_weights`` or ``is_causal`` and always returns the weights
    averaged over the heads, so it does not replace PyTorch's module inside ``nn.TransformerEncoderLayer``.

    Args:
        d_model: model width; d_k = d_v = d_model / num_heads.
        num_heads: h.
        dropout: dropout on the attention weights in training, as PyTorch's (§5.4 of the paper describes only
            residual dropout).

    Attributes:
        in_proj_weight: (3 d_model, d_model); rows [0, d) are W^Q, [d, 2d) W^K, [2d, 3d) W^V (as y = x W^T + b).
        in_proj_bias: (3 d_model,).
        out_proj: Linear(d_model, d_model), W^O.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        _check_positive_int("d_model", d_model)
        _check_positive_int("num_heads", num_heads)
        if d_model % num_heads:
            raise ValueError(f"d_model: expected a multiple of num_heads = {num_heads}, got {d_model}")
        if not _is_number(dropout) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a number in [0, 1), got {dropout!r}")
        self.embed_dim, self.num_heads, self.head_dim = d_model, num_heads, d_model // num_heads
        self.dropout, self.batch_first = float(dropout), True
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        # PyTorch's initialisation, in its order: Linear's default for W^O, then Xavier for W^Q,K,V, zero biases.
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)

    # --8<-- [start:multi_head]
    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Multi-head attention of ``query`` over ``key`` and ``value`` (§3.2.2).

        Args:
            query: (B, T_q, d_model).
            key: (B, T_k, d_model).
            value: (B, T_k, d_model).
            key_padding_mask: (B, T_k); bool True at padding keys, or float added to the scores.
            attn_mask: (T_q, T_k) or (B * num_heads, T_q, T_k); bool True where attending is not allowed,
                or float added to the scores (``nn.Transformer.generate_square_subsequent_mask``).

        Returns:
            ``(output, weights)``: (B, T_q, d_model), and (B, T_q, T_k) attention weights averaged over heads.
        """
        B, T_q, T_k = self._check_inputs(query, key, value)
        q, k, v = self._project(query, key, value)  # (B, h, T_q, d_k), (B, h, T_k, d_k), (B, h, T_k, d_v)
        allowed, bias = self._masks(key_padding_mask, attn_mask, B, T_q, T_k)  # broadcast to (B, h, T_q, T_k)
        weights = _attention_weights(q, k, allowed, bias)  # (B, h, T_q, T_k)
        weights = F.dropout(weights, self.dropout, self.training)
        heads = torch.matmul(weights, v)  # (B, h, T_q, d_v)
        concat = heads.transpose(1, 2).reshape(B, T_q, self.embed_dim)  # (B, T_q, h d_v): Concat(head_1..head_h)
        return self.out_proj(concat), weights.mean(dim=1)  # (B, T_q, d_model), (B, T_q, T_k)

    # --8<-- [end:multi_head]

    # --8<-- [start:projections]
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        """Q W^Q, K W^K, V W^V split into heads, with as few matrix products as the inputs allow."""
        w, b, d = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:  # self-attention: one (B, T, 3 d_model) product
            return self._split_heads(F.linear(query, w, b), 3)
        if key is value:  # encoder-decoder attention: keys and values from the same memory
            return (
                *self._split_heads(F.linear(query, w[:d], b[:d]), 1),
                *self._split_heads(F.linear(key, w[d:], b[d:]), 2),
            )
        return tuple(
            self._split_heads(F.linear(x, w[i * d : (i + 1) * d], b[i * d : (i + 1) * d]), 1)[0]
            for i, x in enumerate((query, key, value))
        )

    def _split_heads(self, x: Tensor, n: int) -> tuple[Tensor, ...]:
        """(B, T, n d_model) -> n tensors (B, h, T, d_k), each contiguous (one copy for all n)."""
        B, T, _ = x.shape
        return x.view(B, T, n, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).contiguous().unbind(0)

    # --8<-- [end:projections]

    def _check_inputs(self, query: object, key: object, value: object) -> tuple[int, int, int]:
        d = self.embed_dim
        _check_float("query", query, f"(B, T_q, d_model) with d_model = {d}", 3)
        if query.dim() != 3 or query.shape[-1] != d:  # type: ignore[union-attr]
            raise ValueError(
                f"query: expected a float tensor of shape (B, T_q, d_model) with d_model = {d}, got {_describe(query)}"
            )
        B, T_q = query.shape[:2]  # type: ignore[union-attr]
        for name, x in (("key", key), ("value", value)):
            if (
                not isinstance(x, Tensor)
                or not x.is_floating_point()
                or x.dim() != 3
                or x.shape[0] != B
                or x.shape[2] != d
                or x.shape[1] != key.shape[1]
            ):  # type: ignore[union-attr]
                want = f"(B, T_k, d_model) with B = {B}, d_model = {d}"
                if name == "value" and isinstance(key, Tensor):
                    want += f", T_k = {key.shape[1]}"
                raise ValueError(f"{name}: expected a float tensor of shape {want}, got {_describe(x)}")
        return B, T_q, key.shape[1]  # type: ignore[union-attr]

    def _masks(
        self, key_padding_mask: Tensor | None, attn_mask: Tensor | None, B: int, T_q: int, T_k: int
    ) -> tuple[Tensor | None, Tensor | None]:
        """Merge PyTorch's two masks into (allowed, bias), each None or broadcastable to (B, h, T_q, T_k)."""
        h = self.num_heads
        parts = []
        if key_padding_mask is not None:
            parts.append(_canonical_mask("key_padding_mask", key_padding_mask, {(B, T_k): (B, 1, 1, T_k)}))
        if attn_mask is not None:
            shapes = {(T_q, T_k): (1, 1, T_q, T_k), (B * h, T_q, T_k): (B, h, T_q, T_k)}
            parts.append(_canonical_mask("attn_mask", attn_mask, shapes))
        if not parts:
            return None, None
        allowed = parts[0][0] if len(parts) == 1 else parts[0][0] & parts[1][0]
        biases = [b for _, b in parts if b is not None]
        bias = None if not biases else biases[0] if len(biases) == 1 else biases[0] + biases[1]
        return allowed, bias


# --8<-- [start:positional_encoding]
def sinusoidal_positional_encoding(max_len: int, d_model: int) -> Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i / d_model)), PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model)) (§3.5).

    Args:
        max_len: number of positions, pos = 0 .. max_len - 1.
        d_model: width; sin fills the even columns and cos the odd ones (interleaved, as in the paper).

    Returns:
        (max_len, d_model) float32 (computed in float64, then rounded).
    """
    _check_positive_int("max_len", max_len)
    _check_positive_int("d_model", d_model)
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(d_model / 2),): 2i
    angles = pos / 10000.0 ** (two_i / d_model)  # (max_len, ceil(d_model / 2))
    pe = torch.empty(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])  # an odd d_model has no cos partner for its last sin
    return pe.to(torch.float32)


# --8<-- [end:positional_encoding]


# --8<-- [start:label_smoothing]
def label_smoothed_cross_entropy(
    logits: Tensor, target: Tensor, epsilon: float = 0.1, ignore_index: int = -100
) -> Tensor:
    """Cross-entropy against q = (1 - epsilon) one_hot(target) + epsilon / K (§5.4, with epsilon_ls = 0.1).

    The uniform part spreads epsilon over all K classes, the target included, so the target gets
    1 - epsilon + epsilon / K. Equal to ``F.cross_entropy(logits, target, label_smoothing=epsilon)``.

    Args:
        logits: (..., K) float scores; the classes are in the last dimension.
        target: (...) int64 class ids in [0, K), or ``ignore_index`` for positions without a loss.
        epsilon: the smoothing, in [0, 1].
        ignore_index: the target value that is skipped.

    Returns:
        A scalar: the mean over the positions not ignored (NaN when all are ignored, as PyTorch's).
    """
    _check_loss_args(logits, target, epsilon, ignore_index)
    log_probs = torch.log_softmax(logits, dim=-1)  # (..., K)
    keep = target != ignore_index  # (...)
    nll = -log_probs.gather(-1, target.where(keep, 0).unsqueeze(-1)).squeeze(-1)  # (...): -log p(target)
    uniform = -log_probs.mean(dim=-1)  # (...): cross-entropy against the uniform distribution over K
    per_position = (1.0 - epsilon) * nll + epsilon * uniform  # (...)
    return per_position[keep].sum() / keep.sum()


# --8<-- [end:label_smoothing]


def _check_loss_args(logits: object, target: object, epsilon: object, ignore_index: object) -> None:
    _check_float("logits", logits, "(..., K)", 1)
    shape = tuple(logits.shape[:-1])  # type: ignore[union-attr]
    if not isinstance(target, Tensor) or target.dtype != torch.int64 or tuple(target.shape) != shape:
        raise ValueError(f"target: expected an int64 tensor of shape (...) = {shape}, got {_describe(target)}")
    if not _is_number(epsilon) or not 0.0 <= epsilon <= 1.0:  # type: ignore[operator]
        raise ValueError(f"epsilon: expected a number in [0, 1], got {epsilon!r}")
    if not _is_int(ignore_index):
        raise ValueError(f"ignore_index: expected an integer, got {ignore_index!r}")
    K = logits.shape[-1]  # type: ignore[union-attr]
    bad = (target != ignore_index) & ((target < 0) | (target >= K))
    if bad.any():
        raise ValueError(
            f"target: expected class ids in [0, {K}) or ignore_index = {ignore_index}, got {int(target[bad][0])}"
        )


# --8<-- [start:schedule]
def transformer_lr(step: int, d_model: int, warmup_steps: int = 4000) -> float:
    """lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5), Eq. (3).

    Linear warm-up for ``warmup_steps`` steps, then decay with the inverse square root of the step; the peak,
    (d_model * warmup_steps)^-0.5, is at ``step == warmup_steps``. Step 0 gives 0 (the warm-up line's value),
    so the function can drive ``torch.optim.lr_scheduler.LambdaLR``, which starts counting at 0.

    Args:
        step: the training step, >= 0.
        d_model: the model width.
        warmup_steps: the length of the warm-up (4000 in the paper).

    Returns:
        The learning rate.
    """
    if not _is_int(step) or step < 0:
        raise ValueError(f"step: expected a non-negative integer, got {step!r}")
    _check_positive_int("d_model", d_model)
    _check_positive_int("warmup_steps", warmup_steps)
    if step == 0:
        return 0.0
    return d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


# --8<-- [end:schedule]


# --8<-- [start:encoder_layer]
class EncoderLayer(nn.Module):
    """Self-attention and the feed-forward network, each as LayerNorm(x + Dropout(Sublayer(x))) (§3.1, §5.4).

    Args:
        d_model: width.
        num_heads: h.
        d_ff: inner width of the feed-forward network, Eq. (2).
        dropout: P_drop, on each sub-layer's output before the residual sum (none on the attention weights).

    Its ``forward(x, padding)`` maps (B, S, d_model) and a (B, S) bool padding mask (or None) to (B, S, d_model).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))  # Eq. (2)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, padding: Tensor | None) -> Tensor:
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, key_padding_mask=padding)[0]))  # (B, S, D)
        return self.norm2(x + self.dropout(self.ffn(x)))  # (B, S, D)


# --8<-- [end:encoder_layer]


# --8<-- [start:decoder_layer]
class DecoderLayer(EncoderLayer):
    """Masked self-attention, encoder-decoder attention and the feed-forward network, each post-LN (§3.1).

    Takes the arguments of :class:`EncoderLayer`. Its ``forward(y, memory, padding, causal)`` maps the (B, T,
    d_model) decoder states, the (B, S, d_model) encoder output, its (B, S) bool padding mask (or None) and the
    (T, T) bool causal mask (True above the diagonal) to (B, T, d_model).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__(d_model, num_heads, d_ff, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, y: Tensor, memory: Tensor, padding: Tensor | None, causal: Tensor) -> Tensor:  # type: ignore[override]
        y = self.norm1(y + self.dropout(self.self_attn(y, y, y, attn_mask=causal)[0]))  # (B, T, D)
        y = self.norm2(y + self.dropout(self.cross_attn(y, memory, memory, key_padding_mask=padding)[0]))
        return self.norm3(y + self.dropout(self.ffn(y)))  # (B, T, D)


# --8<-- [end:decoder_layer]


class TinyTransformer(nn.Module):
    """A small encoder-decoder Transformer: post-LN layers, residual dropout, one shared embedding matrix.

    Args:
        vocab_size: V, shared by source and target.
        d_model: width.
        num_heads: h.
        d_ff: inner width of the feed-forward network.
        num_layers: N, layers of the encoder and of the decoder.
        dropout: P_drop, on every sub-layer output and on the sums of embeddings and positional encodings.
        max_len: the longest sequence.

    Attributes:
        embedding: (V, d_model), the encoder's and decoder's input embedding and the output projection (§3.4).
        pe: (max_len, d_model) buffer, the sinusoidal positional encoding.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 32,
        num_heads: int = 2,
        d_ff: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        max_len: int = 64,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("d_model", d_model),
            ("num_layers", num_layers),
            ("d_ff", d_ff),
            ("max_len", max_len),
        ):
            _check_positive_int(name, value)
        self.d_model, self.max_len = d_model, max_len
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model**-0.5)  # times sqrt(d_model): unit variance
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model), persistent=False)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    # --8<-- [start:model]
    def embed(self, ids: Tensor) -> Tensor:
        """Dropout(E[ids] * sqrt(d_model) + PE): (B, T) int64 -> (B, T, d_model) (§3.4, §3.5, §5.4)."""
        _check_ids("ids", ids, self.embedding.num_embeddings, self.max_len)
        x = self.embedding(ids) * math.sqrt(self.d_model)  # (B, T, D): scaled before the PE is added
        return self.dropout(x + self.pe[: ids.shape[1]])  # (B, T, D)

    def forward(self, src: Tensor, tgt_in: Tensor, src_padding: Tensor | None = None) -> Tensor:
        """Next-token scores: (B, S) source and (B, T) shifted target ids -> (B, T, V) logits.

        Args:
            src: (B, S) int64 source ids.
            tgt_in: (B, T) int64 decoder input: the target shifted right behind a start symbol.
            src_padding: (B, S) bool, True at source padding; None when there is none.

        Returns:
            (B, T, V) scores of the next target token at each position.
        """
        memory = self.embed(src)  # (B, S, D)
        for layer in self.encoder:
            memory = layer(memory, src_padding)  # (B, S, D)
        T = tgt_in.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=src.device).triu(1)  # True above the diagonal
        y = self.embed(tgt_in)  # (B, T, D)
        for layer in self.decoder:
            y = layer(y, memory, src_padding, causal)  # (B, T, D)
        return y @ self.embedding.weight.T  # (B, T, V): the pre-softmax projection is the embedding matrix

    # --8<-- [end:model]

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, bos_id: int, steps: int) -> Tensor:
        """Decode ``steps`` tokens by taking the most likely one at each step (call ``model.eval()`` first).

        Args:
            src: (B, S) int64 source ids.
            bos_id: the start symbol the decoder input begins with.
            steps: number of tokens to produce.

        Returns:
            (B, steps) int64 ids (the start symbol not included).
        """
        _check_positive_int("steps", steps)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.int64, device=src.device)  # (B, 1)
        for _ in range(steps):
            next_id = self(src, out)[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
            out = torch.cat([out, next_id], dim=1)  # (B, t + 1)
        return out[:, 1:]


def _check_ids(name: str, ids: object, vocab_size: int, max_len: int) -> None:
    ok = isinstance(ids, Tensor) and ids.dim() == 2 and ids.dtype == torch.int64
    if not ok:
        raise ValueError(f"{name}: expected an int64 tensor of shape (B, T), got {_describe(ids)}")
    if ids.shape[1] > max_len:  # type: ignore[union-attr]
        raise ValueError(f"{name}: expected at most max_len = {max_len} positions, got T = {ids.shape[1]}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):  # type: ignore[union-attr]
        raise ValueError(
            f"{name}: expected ids in [0, {vocab_size}), got values in [{int(ids.min())}, {int(ids.max())}]"
        )  # type: ignore[union-attr]


# --8<-- [start:reversal_batch]
def reversal_batch(
    batch_size: int, length: int, num_symbols: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """A batch of the reversal task: random symbols 1..num_symbols in, the same symbols backwards out.

    Args:
        batch_size: B.
        length: L, the length of every sequence.
        num_symbols: the symbols are 1..num_symbols; 0 is the decoder's start symbol.
        generator: the random generator to draw from; the global one when None.

    Returns:
        ``(src, tgt_in, tgt_out)``, each (B, L) int64: the source, the decoder input (the start symbol 0, then the
        target shifted right) and the target.
    """
    for name, value in (("batch_size", batch_size), ("length", length), ("num_symbols", num_symbols)):
        _check_positive_int(name, value)
    src = torch.randint(1, num_symbols + 1, (batch_size, length), generator=generator)  # (B, L)
    tgt_out = src.flip(1)  # (B, L)
    tgt_in = torch.cat([torch.zeros(batch_size, 1, dtype=torch.int64), tgt_out[:, :-1]], dim=1)  # (B, L)
    return src, tgt_in, tgt_out


# --8<-- [end:reversal_batch]


# --8<-- [start:training]
def train_reversal(
    model: TinyTransformer,
    steps: int,
    batch_size: int = 32,
    length: int = 8,
    num_symbols: int = 10,
    warmup_steps: int = 100,
    generator: torch.Generator | None = None,
) -> list[float]:
    """Train on fresh reversal batches: Adam(0.9, 0.98, 1e-9), Eq. (3), epsilon_ls = 0.1 (§5.3, §5.4).

    Args:
        model: the model to train; it is left in eval mode.
        steps: the number of updates.
        batch_size: B; ``length``, ``num_symbols`` and ``generator`` too are passed to :func:`reversal_batch`.
        warmup_steps: the warm-up of Eq. (3).

    Returns:
        The loss of every step.
    """
    _check_positive_int("steps", steps)
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    schedule = torch.optim.lr_scheduler.LambdaLR(  # LambdaLR counts from 0, Eq. (3) from 1
        optimizer, lambda step: transformer_lr(step + 1, model.d_model, warmup_steps)
    )
    model.train()
    losses = []
    for _ in range(steps):
        src, tgt_in, tgt_out = reversal_batch(batch_size, length, num_symbols, generator)
        loss = label_smoothed_cross_entropy(model(src, tgt_in), tgt_out, epsilon=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return losses


# --8<-- [end:training]
