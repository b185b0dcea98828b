"""Tests of snippets.elmo: ScalarMix against loop references, Eq. (1) vectors, the regulariser, the biLM."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.elmo import BiLM, ScalarMix, scalar_mix_regularizer


def _mix(w: list[float], gamma: float, **kwargs: object) -> ScalarMix:
    """A ScalarMix with the given logits and gamma."""
    mix = ScalarMix(len(w), initial_scalar_parameters=w, **kwargs)  # type: ignore[arg-type]
    with torch.no_grad():
        mix.gamma.fill_(gamma)
    return mix


def _loop_reference(
    tensors: list[torch.Tensor], w: list[float], gamma: float, mask: torch.Tensor | None, eps: float = 1e-13
) -> torch.Tensor:
    """Eq. (1) written element by element in float64, with the pooled masked statistics as plain sums."""
    B, T, D = tensors[0].shape
    exp_w = [math.exp(v) for v in w]
    s = [e / sum(exp_w) for e in exp_w]
    keep = mask.tolist() if mask is not None else None
    out = [[[0.0] * D for _ in range(T)] for _ in range(B)]
    for j, tensor in enumerate(tensors):
        layer = tensor.tolist()
        mean, std = 0.0, 1.0
        if keep is not None:
            kept = [layer[b][t][d] for b in range(B) for t in range(T) for d in range(D) if keep[b][t]]
            mean = sum(kept) / len(kept)
            variance = sum((v - mean) ** 2 for v in kept) / len(kept)
            std = math.sqrt(variance + eps)
        for b in range(B):
            for t in range(T):
                for d in range(D):
                    out[b][t][d] += gamma * s[j] * (layer[b][t][d] - mean) / std
    return torch.tensor(out, dtype=torch.float64)


# --- shapes and parameter names ---------------------------------------------------------------------------


def test_shapes() -> None:
    layers = [torch.randn(2, 5, 4) for _ in range(3)]
    assert ScalarMix(3)(layers).shape == (2, 5, 4)
    assert ScalarMix(3, do_layer_norm=True)(layers, torch.ones(2, 5)).shape == (2, 5, 4)
    out = BiLM(vocab_size=11, embed_dim=4, num_layers=2)(torch.randint(0, 11, (2, 5)))
    assert len(out.layers) == 3
    assert all(layer.shape == (2, 5, 8) for layer in out.layers)
    assert out.loss.shape == ()


def test_state_dict_of_allennlp_scalar_mix_loads_unchanged() -> None:
    # The keys and shapes an AllenNLP ScalarMix(3) saves: one (1,) tensor per logit, and gamma.
    saved = {
        "scalar_parameters.0": torch.tensor([0.1]),
        "scalar_parameters.1": torch.tensor([-0.4]),
        "scalar_parameters.2": torch.tensor([0.7]),
        "gamma": torch.tensor([2.5]),
    }
    mix = ScalarMix(3)
    assert {k: tuple(v.shape) for k, v in mix.state_dict().items()} == {k: (1,) for k in saved}
    mix.load_state_dict(saved, strict=True)
    assert isinstance(mix.scalar_parameters, torch.nn.ParameterList)
    assert [p.item() for p in mix.scalar_parameters] == pytest.approx([0.1, -0.4, 0.7])
    assert mix.gamma.item() == 2.5


# --- against an independent loop reference ------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 4),
    D=st.integers(1, 4),
    n_layers=st.integers(1, 4),
    layer_norm=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_loop_reference(B: int, T: int, D: int, n_layers: int, layer_norm: bool, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(B, T, D, generator=g, dtype=torch.float64) * 3 + 1 for _ in range(n_layers)]
    w = torch.randn(n_layers, generator=g).tolist()
    gamma = float(torch.rand(1, generator=g)) + 0.5
    mask = None
    if layer_norm:
        mask = torch.rand(B, T, generator=g) < 0.7
        mask[0, 0] = True  # at least one real token
    mix = _mix(w, gamma, do_layer_norm=layer_norm)
    # The mix's own parameters are float32; the reference uses the same rounded values.
    w32 = [p.item() for p in mix.scalar_parameters]
    expected = _loop_reference(tensors, w32, mix.gamma.item(), mask)
    torch.testing.assert_close(mix(tensors, mask), expected, rtol=1e-5, atol=1e-5)


# --- properties -------------------------------------------------------------------------------------------


def test_default_init_is_the_plain_mean() -> None:
    torch.manual_seed(0)
    layers = [torch.randn(2, 3, 4) for _ in range(3)]
    mix = ScalarMix(3)
    assert [p.item() for p in mix.scalar_parameters] == [0.0, 0.0, 0.0]
    assert mix.gamma.item() == 1.0
    torch.testing.assert_close(mix(layers), torch.stack(layers).mean(dim=0))


@settings(max_examples=30, deadline=None)
@given(w=st.lists(st.floats(-5, 5), min_size=1, max_size=6))
def test_softmax_weights_sum_to_one(w: list[float]) -> None:
    # Mixing constant layers 1, 1, ... with gamma = 1 returns the sum of the weights; using one-hot layers
    # instead reads each weight off, and they are non-negative.
    mix = ScalarMix(len(w), initial_scalar_parameters=w)
    ones = [torch.ones(1, 1, 1) for _ in w]
    assert mix(ones).item() == pytest.approx(1.0, abs=1e-6)
    basis = [torch.eye(len(w))[j].view(1, 1, -1) for j in range(len(w))]
    s = mix(basis).flatten()
    assert (s >= 0).all()
    torch.testing.assert_close(s, torch.softmax(torch.tensor(w, dtype=torch.float32), dim=0))


def test_gamma_scales_the_whole_vector() -> None:
    torch.manual_seed(0)
    layers = [torch.randn(2, 3, 4) for _ in range(3)]
    torch.testing.assert_close(_mix([0.3, -1.0, 2.0], 3.0)(layers), 3.0 * _mix([0.3, -1.0, 2.0], 1.0)(layers))


def test_padded_entries_do_not_change_statistics_but_are_returned() -> None:
    torch.manual_seed(0)
    layers = [torch.randn(2, 4, 3) for _ in range(3)]
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    mix = ScalarMix(3, do_layer_norm=True)
    out = mix(layers, mask)
    changed = [layer.clone() for layer in layers]
    for layer in changed:
        layer[mask == 0] = 1000.0
    out_changed = mix(changed, mask)
    real = mask.bool()
    torch.testing.assert_close(out_changed[real], out[real])  # statistics ignore padding
    assert (out_changed[~real].abs() > 100).all()  # padded rows are normalised, not zeroed


def test_mask_is_ignored_without_layer_norm() -> None:
    torch.manual_seed(0)
    layers = [torch.randn(2, 3, 4) for _ in range(3)]
    mix = ScalarMix(3)
    torch.testing.assert_close(mix(layers, torch.tensor([[1, 0, 0], [1, 1, 0]])), mix(layers))


def test_trainable_false_freezes_logits_and_gamma() -> None:
    frozen = ScalarMix(3, initial_scalar_parameters=[1.0, 2.0, 3.0], trainable=False)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert len(list(frozen.parameters())) == 4
    trained = ScalarMix(3)
    trained([torch.randn(2, 3, 4) for _ in range(3)]).pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trained.parameters())


def test_drop_in_accepts_other_leading_shapes() -> None:
    # Like AllenNLP's ScalarMix: any tensors of at least two dims, with a mask of all but the last dim.
    layers = [torch.randn(6, 4) for _ in range(2)]
    out = ScalarMix(2, do_layer_norm=True)(layers, torch.ones(6))
    assert out.shape == (6, 4)


# --- vectors of Eq. (1), with layer norm as allennlp/modules/scalar_mix.py computes it ------------------------

L0 = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
L1 = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])
L2 = torch.tensor([[[2.0, 2.0], [2.0, 2.0]]])


def test_vector_a_default_init() -> None:
    out = ScalarMix(3)([L0, L1, L2])
    torch.testing.assert_close(out, torch.tensor([[[1.0, 1.666667], [2.0, 2.0]]]))


def test_vector_b_learned_weights_and_gamma() -> None:
    s = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), dim=0)
    torch.testing.assert_close(s, torch.tensor([0.090031, 0.244728, 0.665241]))
    out = _mix([0.0, 1.0, 2.0], 0.5)([L0, L1, L2])
    torch.testing.assert_close(out, torch.tensor([[[0.710256, 0.877636], [0.922651, 0.845302]]]))


A0 = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]]])
A1 = torch.tensor([[[0.0, 1.0], [1.0, 0.0], [5.0, 5.0]]])
A2 = torch.tensor([[[2.0, 2.0], [2.0, 6.0], [0.0, 0.0]]])
MASK_C = torch.tensor([[1, 1, 0]])
EXPECTED_C = torch.tensor([[[-0.374797, -0.089806], [-0.049543, 0.514146], [4.450795, -3.601784]]])


def test_vector_c_masked_layer_norm() -> None:
    out = _mix([0.0, 1.0, 2.0], 0.5, do_layer_norm=True)([A0, A1, A2], MASK_C)
    torch.testing.assert_close(out, EXPECTED_C)
    assert out[0, 2].abs().min() > 1.0  # the padded row is non-zero by design


def test_vector_c_statistics_and_eps() -> None:
    real = MASK_C[0].bool()
    for layer, mean, var in [(A0, 2.5, 1.25), (A1, 0.5, 0.25), (A2, 3.0, 3.0)]:
        kept = layer[0][real]
        assert kept.mean().item() == pytest.approx(mean)
        assert kept.var(unbiased=False).item() == pytest.approx(var)
    # eps 1e-12 (older releases) and 1e-13 agree to 6 decimals.
    w = [0.0, 1.0, 2.0]
    old = _loop_reference([A0, A1, A2], w, 0.5, MASK_C, eps=1e-12)
    torch.testing.assert_close(old.float(), EXPECTED_C)


def test_vector_c_rejects_per_token_layer_norm() -> None:
    s = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), dim=0)
    per_token = 0.5 * sum(s_j * F.layer_norm(a, (2,), eps=1e-5) for s_j, a in zip(s, [A0, A1, A2], strict=True))
    rejected = torch.tensor([[[-0.167376, 0.167376], [-0.255273, 0.255273], [0.045015, -0.045015]]])
    torch.testing.assert_close(per_token, rejected)
    ours = _mix([0.0, 1.0, 2.0], 0.5, do_layer_norm=True)([A0, A1, A2], MASK_C)
    assert not torch.allclose(ours, per_token, atol=1e-2)


# --- the regulariser --------------------------------------------------------------------------------------


def test_regularizer_value_and_gradient() -> None:
    mix = ScalarMix(3, initial_scalar_parameters=[0.5, -1.0, 2.0])
    penalty = scalar_mix_regularizer(mix, lam=0.001)
    assert penalty.item() == pytest.approx(0.001 * (0.25 + 1.0 + 4.0))
    penalty.backward()
    grads = [p.grad.item() for p in mix.scalar_parameters]
    assert grads == pytest.approx([2 * 0.001 * w for w in [0.5, -1.0, 2.0]])
    assert mix.gamma.grad is None  # gamma is not penalised
    assert scalar_mix_regularizer(ScalarMix(3), lam=1.0).item() == 0.0  # zero at the plain average


def test_large_lambda_keeps_the_mix_near_an_average() -> None:
    # Pushing the mix towards layer 2 only: lambda = 1 holds the weights back, lambda = 0.001 barely does.
    layers = [torch.zeros(1, 1, 1), torch.zeros(1, 1, 1), torch.ones(1, 1, 1)]

    def weight_of_layer_2(lam: float) -> float:
        mix = ScalarMix(3)
        opt = torch.optim.SGD(mix.scalar_parameters.parameters(), lr=0.5)
        for _ in range(40):
            opt.zero_grad()
            loss = (mix(layers) - 1.0).pow(2).sum() + scalar_mix_regularizer(mix, lam)
            loss.backward()
            opt.step()
        return mix(layers).item()

    near_average = weight_of_layer_2(1.0)
    assert abs(near_average - 1 / 3) < 0.1  # the plain average gives layer 2 a third
    assert weight_of_layer_2(0.001) > 0.85


# --- the biLM ----------------------------------------------------------------------------------------------


def _bilm(seed: int = 0) -> BiLM:
    torch.manual_seed(seed)
    return BiLM(vocab_size=13, embed_dim=4, num_layers=2)


def test_layer_zero_is_the_token_embedding_duplicated() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2]])
    x = model.embedding(ids)
    torch.testing.assert_close(model(ids).layers[0], torch.cat([x, x], dim=-1))


def test_directions_see_only_their_side() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2, 9, 3]])
    changed = ids.clone()
    changed[0, 3] = 11  # change token 3
    E = 4
    for a, b in zip(model(ids).layers[1:], model(changed).layers[1:], strict=True):
        torch.testing.assert_close(a[:, :3, :E], b[:, :3, :E])  # forward half before 3: unchanged
        torch.testing.assert_close(a[:, 4:, E:], b[:, 4:, E:])  # backward half after 3: unchanged
        assert not torch.allclose(a[:, 3:, :E], b[:, 3:, :E])
        assert not torch.allclose(a[:, :4, E:], b[:, :4, E:])


def test_backward_direction_is_the_lstm_run_on_the_reversed_sentence() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    layer1 = model(ids, mask).layers[1]
    reversed_out, _ = model.backward_lstms[0](model.embedding(ids[:, :4].flip(1)))
    torch.testing.assert_close(layer1[:, :4, 4:], reversed_out.flip(1))
    assert layer1[:, 4:].abs().sum() == 0  # padded positions are zero in every layer


def test_residual_connection_from_the_second_layer() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2]])
    layers = model(ids).layers
    h2, _ = model.forward_lstms[1](layers[1][..., :4])
    torch.testing.assert_close(layers[2][..., :4], h2 + layers[1][..., :4])


def test_padding_does_not_change_a_sentence() -> None:
    model = _bilm()
    short = torch.tensor([[3, 4, 5]])
    batch = torch.tensor([[3, 4, 5, 0, 0], [1, 2, 6, 7, 8]])
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    alone = model(short).layers
    together = model(batch, mask).layers
    for a, b in zip(alone, together, strict=True):
        torch.testing.assert_close(a[0], b[0, :3])


def test_loss_is_the_joint_log_likelihood_by_loops() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2, 9], [3, 4, 6, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out = model(ids, mask)
    top = out.layers[-1]
    total, count = 0.0, 0
    for b in range(2):
        n = int(mask[b].sum())
        for k in range(n - 1):
            fwd = F.log_softmax(model.softmax(top[b, k, :4]), dim=-1)[ids[b, k + 1]]  # p(t_k+1 | t_1..t_k)
            bwd = F.log_softmax(model.softmax(top[b, k + 1, 4:]), dim=-1)[ids[b, k]]  # p(t_k | t_k+1..t_N)
            total -= (fwd + bwd).item()
            count += 2
    assert out.loss.item() == pytest.approx(total / count, rel=1e-5)


def test_training_lowers_the_loss() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    first = model(ids).loss.item()
    assert first == pytest.approx(math.log(13), abs=0.5)  # near uniform at initialisation
    for _ in range(20):
        opt.zero_grad()
        loss = model(ids).loss
        loss.backward()
        opt.step()
    assert model(ids).loss.item() < 0.5 * first


def test_bilm_layers_flow_into_scalar_mix() -> None:
    model = _bilm()
    ids = torch.tensor([[1, 5, 7, 2], [3, 4, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    out = model(ids, mask)
    mix = ScalarMix(3, do_layer_norm=True)
    elmo = mix(out.layers, mask)
    (elmo.pow(2).sum() + out.loss).backward()
    assert elmo.shape == (2, 4, 8)
    assert all(p.grad is not None for p in mix.parameters())
    assert model.forward_lstms[0].weight_ih_l0.grad is not None


# --- errors ---------------------------------------------------------------------------------------------


def test_wrong_number_of_tensors() -> None:
    with pytest.raises(ValueError, match=r"tensors: expected a list of 3 tensors \(mixture_size\), got 2"):
        ScalarMix(3)([torch.randn(1, 2, 3)] * 2)
    with pytest.raises(ValueError, match=r"tensors: .* got Tensor"):
        ScalarMix(3)(torch.randn(3, 1, 2, 3))  # type: ignore[arg-type]


def test_mismatched_shapes() -> None:
    message = r"tensors\[2\]: expected shape \(1, 2, 3\) like tensors\[0\], got \(1, 2, 4\)"
    with pytest.raises(ValueError, match=message):
        ScalarMix(3)([torch.randn(1, 2, 3), torch.randn(1, 2, 3), torch.randn(1, 2, 4)])


@pytest.mark.parametrize("first", [torch.randn(3), torch.ones(1, 2, 3, dtype=torch.int64)], ids=["one-dim", "integer"])
def test_bad_first_tensor(first: torch.Tensor) -> None:
    with pytest.raises(ValueError, match=r"tensors\[0\]: expected a float tensor of shape \(B, T, D\)"):
        ScalarMix(2)([first, first])


def test_missing_mask_with_layer_norm() -> None:
    with pytest.raises(ValueError, match=r"mask: required when do_layer_norm=True; expected shape \(1, 2\), got None"):
        ScalarMix(2, do_layer_norm=True)([torch.randn(1, 2, 3)] * 2)


def test_bad_mask_shape() -> None:
    with pytest.raises(ValueError, match=r"mask: expected shape \(1, 2\) \(B, T\), got \(2, 1\)"):
        ScalarMix(2, do_layer_norm=True)([torch.randn(1, 2, 3)] * 2, torch.ones(2, 1))


def test_all_masked() -> None:
    with pytest.raises(ValueError, match="mask: every position is masked"):
        ScalarMix(2, do_layer_norm=True)([torch.randn(1, 2, 3)] * 2, torch.zeros(1, 2))


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match=r"initial_scalar_parameters: expected 3 values \(one per layer\), got 2"):
        ScalarMix(3, initial_scalar_parameters=[0.0, 1.0])
    with pytest.raises(ValueError, match="mixture_size: expected a positive integer, got 0"):
        ScalarMix(0)


def test_negative_lambda() -> None:
    with pytest.raises(ValueError, match=r"lam: expected lambda >= 0, got -0.1"):
        scalar_mix_regularizer(ScalarMix(2), lam=-0.1)


@pytest.mark.parametrize(
    ("ids", "mask", "message"),
    [
        (torch.zeros(2, 3), None, r"token_ids: expected an int64 tensor of shape \(B, T\), got \(2, 3\), dtype"),
        (torch.zeros(3, dtype=torch.int64), None, r"token_ids: .* got \(3,\)"),
        (torch.tensor([[1, 13]]), None, r"token_ids: expected ids in 0..12, got values in 1..13"),
        (torch.tensor([[1, 2, 3]]), torch.ones(1, 2), r"mask: expected shape \(1, 3\) \(B, T\), got \(1, 2\)"),
        (torch.tensor([[1, 2, 3]]), torch.tensor([[1, 0, 1]]), r"mask: expected left-aligned sequences"),
        (torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 0], [1, 0]]), r"mask: expected at least one sequence of"),
    ],
)
def test_bad_bilm_input(ids: torch.Tensor, mask: torch.Tensor | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _bilm()(ids, mask)


def test_bad_bilm_sizes() -> None:
    with pytest.raises(ValueError, match="vocab_size, embed_dim, num_layers: expected positive integers, got 5, 0, 2"):
        BiLM(vocab_size=5, embed_dim=0)
