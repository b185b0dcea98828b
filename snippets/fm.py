"""Factorization Machines: the O(kn) pairwise-interaction trick and a degree-2 FM model.

Paper: Steffen Rendle, "Factorization Machines", ICDM 2010 (BibTeX key ``rendle2010fm``).
Review: ``docs/reviews/fm.md``.
Implements: the model equation, Eq. (1); the linear-time reformulation of the pairwise term, Lemma 3.1;
sparse categorical input as one-hot ``x`` through per-field offsets into one shared table.

The pairwise term sums ⟨v_i, v_j⟩ x_i x_j over all pairs i < j. Lemma 3.1 rewrites it as
0.5 * sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2], which costs O(k n) instead of O(k n^2).
Here ``n`` runs over the F active features of an example (the non-zeros of a sparse ``x``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["FactorizationMachine", "fm_interaction", "fm_interaction_naive"]


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _check_inputs(embeddings: Tensor, values: Tensor | None) -> None:
    """Validate the shared arguments of the two interaction functions."""
    if not isinstance(embeddings, Tensor) or embeddings.dim() != 3 or not embeddings.is_floating_point():
        raise ValueError(f"embeddings: expected a float tensor of shape (B, F, k), got {_describe(embeddings)}")
    if values is None:
        return
    B, F, _ = embeddings.shape
    if not isinstance(values, Tensor) or tuple(values.shape) != (B, F) or not values.is_floating_point():
        raise ValueError(f"values: expected a float tensor of shape (B, F) = ({B}, {F}), got {_describe(values)}")


# --8<-- [start:fm_interaction]
def fm_interaction(embeddings: Tensor, values: Tensor | None = None, reduce_sum: bool = True) -> Tensor:
    """Pairwise term of Eq. (1) in O(F k) time, by Lemma 3.1.

    Args:
        embeddings: (B, F, k) factor vectors v_i of the F active features of each example.
        values: (B, F) feature values x_i, or None when every x_i is 1 (one-hot fields).
        reduce_sum: sum over the k factors to get one score per example; if False, return the
            per-factor terms, the "bi-interaction" vector that NFM feeds to an MLP.

    Returns:
        (B,) the sum over pairs i < j of ⟨v_i, v_j⟩ x_i x_j, or (B, k) if ``reduce_sum`` is False.
    """
    _check_inputs(embeddings, values)
    vx = embeddings if values is None else embeddings * values.unsqueeze(-1)  # (B, F, k): v_if * x_i
    square_of_sum = vx.sum(dim=1).pow(2)  # (B, k): (sum_i v_if x_i)^2
    sum_of_squares = vx.pow(2).sum(dim=1)  # (B, k): sum_i v_if^2 x_i^2
    per_factor = 0.5 * (square_of_sum - sum_of_squares)  # (B, k)
    return per_factor.sum(dim=1) if reduce_sum else per_factor  # (B,) or (B, k)


# --8<-- [end:fm_interaction]


# --8<-- [start:fm_interaction_naive]
def fm_interaction_naive(embeddings: Tensor, values: Tensor | None = None) -> Tensor:
    """Pairwise term of Eq. (1) as written: a double sum over pairs, O(F^2 k). For teaching and tests.

    Args:
        embeddings: (B, F, k) factor vectors of the F active features.
        values: (B, F) feature values, or None for all ones.

    Returns:
        (B,) the sum over pairs i < j of ⟨v_i, v_j⟩ x_i x_j.
    """
    _check_inputs(embeddings, values)
    B, F, _ = embeddings.shape
    x = embeddings.new_ones(B, F) if values is None else values  # (B, F)
    total = embeddings.new_zeros(B)  # (B,)
    for i in range(F):
        for j in range(i + 1, F):
            dot = (embeddings[:, i] * embeddings[:, j]).sum(dim=-1)  # (B,): ⟨v_i, v_j⟩
            total = total + dot * x[:, i] * x[:, j]
    return total


# --8<-- [end:fm_interaction_naive]


class FactorizationMachine(nn.Module):
    """A degree-2 factorization machine over categorical fields, Eq. (1).

    Each of the F fields holds one active category per example. Per-field offsets map a field's local id
    to a row of one shared table, so the example is a one-hot ``x`` over ``sum(field_dims)`` features.
    Real-valued features scale their rows through ``values`` (x_i instead of 1).

    Args:
        field_dims: the number of categories of each field.
        embed_dim: k, the number of latent factors per feature.

    Attributes:
        embedding: (n, k) factor vectors v_i, with n = sum(field_dims).
        linear: (n, 1) weights w_i.
        bias: (1,) global bias w_0.
        offsets: (F,) buffer: the first global id of each field.
    """

    def __init__(self, field_dims: Sequence[int], embed_dim: int) -> None:
        super().__init__()
        dims = [int(d) for d in field_dims]
        if not dims or any(d < 1 for d in dims):
            raise ValueError(f"field_dims: expected a non-empty sequence of positive sizes, got {list(field_dims)}")
        if int(embed_dim) < 1:
            raise ValueError(f"embed_dim: expected a positive integer, got {embed_dim}")
        self.field_dims = dims
        n = sum(dims)
        self.embedding = nn.Embedding(n, embed_dim)
        self.linear = nn.Embedding(n, 1)
        self.bias = nn.Parameter(torch.zeros(1))
        starts = torch.tensor([0, *dims[:-1]], dtype=torch.int64).cumsum(0)
        self.register_buffer("offsets", starts)  # (F,)
        self.register_buffer("_sizes", torch.tensor(dims, dtype=torch.int64), persistent=False)  # (F,)
        nn.init.normal_(self.embedding.weight, std=0.1)  # libFM's command-line init_stdev
        nn.init.zeros_(self.linear.weight)

    def _check_x(self, x: Tensor) -> None:
        F = len(self.field_dims)
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != F or x.dtype != torch.int64:
            raise ValueError(f"x: expected an int64 tensor of shape (B, F) with F = {F}, got {_describe(x)}")
        bad = (x < 0) | (x >= self._sizes)  # (B, F)
        if bad.any():
            b, f = (int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"x: field {f} has {self.field_dims[f]} categories (valid ids 0..{self.field_dims[f] - 1}), "
                f"got {int(x[b, f])} in row {b}"
            )

    # --8<-- [start:forward]
    def forward(self, x: Tensor, values: Tensor | None = None) -> Tensor:
        """Raw scores w_0 + sum_i w_i x_i + sum_{i<j} ⟨v_i, v_j⟩ x_i x_j, Eq. (1).

        Args:
            x: (B, F) int64 local category ids, one per field.
            values: (B, F) float feature values, or None for one-hot fields (all ones).

        Returns:
            (B,) scores; apply a sigmoid for click-through probabilities.
        """
        self._check_x(x)
        ids = x + self.offsets  # (B, F): local id -> row of the shared tables
        v = self.embedding(ids)  # (B, F, k)
        w = self.linear(ids).squeeze(-1)  # (B, F)
        if values is not None:
            _check_inputs(v, values)
            w = w * values
        return self.bias + w.sum(dim=1) + fm_interaction(v, values)  # (B,)

    # --8<-- [end:forward]
