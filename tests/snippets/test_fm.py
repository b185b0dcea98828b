"""Tests of snippets.fm: shapes, the two forms of the pairwise term, hand-computed vectors, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fm import FactorizationMachine, fm_interaction, fm_interaction_naive


def _pairwise_by_gram(embeddings: torch.Tensor, values: torch.Tensor | None) -> torch.Tensor:
    """An independent reference: the strict upper triangle of the Gram matrix of the v_i x_i."""
    vx = embeddings if values is None else embeddings * values.unsqueeze(-1)
    gram = vx @ vx.transpose(1, 2)  # (B, F, F)
    return torch.triu(gram, diagonal=1).sum(dim=(1, 2))


# --- shapes -------------------------------------------------------------------------------------------


def test_shapes() -> None:
    emb = torch.randn(4, 5, 3)
    assert fm_interaction(emb).shape == (4,)
    assert fm_interaction(emb, reduce_sum=False).shape == (4, 3)
    assert fm_interaction_naive(emb).shape == (4,)
    model = FactorizationMachine([3, 4, 2], embed_dim=6)
    assert model(torch.tensor([[0, 1, 1], [2, 3, 0]])).shape == (2,)


# --- the two forms agree (Lemma 3.1) -------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    B=st.integers(1, 4),
    F=st.integers(1, 7),
    k=st.integers(1, 5),
    with_values=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_linear_time_form_equals_double_sum(B: int, F: int, k: int, with_values: bool, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(B, F, k, generator=g, dtype=torch.float64)
    values = torch.randn(B, F, generator=g, dtype=torch.float64) if with_values else None
    fast = fm_interaction(emb, values)
    torch.testing.assert_close(fast, fm_interaction_naive(emb, values))
    torch.testing.assert_close(fast, _pairwise_by_gram(emb, values))
    torch.testing.assert_close(fm_interaction(emb, values, reduce_sum=False).sum(dim=1), fast)


@pytest.mark.parametrize("reduce_sum", [True, False])
def test_matches_pytorch_fm_layer(reduce_sum: bool) -> None:
    # pytorch-fm (torchfm) is a public implementation of the same identity; it returns (B, 1) or (B, k).
    from torchfm.layer import FactorizationMachine as TorchFMLayer

    emb = torch.randn(6, 9, 5, generator=torch.Generator().manual_seed(1))
    theirs = TorchFMLayer(reduce_sum=reduce_sum)(emb)
    torch.testing.assert_close(fm_interaction(emb, reduce_sum=reduce_sum), theirs.squeeze(-1) if reduce_sum else theirs)


def test_single_field_has_no_pairs() -> None:
    emb = torch.randn(3, 1, 4)
    assert torch.equal(fm_interaction(emb), torch.zeros(3))
    assert torch.equal(fm_interaction_naive(emb), torch.zeros(3))


def test_self_interaction_is_dropped_but_repeated_ids_interact() -> None:
    # The identity removes <v_i, v_i> x_i^2. The same feature in two fields still forms a cross term.
    v = torch.tensor([[[1.0, 2.0], [1.0, 2.0]]])  # one feature's vector, twice
    assert fm_interaction(v).item() == pytest.approx(5.0)  # <v, v> = 1 + 4, counted once as a pair


# --- hand-computed vectors: Eq. (1), Lemma 3.1, offsets as in pytorch-fm torchfm/layer.py ---------------------

V = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]])
X = torch.tensor([1.0, 2.0, 0.5])


def test_dense_vector_pairwise_and_per_factor() -> None:
    emb, values = V.unsqueeze(0), X.unsqueeze(0)
    assert fm_interaction_naive(emb, values).item() == pytest.approx(-4.5)
    torch.testing.assert_close(fm_interaction(emb, values, reduce_sum=False), torch.tensor([[-3.5, -1.0]]))
    assert fm_interaction(emb, values).item() == pytest.approx(-4.5)


def test_dense_vector_full_model_output() -> None:
    # w0 = 0.1, w = [0.5, -1, 2]: y = 0.1 + (0.5 - 2 + 1) + (-4.5) = -4.9
    model = FactorizationMachine([1, 1, 1], embed_dim=2)
    with torch.no_grad():
        model.embedding.weight.copy_(V)
        model.linear.weight.copy_(torch.tensor([[0.5], [-1.0], [2.0]]))
        model.bias.fill_(0.1)
    y = model(torch.zeros(1, 3, dtype=torch.int64), values=X.unsqueeze(0))
    assert y.item() == pytest.approx(-4.9)


def test_offsets_map_local_to_global_ids() -> None:
    model = FactorizationMachine([3, 4, 2], embed_dim=2)
    assert model.offsets.tolist() == [0, 3, 7]
    assert model.offsets.dtype == torch.int64
    local = torch.tensor([[2, 0, 1], [0, 3, 1]])
    assert (local + model.offsets).tolist() == [[2, 3, 8], [0, 6, 8]]


def test_fm_layer_vector_with_arange_table() -> None:
    table = torch.arange(18, dtype=torch.float32).reshape(9, 2) / 10
    model = FactorizationMachine([3, 4, 2], embed_dim=2)
    with torch.no_grad():
        model.embedding.weight.copy_(table)
    local = torch.tensor([[2, 0, 1], [0, 3, 1]])
    emb = model.embedding(local + model.offsets)
    torch.testing.assert_close(fm_interaction(emb), torch.tensor([4.23, 4.43]))
    torch.testing.assert_close(fm_interaction(emb, reduce_sum=False), torch.tensor([[1.84, 2.39], [1.92, 2.51]]))
    # The model adds bias and linear terms; both start at zero, so its output is the pairwise term.
    torch.testing.assert_close(model(local), torch.tensor([4.23, 4.43]))


# --- the model ------------------------------------------------------------------------------------------


def test_model_equals_equation_one_on_explicit_one_hot() -> None:
    torch.manual_seed(0)
    field_dims = [3, 4, 2]
    model = FactorizationMachine(field_dims, embed_dim=3)
    with torch.no_grad():
        model.linear.weight.normal_()
        model.bias.fill_(0.3)
    local = torch.tensor([[2, 0, 1], [0, 3, 0]])
    ids = local + model.offsets
    n = sum(field_dims)
    x = torch.zeros(2, n).scatter_(1, ids, 1.0)  # the one-hot design matrix of the paper
    w, v = model.linear.weight.squeeze(-1), model.embedding.weight
    expected = torch.stack(
        [
            model.bias[0]
            + (w * x[b]).sum()
            + sum(v[i] @ v[j] * x[b, i] * x[b, j] for i in range(n) for j in range(i + 1, n))
            for b in range(2)
        ]
    )
    torch.testing.assert_close(model(local), expected)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = FactorizationMachine([3, 4, 2], embed_dim=4)
    model(torch.tensor([[0, 1, 1], [2, 3, 0]]), values=torch.rand(2, 3) + 0.5).sum().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_state_dict_names() -> None:
    keys = set(FactorizationMachine([2, 2], embed_dim=3).state_dict())
    assert keys == {"embedding.weight", "linear.weight", "bias", "offsets"}


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("embeddings", "message"),
    [
        (torch.randn(2, 3), r"embeddings: expected a float tensor of shape \(B, F, k\), got \(2, 3\)"),
        (torch.ones(2, 3, 4, dtype=torch.int64), r"embeddings: .* dtype torch.int64"),
        ([[1.0]], r"embeddings: .* got list"),
    ],
)
def test_bad_embeddings(embeddings: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fm_interaction(embeddings)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        fm_interaction_naive(embeddings)  # type: ignore[arg-type]


def test_bad_values_shape() -> None:
    with pytest.raises(ValueError, match=r"values: expected a float tensor of shape \(B, F\) = \(2, 3\), got \(2, 4\)"):
        fm_interaction(torch.randn(2, 3, 4), torch.randn(2, 4))


def test_index_outside_field_names_field_size_and_value() -> None:
    model = FactorizationMachine([3, 4, 2], embed_dim=2)
    with pytest.raises(ValueError, match=r"field 1 has 4 categories \(valid ids 0..3\), got 4 in row 1"):
        model(torch.tensor([[0, 0, 0], [0, 4, 0]]))
    with pytest.raises(ValueError, match=r"field 2 has 2 categories .*got -1"):
        model(torch.tensor([[0, 0, -1]]))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            torch.zeros(2, 2, dtype=torch.int64),
            r"x: expected an int64 tensor of shape \(B, F\) with F = 3, got \(2, 2\)",
        ),
        (torch.zeros(2, 3), r"x: .* dtype torch.float32"),
        (torch.zeros(3, dtype=torch.int64), r"x: .* got \(3,\)"),
    ],
)
def test_bad_x(x: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FactorizationMachine([3, 4, 2], embed_dim=2)(x)


def test_bad_values_for_model() -> None:
    model = FactorizationMachine([3, 4, 2], embed_dim=2)
    with pytest.raises(ValueError, match=r"values: expected .* \(2, 3\), got \(2, 1\)"):
        model(torch.zeros(2, 3, dtype=torch.int64), values=torch.ones(2, 1))


@pytest.mark.parametrize(("field_dims", "embed_dim"), [([], 2), ([3, 0], 2), ([3], 0)])
def test_bad_constructor_arguments(field_dims: list[int], embed_dim: int) -> None:
    with pytest.raises(ValueError, match="field_dims|embed_dim"):
        FactorizationMachine(field_dims, embed_dim)
