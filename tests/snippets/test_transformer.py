"""Tests of snippets.transformer against PyTorch's attention, MultiheadAttention, cross-entropy and layers.

Also: test vectors computed independently (numpy re-implementations of the paper's formulas), the properties the
paper states (PE(pos + k) is a linear function of PE(pos); the schedule's two regimes), the errors bad input gets,
and the tiny encoder-decoder learning to reverse sequences.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.transformer import (
    MultiHeadAttention,
    TinyTransformer,
    label_smoothed_cross_entropy,
    reversal_batch,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
    transformer_lr,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _pair(d: int, h: int, dropout: float = 0.0, seed: int = 0) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    """Ours and PyTorch's, in float64, holding the same (random, non-zero-bias) weights."""
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(d, h, dropout=dropout, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_bias.normal_()
        ref.out_proj.bias.normal_()
    ours = MultiHeadAttention(d, h, dropout=dropout).double()
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


# --- scaled dot-product attention, Eq. (1) ------------------------------------------------------------------------


def test_attention_test_vectors() -> None:
    eye = torch.eye(2, dtype=torch.float64)
    v = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    out, weights = scaled_dot_product_attention(eye, eye, v)
    torch.testing.assert_close(
        weights, torch.tensor([[0.669762, 0.330238], [0.330238, 0.669762]], dtype=torch.float64), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(
        out, torch.tensor([[1.660477, 2.660477], [2.339523, 3.339523]], dtype=torch.float64), atol=1e-6, rtol=0
    )
    assert abs(weights[0, 0].item() - 0.731059) > 0.05  # softmax(I) without the 1/sqrt(d_k) would give 0.731059
    causal = torch.tensor([[True, False], [True, True]])
    out, _ = scaled_dot_product_attention(eye, eye, v, mask=causal)
    torch.testing.assert_close(
        out, torch.tensor([[1.0, 2.0], [2.339523, 3.339523]], dtype=torch.float64), atol=1e-6, rtol=0
    )
    _, weights = scaled_dot_product_attention(
        torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), torch.zeros(3, 1)
    )
    torch.testing.assert_close(weights, torch.tensor([[0.248255, 0.248255, 0.503490]]), atol=1e-6, rtol=0)


@st.composite
def _attention_case(draw: st.DrawFn) -> dict[str, object]:
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    T_q, T_k, d_k, d_v = (
        draw(st.integers(1, 6)),
        draw(st.integers(1, 6)),
        draw(st.integers(1, 8)),
        draw(st.integers(1, 5)),
    )

    # Each input may drop leading dimensions or have size-1 ones: they must broadcast.
    def lead(x: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(1 if draw(st.booleans()) else n for n in x)

    mask_shape = draw(st.sampled_from([None, "full", "keys", "queries", "square"]))
    return {
        "batch": batch,
        "q": (*lead(batch), T_q, d_k),
        "k": (*lead(batch), T_k, d_k),
        "v": (*lead(batch), T_k, d_v),
        "mask": mask_shape,
        "T_q": T_q,
        "T_k": T_k,
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


@settings(max_examples=60, deadline=None)
@given(case=_attention_case())
def test_attention_equals_torch_sdpa(case: dict) -> None:
    g = torch.Generator().manual_seed(case["seed"])
    q, k, v = (torch.randn(case[n], generator=g, dtype=torch.float64) for n in ("q", "k", "v"))
    T_q, T_k = case["T_q"], case["T_k"]
    batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    shapes = {"full": (*batch, T_q, T_k), "keys": (T_k,), "queries": (T_q, 1), "square": (T_q, T_k)}
    mask = None if case["mask"] is None else torch.rand(shapes[case["mask"]], generator=g) < 0.6
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    # PyTorch's function needs the inputs and the mask expanded to the full shapes.
    expected = F.scaled_dot_product_attention(
        q.expand(*batch, *q.shape[-2:]),
        k.expand(*batch, *k.shape[-2:]),
        v.expand(*batch, *v.shape[-2:]),
        attn_mask=None if mask is None else mask.expand(*batch, T_q, T_k),
    )
    torch.testing.assert_close(out, expected, rtol=1e-9, atol=1e-12)
    # The weights against the formula, written independently in float64.
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    manual = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # a row with no allowed key: zeros
    torch.testing.assert_close(weights, manual.expand_as(weights), rtol=1e-9, atol=1e-12)
    if mask is not None:
        full = mask.expand_as(weights)
        assert bool((weights[~full] == 0).all())  # masked weights are exactly 0
        rows = full.any(-1)
        torch.testing.assert_close(weights.sum(-1)[rows], torch.ones_like(weights.sum(-1)[rows]))
        assert bool((weights.sum(-1)[~rows] == 0).all())
        assert bool((out[~rows.expand(out.shape[:-1])] == 0).all())
    else:
        torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)))


def test_a_query_with_no_allowed_key_gets_zeros_and_finite_gradients() -> None:
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 4, generator=g, requires_grad=True)
    k = torch.randn(2, 5, 4, generator=g, requires_grad=True)
    v = torch.randn(2, 5, 2, generator=g, requires_grad=True)
    mask = torch.rand(2, 3, 5, generator=g) < 0.5
    mask[0, 1] = False  # query 1 of batch 0 may attend to nothing
    mask[:, :, 0] |= torch.tensor([[True, False, True], [True, True, True]])  # every other query has a key
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert not bool(out.isnan().any()) and not bool(weights.isnan().any())
    assert bool((weights[0, 1] == 0).all()) and bool((out[0, 1] == 0).all())
    (out.square().sum() + (weights * torch.randn(weights.shape, generator=g)).sum()).backward()
    for t in (q, k, v):
        assert bool(t.grad.isfinite().all())
    assert bool((q.grad[0, 1] == 0).all())  # nothing depends on that query
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))  # PyTorch: zeros too


# --- multi-head attention against torch.nn.MultiheadAttention -------------------------------------------------------


def test_parameters_state_dicts_and_initialisation_match_pytorch() -> None:
    torch.manual_seed(1)
    ref = nn.MultiheadAttention(12, 3, batch_first=True)
    torch.manual_seed(1)
    ours = MultiHeadAttention(12, 3)
    assert {n: p.shape for n, p in ours.named_parameters()} == {n: p.shape for n, p in ref.named_parameters()}
    assert (
        list(ours.state_dict())
        == list(ref.state_dict())
        == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    )
    for a, b in zip(ours.state_dict().values(), ref.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # same seed, same initial weights
    other = MultiHeadAttention(12, 3)
    other.load_state_dict(ref.state_dict(), strict=True)
    ref.load_state_dict(MultiHeadAttention(12, 3).state_dict(), strict=True)
    assert (ours.embed_dim, ours.num_heads, ours.head_dim, ours.batch_first) == (12, 3, 4, True)


def _masks(kind: str, B: int, h: int, T_q: int, T_k: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    """PyTorch-convention masks that leave every query at least one key (PyTorch gives NaN otherwise)."""
    lengths = torch.randint(1, T_k + 1, (B,), generator=g)
    padding = torch.arange(T_k).unsqueeze(0) >= lengths.unsqueeze(1)  # (B, T_k) True at padding
    blocked = torch.rand(T_q, T_k, generator=g) < 0.4
    blocked[:, 0] = False  # key 0 is never padding and never blocked
    blocked3 = torch.rand(B * h, T_q, T_k, generator=g) < 0.4
    blocked3[:, :, 0] = False
    bias = torch.randn(T_q, T_k, generator=g, dtype=torch.float64)
    neg_inf = torch.where(blocked, -math.inf, 0.0).to(torch.float64)
    return {
        "none": {},
        "key_padding": {"key_padding_mask": padding},
        "attn_2d": {"attn_mask": blocked},
        "attn_3d": {"attn_mask": blocked3},
        "both_bool": {"key_padding_mask": padding, "attn_mask": blocked},
        "float_attn": {"attn_mask": bias + neg_inf},
        "both_float": {"key_padding_mask": torch.where(padding, -math.inf, 0.5).to(torch.float64), "attn_mask": bias},
    }[kind]


@pytest.mark.parametrize("kind", ["none", "key_padding", "attn_2d", "attn_3d", "both_bool", "float_attn", "both_float"])
@pytest.mark.parametrize("inputs", ["self", "encoder-decoder", "separate"])
def test_multi_head_attention_equals_pytorch(kind: str, inputs: str) -> None:
    B, T_q, T_k, d, h = 3, 5, 7, 12, 3
    ours, ref = _pair(d, h)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T_q, d, generator=g, dtype=torch.float64)
    if inputs == "self":
        T_k = T_q
        args = (x, x, x)
    else:
        memory = torch.randn(B, T_k, d, generator=g, dtype=torch.float64)
        other = torch.randn(B, T_k, d, generator=g, dtype=torch.float64)
        args = (x, memory, memory) if inputs == "encoder-decoder" else (x, memory, other)
    masks = _masks(kind, B, h, T_q, T_k, g)
    out, weights = ours(*args, **masks)
    expected, expected_weights = ref(*args, **masks)
    assert out.shape == (B, T_q, d) and weights.shape == (B, T_q, T_k)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-10, atol=1e-12)
    # Gradients too, with respect to every parameter.
    out.square().sum().backward()
    expected.square().sum().backward()
    for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-11, msg=name)


def test_weights_trained_in_ours_load_into_pytorch() -> None:
    ours, _ = _pair(8, 2, seed=3)
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    optimizer = torch.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ours(x, x, x)[0].square().sum().backward()
        optimizer.step()
    ref = nn.MultiheadAttention(8, 2, batch_first=True).double()
    ref.load_state_dict(ours.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, x, x), ref(x, x, x), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3),
    T_q=st.integers(1, 6),
    T_k=st.integers(1, 6),
    h=st.sampled_from([1, 2, 4]),
    d_k=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_multi_head_attention_equals_pytorch_for_any_shape(
    B: int, T_q: int, T_k: int, h: int, d_k: int, seed: int
) -> None:
    ours, ref = _pair(h * d_k, h, seed=seed % 1000)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T_q, h * d_k, generator=g, dtype=torch.float64)
    memory = torch.randn(B, T_k, h * d_k, generator=g, dtype=torch.float64)
    padding = torch.rand(B, T_k, generator=g) < 0.3
    padding[:, 0] = False
    with torch.no_grad():
        torch.testing.assert_close(
            ours(x, memory, memory, key_padding_mask=padding),
            ref(x, memory, memory, key_padding_mask=padding),
            rtol=1e-10,
            atol=1e-12,
        )


def test_identity_projections_reproduce_single_head_attention() -> None:
    mha = MultiHeadAttention(2, 1)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.eye(2)] * 3))
        mha.in_proj_bias.zero_()
        mha.out_proj.weight.copy_(torch.eye(2))
        mha.out_proj.bias.zero_()
    x = torch.eye(2).unsqueeze(0)  # (1, 2, 2): Q = K = V = I
    out, weights = mha(x, x, x)
    expected = torch.tensor([[0.669762, 0.330238], [0.330238, 0.669762]])
    torch.testing.assert_close(out[0], expected, atol=1e-6, rtol=0)  # the output is the weights, as V = I
    torch.testing.assert_close(weights[0], expected, atol=1e-6, rtol=0)


def test_each_head_scales_by_its_own_width() -> None:
    """Two heads of width 1: each head's scores are divided by sqrt(1), not sqrt(d_model = 2)."""
    mha = MultiHeadAttention(2, 2)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.eye(2)] * 3))
        mha.in_proj_bias.zero_()
        mha.out_proj.weight.copy_(torch.eye(2))
        mha.out_proj.bias.zero_()
    x = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]])
    out, _ = mha(x, x, x)
    # Head 0 sees the first coordinates [2, 0]: scores q k = [[4, 0], [0, 0]].
    w0 = torch.softmax(torch.tensor([[4.0, 0.0], [0.0, 0.0]]), dim=-1)
    torch.testing.assert_close(out[0, :, 0], w0 @ torch.tensor([2.0, 0.0]))


def test_a_fully_masked_query_gives_zero_weights_where_pytorch_gives_nan() -> None:
    ours, ref = _pair(8, 2)
    x = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    blocked = torch.zeros(3, 3, dtype=torch.bool)
    blocked[1] = True  # query 1 may attend to nothing
    out, weights = ours(x, x, x, attn_mask=blocked)
    expected, _ = ref(x, x, x, attn_mask=blocked)
    assert bool(expected[:, 1].isnan().all())  # PyTorch's MultiheadAttention
    assert bool((weights[:, 1] == 0).all())
    torch.testing.assert_close(out[:, 1], ours.out_proj.bias.expand(2, 8))  # zero attention, then W^O and bias
    torch.testing.assert_close(out[:, [0, 2]], expected[:, [0, 2]])
    out.sum().backward()
    assert bool(x.grad.isfinite().all())


def test_attention_dropout_matches_pytorch_and_is_off_in_eval() -> None:
    ours, ref = _pair(8, 2, dropout=0.3)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    torch.manual_seed(7)
    a = ours(x, x, x)
    torch.manual_seed(7)
    b = ref(x, x, x)
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)  # same random draws, same dropped weights
    assert not torch.allclose(a[1].sum(-1), torch.ones(2, 5, dtype=torch.float64))  # weights after dropout
    ours.eval()
    ref.eval()
    first, second = ours(x, x, x), ours(x, x, x)
    assert torch.equal(first[0], second[0])
    torch.testing.assert_close(first, ref(x, x, x), rtol=1e-10, atol=1e-12)


# --- sinusoidal positional encoding, §3.5 -------------------------------------------------------------------------


def test_positional_encoding_test_vectors() -> None:
    pe4 = sinusoidal_positional_encoding(3, 4)
    torch.testing.assert_close(pe4[1], torch.tensor([0.84147098, 0.54030231, 0.00999983, 0.99995000]))
    torch.testing.assert_close(pe4[2], torch.tensor([0.90929743, -0.41614684, 0.01999867, 0.99980001]))
    torch.testing.assert_close(
        sinusoidal_positional_encoding(2, 6)[1],
        torch.tensor([0.84147098, 0.54030231, 0.04639922, 0.99892298, 0.00215443, 0.99999768]),
    )
    t2t_layout = torch.tensor([0.841471, 0.0001, 0.540302, 1.0])  # [sin, sin, cos, cos], not interleaved
    assert not torch.allclose(pe4[1], t2t_layout, atol=1e-3)
    assert torch.equal(sinusoidal_positional_encoding(1, 8)[0], torch.tensor([0.0, 1.0] * 4))  # PE(0)


@pytest.mark.parametrize(("max_len", "d_model"), [(1, 1), (7, 5), (50, 16), (20, 33)])
def test_positional_encoding_equals_the_formula(max_len: int, d_model: int) -> None:
    pe = sinusoidal_positional_encoding(max_len, d_model)
    assert pe.shape == (max_len, d_model) and pe.dtype == torch.float32
    for pos in range(max_len):
        for j in range(d_model):
            angle = pos / 10000 ** (2 * (j // 2) / d_model)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(pe[pos, j].item() - expected) < 1e-6, (pos, j)


@settings(max_examples=30, deadline=None)
@given(half=st.integers(1, 16), k=st.integers(-20, 40))
def test_pe_of_pos_plus_k_is_a_fixed_rotation_of_pe_of_pos(half: int, k: int) -> None:
    """For each frequency w_i, [sin, cos] at pos + k = [[cos kw, sin kw], [-sin kw, cos kw]] [sin, cos] at pos."""
    d = 2 * half
    pe = sinusoidal_positional_encoding(100, d).double()
    w = 1.0 / 10000 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d / 2,)
    c, s = torch.cos(k * w), torch.sin(k * w)
    M = torch.zeros(d, d, dtype=torch.float64)
    M[0::2, 0::2] = torch.diag(c)
    M[0::2, 1::2] = torch.diag(s)
    M[1::2, 0::2] = torch.diag(-s)
    M[1::2, 1::2] = torch.diag(c)
    positions = torch.arange(max(0, -k), min(100, 100 - k))
    torch.testing.assert_close(pe[positions + k], pe[positions] @ M.T, atol=1e-6, rtol=0)


def test_the_linear_map_depends_only_on_the_offset() -> None:
    """Fit PE(pos + k) ~ PE(pos) A by least squares on positions 0..49 and check A on positions 50..89."""
    pe = sinusoidal_positional_encoding(100, 8).double()
    k = 7
    A = torch.linalg.lstsq(pe[:50], pe[k : 50 + k]).solution  # (8, 8)
    torch.testing.assert_close(pe[50:90] @ A, pe[50 + k : 90 + k], atol=1e-5, rtol=0)
    c, s = math.cos(k), math.sin(k)  # the fastest frequency, w = 1, is well determined by the fit
    torch.testing.assert_close(A[:2, :2], torch.tensor([[c, -s], [s, c]], dtype=torch.float64), atol=1e-6, rtol=0)


# --- label smoothing, §5.4 ---------------------------------------------------------------------------------------


def test_label_smoothing_test_vectors() -> None:
    logits, target = torch.tensor([[2.0, 1.0, 0.0, -1.0]], dtype=torch.float64), torch.tensor([0])
    assert label_smoothed_cross_entropy(logits, target, epsilon=0.0).item() == pytest.approx(0.44018969, abs=1e-8)
    assert label_smoothed_cross_entropy(logits, target, epsilon=0.1).item() == pytest.approx(0.59018970, abs=1e-8)
    # tensor2tensor's form gives the target 1 - eps and every other class eps / (K - 1): eps' = eps K / (K - 1).
    assert label_smoothed_cross_entropy(logits, target, epsilon=0.1 * 4 / 3).item() == pytest.approx(
        0.64018971, abs=2e-8
    )
    soft = torch.tensor([[0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]], dtype=torch.float64)
    assert (-(soft * logits.log_softmax(-1)).sum()).item() == pytest.approx(0.64018971, abs=2e-8)
    normalizer = -(soft * soft.log()).sum().item()  # the entropy tensor2tensor subtracts from its reported loss
    assert normalizer == pytest.approx(0.43494420, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 12),
    K=st.integers(1, 9),
    epsilon=st.floats(0.0, 1.0),
    ignored=st.floats(0.0, 0.9),
    ignore_index=st.sampled_from([-100, 0, 3]),
    seed=st.integers(0, 2**31 - 1),
)
def test_label_smoothing_equals_pytorch(
    N: int, K: int, epsilon: float, ignored: float, ignore_index: int, seed: int
) -> None:
    g = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(N, K, generator=g, dtype=torch.float64)).requires_grad_()
    target = torch.randint(0, K, (N,), generator=g)
    target[torch.rand(N, generator=g) < ignored] = ignore_index
    assume(bool((target != ignore_index).any()))
    ours = label_smoothed_cross_entropy(logits, target, epsilon, ignore_index)
    expected = F.cross_entropy(logits, target, label_smoothing=epsilon, ignore_index=ignore_index)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)
    (grad,) = torch.autograd.grad(ours, logits)
    (expected_grad,) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-9, atol=1e-12)


def test_label_smoothing_takes_classes_in_the_last_dimension() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 7, generator=g)  # (B, T, V), as a decoder produces them
    target = torch.randint(0, 7, (2, 5), generator=g)
    target[1, 3:] = -100
    expected = F.cross_entropy(logits.transpose(1, 2), target, label_smoothing=0.1)  # PyTorch wants (B, V, T)
    torch.testing.assert_close(label_smoothed_cross_entropy(logits, target), expected)


def test_smoothing_spreads_epsilon_over_all_classes_target_included() -> None:
    """The minimiser of the loss is the smoothed target q itself: 1 - eps + eps / K on the target."""
    K, eps = 5, 0.1
    q = torch.full((K,), eps / K)
    q[2] += 1 - eps
    logits = q.log().unsqueeze(0).requires_grad_()  # softmax(logits) = q
    (grad,) = torch.autograd.grad(label_smoothed_cross_entropy(logits, torch.tensor([2]), eps), logits)
    assert grad.abs().max().item() < 1e-7
    assert q[2].item() == pytest.approx(0.92)


def test_label_smoothing_is_nan_when_every_target_is_ignored_like_pytorch() -> None:
    logits, target = torch.randn(3, 4), torch.full((3,), -100)
    assert math.isnan(label_smoothed_cross_entropy(logits, target).item())
    assert math.isnan(F.cross_entropy(logits, target, label_smoothing=0.1).item())


# --- learning-rate schedule, Eq. (3) ------------------------------------------------------------------------------


def test_schedule_test_vectors() -> None:
    for step, lr in [(1, 1.746928e-7), (4000, 6.987712e-4), (8000, 4.941059e-4), (100000, 1.397542e-4)]:
        assert transformer_lr(step, 512) == pytest.approx(lr, rel=1e-6), step
    assert transformer_lr(0, 512) == 0.0


@pytest.mark.parametrize(("d_model", "warmup"), [(512, 4000), (1024, 4000), (64, 100)])
def test_schedule_peaks_at_warmup_with_its_two_regimes(d_model: int, warmup: int) -> None:
    lrs = [transformer_lr(s, d_model, warmup) for s in range(1, 3 * warmup + 1)]
    assert max(range(len(lrs)), key=lrs.__getitem__) + 1 == warmup
    peak = transformer_lr(warmup, d_model, warmup)
    assert peak == pytest.approx((d_model * warmup) ** -0.5)
    for s in (1, warmup // 3, warmup - 1, warmup):  # linear warm-up: lr proportional to the step
        assert transformer_lr(s, d_model, warmup) == pytest.approx(peak * s / warmup, rel=1e-12)
    for s in (warmup, 2 * warmup + 1, 10 * warmup):  # then proportional to step^-0.5
        assert transformer_lr(s, d_model, warmup) == pytest.approx(peak * math.sqrt(warmup / s), rel=1e-12)


def test_tensor2tensor_noam_is_eq_3_one_step_later() -> None:
    """tensor2tensor's legacy "noam" scheme (utils/learning_rate.py, transformer_base_v1: learning_rate 0.1, Adam
    correction 0.002) is 5000 * d^-0.5 * min((step + 1) * warmup^-1.5, (step + 1)^-0.5) * 0.002 * 0.1."""
    for step in (0, 1, 3999, 4000, 12345):
        noam = 5000.0 * 512**-0.5 * min((step + 1) * 4000**-1.5, (step + 1) ** -0.5) * 0.002 * 0.1
        assert noam == pytest.approx(transformer_lr(step + 1, 512), rel=1e-12)


# --- the tiny encoder-decoder -----------------------------------------------------------------------------------


def test_layers_equal_pytorch_post_ln_transformer_layers() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab_size=9, d_model=8, num_heads=2, d_ff=16, num_layers=1, dropout=0.0).double()
    enc, dec = model.encoder[0], model.decoder[0]
    ref_enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()  # norm_first=False: post-LN
    ref_dec = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    rename = {"ffn.0": "linear1", "ffn.2": "linear2", "cross_attn": "multihead_attn"}

    def mapped(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name, value in state.items():
            for a, b in rename.items():
                name = name.replace(a, b)
            out[name] = value
        return out

    ref_enc.load_state_dict(mapped(enc.state_dict()), strict=True)
    ref_dec.load_state_dict(mapped(dec.state_dict()), strict=True)
    g = torch.Generator().manual_seed(1)
    src, tgt = (
        torch.randn(2, 6, 8, generator=g, dtype=torch.float64),
        torch.randn(2, 4, 8, generator=g, dtype=torch.float64),
    )
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    causal = torch.ones(4, 4, dtype=torch.bool).triu(1)
    torch.testing.assert_close(enc(src, padding), ref_enc(src, src_key_padding_mask=padding))
    torch.testing.assert_close(
        dec(tgt, src, padding, causal), ref_dec(tgt, src, tgt_mask=causal, memory_key_padding_mask=padding)
    )


def test_embeddings_are_shared_scaled_and_tied_to_the_output() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab_size=12, d_model=16, num_heads=2, num_layers=1).eval()
    ids = torch.tensor([[3, 1, 4, 1, 5]])
    expected = model.embedding.weight[ids] * 4.0 + sinusoidal_positional_encoding(5, 16)  # sqrt(16) = 4
    torch.testing.assert_close(model.embed(ids), expected)
    assert [n for n, _ in model.named_parameters()].count("embedding.weight") == 1  # one matrix for all three
    src, tgt_in, _ = reversal_batch(2, 5, 10)
    with torch.no_grad():
        model.embedding.weight.zero_()
        assert bool((model(src, tgt_in) == 0).all())  # the output projection is the embedding matrix


def test_decoder_is_causal_and_sublayers_are_post_ln() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab_size=11, num_layers=2).eval()
    src, tgt_in, _ = reversal_batch(3, 6, 10, torch.Generator().manual_seed(0))
    changed = tgt_in.clone()
    changed[:, 4:] = (changed[:, 4:] % 10) + 1  # change the decoder input from position 4 on
    with torch.no_grad():
        a, b = model(src, tgt_in), model(src, changed)
        torch.testing.assert_close(a[:, :4], b[:, :4])  # positions 0..3 cannot see positions >= 4
        assert not torch.allclose(a[:, 4:], b[:, 4:])
        y = model.encoder[0](model.embed(src), None)  # ends with a LayerNorm (weight 1, bias 0 at init)
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 6), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(3, 6), atol=1e-3, rtol=0)


def test_residual_dropout_is_active_in_training_only() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab_size=11, dropout=0.1)
    src, tgt_in, _ = reversal_batch(2, 6, 10)
    assert not torch.equal(model(src, tgt_in), model(src, tgt_in))
    model.eval()
    assert torch.equal(model(src, tgt_in), model(src, tgt_in))
    assert all(m.dropout == 0.0 for m in model.modules() if isinstance(m, MultiHeadAttention))  # none on weights


def test_reversal_batch() -> None:
    src, tgt_in, tgt_out = reversal_batch(4, 5, 3, torch.Generator().manual_seed(0))
    assert src.shape == tgt_in.shape == tgt_out.shape == (4, 5)
    assert torch.equal(tgt_out, src.flip(1)) and bool(((src >= 1) & (src <= 3)).all())
    assert torch.equal(tgt_in[:, 0], torch.zeros(4, dtype=torch.int64)) and torch.equal(tgt_in[:, 1:], tgt_out[:, :-1])


# The tiny model's training (300 steps on reversal, then greedy decoding of 256 unseen sequences: loss and accuracy)
# is checked by the review's own code block, which make test and make test-review run (docs/reviews/transformer.md,
# "A small encoder–decoder"); training it here too would only repeat it.


# --- errors -----------------------------------------------------------------------------------------------------


def test_attention_errors() -> None:
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    cases = [
        ((torch.randn(4), k, v, None), r"query: expected a float tensor of shape \(\.\.\., T_q, d_k\), got \(4,\)"),
        ((q.long(), k, v, None), r"query: .* dtype torch.int64"),
        (
            (q, torch.randn(2, 5, 3), v, None),
            r"key: expected a float tensor of shape \(\.\.\., T_k, d_k\) with "
            r"d_k = 4, got \(2, 5, 3\)",
        ),
        (
            (q, k, torch.randn(2, 4, 6), None),
            r"value: expected a float tensor of shape \(\.\.\., T_k, d_v\) with "
            r"T_k = 5, got \(2, 4, 6\)",
        ),
        ((q, torch.randn(3, 5, 4), v, None), r"query, key, value: expected leading dimensions that broadcast"),
        (
            (q, k, v, torch.ones(3, 5)),
            r"mask: expected a bool tensor broadcastable to \(\.\.\., T_q, T_k\) = "
            r"\(2, 3, 5\), got \(3, 5\), dtype torch.float32",
        ),
        ((q, k, v, torch.ones(3, 4, dtype=torch.bool)), r"mask: .* got \(3, 4\), dtype torch.bool"),
        ((q, k, v, torch.ones(4, 3, 5, dtype=torch.bool)), r"mask: .* got \(4, 3, 5\)"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            scaled_dot_product_attention(*args)


def test_multi_head_attention_errors() -> None:
    with pytest.raises(ValueError, match=r"d_model: expected a multiple of num_heads = 3, got 8"):
        MultiHeadAttention(8, 3)
    with pytest.raises(ValueError, match=r"num_heads: expected a positive integer, got 0"):
        MultiHeadAttention(8, 0)
    with pytest.raises(ValueError, match=r"dropout: expected a number in \[0, 1\), got 1.0"):
        MultiHeadAttention(8, 2, dropout=1.0)
    mha = MultiHeadAttention(8, 2)
    x, m = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    cases = [
        (
            (torch.randn(3, 8), m, m),
            {},
            r"query: expected a float tensor of shape \(B, T_q, d_model\) with "
            r"d_model = 8, got \(3, 8\)",
        ),
        ((torch.randn(2, 3, 6), m, m), {}, r"query: .* got \(2, 3, 6\)"),
        (
            (x, torch.randn(3, 5, 8), m),
            {},
            r"key: expected a float tensor of shape \(B, T_k, d_model\) with B = 2, "
            r"d_model = 8, got \(3, 5, 8\)",
        ),
        ((x, m, torch.randn(2, 4, 8)), {}, r"value: .* with B = 2, d_model = 8, T_k = 5, got \(2, 4, 8\)"),
        (
            (x, m, m),
            {"key_padding_mask": torch.zeros(2, 4, dtype=torch.bool)},
            r"key_padding_mask: expected a bool or float tensor of shape \(2, 5\), got \(2, 4\)",
        ),
        (
            (x, m, m),
            {"key_padding_mask": torch.zeros(2, 5, dtype=torch.int64)},
            r"key_padding_mask: .* dtype torch.int64",
        ),
        (
            (x, m, m),
            {"attn_mask": torch.zeros(5, 3, dtype=torch.bool)},
            r"attn_mask: expected a bool or float tensor of shape \(3, 5\) or \(4, 3, 5\), got \(5, 3\)",
        ),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            mha(*args, **kwargs)


def test_positional_encoding_and_schedule_errors() -> None:
    with pytest.raises(ValueError, match=r"max_len: expected a positive integer, got 0"):
        sinusoidal_positional_encoding(0, 4)
    with pytest.raises(ValueError, match=r"d_model: expected a positive integer, got 4.0"):
        sinusoidal_positional_encoding(3, 4.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"step: expected a non-negative integer, got -1"):
        transformer_lr(-1, 512)
    with pytest.raises(ValueError, match=r"step: .* got True"):
        transformer_lr(True, 512)
    with pytest.raises(ValueError, match=r"warmup_steps: expected a positive integer, got 0"):
        transformer_lr(1, 512, warmup_steps=0)


def test_label_smoothing_errors() -> None:
    logits = torch.randn(3, 4)
    cases = [
        ((torch.tensor(1.0), torch.tensor(0)), {}, r"logits: expected a float tensor of shape \(\.\.\., K\), got \(\)"),
        (
            (logits, torch.zeros(4, dtype=torch.int64)),
            {},
            r"target: expected an int64 tensor of shape \(\.\.\.\) = "
            r"\(3,\), got \(4,\)",
        ),
        ((logits, torch.zeros(3)), {}, r"target: .* dtype torch.float32"),
        (
            (logits, torch.tensor([0, 4, 1])),
            {},
            r"target: expected class ids in \[0, 4\) or ignore_index = -100, got 4",
        ),
        ((logits, torch.tensor([0, -1, 1])), {}, r"target: .* got -1"),
        (
            (logits, torch.zeros(3, dtype=torch.int64)),
            {"epsilon": 1.5},
            r"epsilon: expected a number in \[0, 1\], "
            r"got 1.5",
        ),
        ((logits, torch.zeros(3, dtype=torch.int64)), {"ignore_index": 0.5}, r"ignore_index: expected an integer"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            label_smoothed_cross_entropy(*args, **kwargs)


def test_model_errors() -> None:
    with pytest.raises(ValueError, match=r"vocab_size: expected a positive integer, got 0"):
        TinyTransformer(vocab_size=0)
    with pytest.raises(ValueError, match=r"d_model: expected a multiple of num_heads = 3, got 32"):
        TinyTransformer(vocab_size=5, num_heads=3)
    model = TinyTransformer(vocab_size=5, max_len=4)
    with pytest.raises(ValueError, match=r"ids: expected at most max_len = 4 positions, got T = 5"):
        model(torch.zeros(1, 5, dtype=torch.int64), torch.zeros(1, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, 5\), got values in \[0, 7\]"):
        model(torch.tensor([[0, 7]]), torch.zeros(1, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"ids: expected an int64 tensor of shape \(B, T\), got \(2,\)"):
        model(torch.zeros(2, dtype=torch.int64), torch.zeros(1, 2, dtype=torch.int64))
