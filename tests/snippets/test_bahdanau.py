"""Tests of snippets.bahdanau: the equations as loops, masking, gradients, Luong's scores, hand-computed vectors, the
encoder and decoder of RNNsearch, the toy model's accuracy after training, and the errors bad input gets."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.bahdanau import (
    BOS,
    EOS,
    PAD,
    AdditiveAttention,
    LuongAttention,
    RNNsearch,
    masked_softmax,
    reversal_accuracy,
    reversal_batch,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _set(linear: torch.nn.Linear, weight: list[list[float]]) -> None:
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight, dtype=linear.weight.dtype))


def _additive_by_loops(
    att: AdditiveAttention, s: torch.Tensor, H: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """e_ij = sum_k v_k tanh(sum_l W_kl s_l + sum_m U_km h_jm), alpha_ij over the real j, c_i = sum_j alpha_ij h_j.

    Plain Python floats throughout: nothing of torch but the inputs.
    """
    W, U, v = att.W_a.weight.tolist(), att.U_a.weight.tolist(), att.v_a.weight[0].tolist()
    s_, H_, mask_ = s.tolist(), H.tolist(), mask.tolist()
    contexts, weights = [], []
    for b in range(len(H_)):
        scores = {}
        for j, h in enumerate(H_[b]):
            if mask_[b][j]:
                scores[j] = sum(
                    v[k]
                    * math.tanh(
                        sum(W[k][l] * s_[b][l] for l in range(len(s_[b]))) + sum(U[k][m] * h[m] for m in range(len(h)))
                    )
                    for k in range(len(v))
                )
        norm = sum(math.exp(e) for e in scores.values())
        alpha = [math.exp(scores[j]) / norm if j in scores else 0.0 for j in range(len(H_[b]))]
        weights.append(alpha)
        contexts.append([sum(alpha[j] * H_[b][j][m] for j in range(len(alpha))) for m in range(len(H_[b][0]))])
    return torch.tensor(contexts, dtype=H.dtype), torch.tensor(weights, dtype=H.dtype)


# --- shapes -------------------------------------------------------------------------------------------------


def test_shapes() -> None:
    att = AdditiveAttention(query_dim=3, key_dim=4, hidden_dim=5)
    context, weights = att(torch.randn(2, 3), torch.randn(2, 6, 4))
    assert context.shape == (2, 4) and weights.shape == (2, 6)
    assert att.W_a.weight.shape == (5, 3) and att.U_a.weight.shape == (5, 4) and att.v_a.weight.shape == (1, 5)
    assert att.W_a.bias is None and att.U_a.bias is None and att.v_a.bias is None
    for kind, d_k in (("dot", 3), ("general", 4)):
        context, weights = LuongAttention(3, d_k, score=kind)(torch.randn(2, 3), torch.randn(2, 6, d_k))
        assert context.shape == (2, d_k) and weights.shape == (2, 6)
    model = RNNsearch(vocab_size=13, embed_dim=8, hidden_dim=6, attention_dim=5, maxout_dim=4)
    src, src_mask, tgt_in, _ = reversal_batch(3, torch.Generator().manual_seed(0))
    logits, alignment = model(src, src_mask, tgt_in)
    assert logits.shape == (3, 9, 13) and alignment.shape == (3, 9, 8)
    annotations, s_0 = model.encode(src, src_mask)
    assert annotations.shape == (3, 8, 12) and s_0.shape == (3, 6)


# --- against the equations written as loops ------------------------------------------------------------------


def test_additive_attention_equals_the_equations_as_loops() -> None:
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5).double()
    s, H = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 6, 4, dtype=torch.float64)
    mask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    context, weights = att(s, H, mask)
    ref_context, ref_weights = _additive_by_loops(att, s, H, mask)
    torch.testing.assert_close(weights, ref_weights)
    torch.testing.assert_close(context, ref_context)


@pytest.mark.parametrize("kind", ["dot", "general"])
def test_luong_scores_equal_loops(kind: str) -> None:
    torch.manual_seed(1)
    d_k = 3 if kind == "dot" else 4
    att = LuongAttention(3, d_k, score=kind).double()
    h_t, H = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, d_k, dtype=torch.float64)
    W = torch.eye(3, dtype=torch.float64) if kind == "dot" else att.W_a.weight  # (d_q, d_k)
    expected = torch.zeros(2, 5, dtype=torch.float64)
    for b in range(2):
        for j in range(5):
            expected[b, j] = sum(h_t[b, q] * W[q, k] * H[b, j, k] for q in range(3) for k in range(d_k))
    with torch.no_grad():
        torch.testing.assert_close(att.score(h_t, H), expected)
        context, weights = att(h_t, H)
    torch.testing.assert_close(weights, torch.softmax(expected, dim=1))
    torch.testing.assert_close(context, torch.einsum("bt,btk->bk", weights, H))


# --- masking --------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 7), seed=st.integers(0, 2**31 - 1))
def test_padding_gets_exactly_zero_weight_and_changes_nothing(B: int, T: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    att = AdditiveAttention(3, 4, 5)
    s, H = torch.randn(B, 3, generator=g), torch.randn(B, T, 4, generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    mask = torch.arange(T) < lengths.unsqueeze(1)  # (B, T)
    context, weights = att(s, H, mask)
    assert bool((weights[~mask] == 0).all())  # exactly zero, not merely small
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(B))
    noisy = H.masked_fill(~mask.unsqueeze(-1), 1e6)  # whatever sits at the padding is ignored
    context2, weights2 = att(s, noisy, mask)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)


def test_masked_softmax_equals_softmax_over_the_real_positions() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0, 40.0], [0.5, -1.0, 9.0, 9.0]])
    mask = torch.tensor([[True, True, True, False], [True, False, True, True]])
    weights = masked_softmax(scores, mask)
    torch.testing.assert_close(weights[0, :3], torch.softmax(scores[0, :3], dim=0))
    torch.testing.assert_close(weights[1, [0, 2, 3]], torch.softmax(scores[1, [0, 2, 3]], dim=0))
    assert weights[0, 3] == 0 and weights[1, 1] == 0
    torch.testing.assert_close(masked_softmax(scores), torch.softmax(scores, dim=1))


def test_a_row_without_real_positions_raises() -> None:
    att = AdditiveAttention(2, 2, 2)
    mask = torch.tensor([[True, False], [False, False]])
    with pytest.raises(ValueError, match=r"mask: expected at least one real position .* rows \[1\]"):
        att(torch.randn(2, 2), torch.randn(2, 2, 2), mask)


# --- gradients --------------------------------------------------------------------------------------------------


def test_gradients_reach_all_three_matrices_and_not_the_padding() -> None:
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    keys = torch.randn(2, 6, 4, requires_grad=True)
    mask = torch.tensor([[True] * 6, [True, True, False, False, False, False]])
    context, _ = att(torch.randn(2, 3), keys, mask)
    (context * torch.randn(2, 4)).sum().backward()
    for name in ("W_a", "U_a", "v_a"):
        grad = getattr(att, name).weight.grad
        assert grad is not None and bool((grad != 0).any()), name
    assert bool((keys.grad[1, 2:] == 0).all()) and bool((keys.grad[1, :2] != 0).any())


# --- Hand-computed test vectors (values worked out from Eqs. (5)-(6) and Luong et al. §3.1)


def test_vector_additive_identity_weights() -> None:
    att = AdditiveAttention(2, 2, 2).double()
    _set(att.W_a, [[1, 0], [0, 1]])
    _set(att.U_a, [[1, 0], [0, 1]])
    _set(att.v_a, [[1, 1]])
    s, H = (
        torch.tensor([[1.0, 0.0]], dtype=torch.float64),
        torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64),
    )
    with torch.no_grad():
        torch.testing.assert_close(
            att.score(s, H), torch.tensor([[0.964028, 1.523188]], dtype=torch.float64), atol=1e-6, rtol=0
        )
        context, weights = att(s, H)
    torch.testing.assert_close(weights, torch.tensor([[0.363742, 0.636258]], dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(context, torch.tensor([[0.363742, 0.636258]], dtype=torch.float64), atol=1e-6, rtol=0)


def test_vector_additive_non_symmetric() -> None:
    att = AdditiveAttention(2, 2, 2).double()
    _set(att.W_a, [[1, 0], [1, 1]])
    _set(att.U_a, [[0, 1], [1, 0]])
    _set(att.v_a, [[1, -1]])
    s = torch.tensor([[0.5, -0.5]], dtype=torch.float64)
    H = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    with torch.no_grad():
        scores = att.score(s, H)
        context, weights = att(s, H)
    expected = {
        "e": [-0.299477, 0.905148, 0.143554],
        "alpha": [0.169695, 0.566019, 0.264286],
        "c": [0.433981, 0.830305],
    }
    for got, key in ((scores, "e"), (weights, "alpha"), (context, "c")):
        torch.testing.assert_close(got, torch.tensor([expected[key]], dtype=torch.float64), atol=1e-6, rtol=0)


def test_vector_luong_scores_and_concat() -> None:
    h_t = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    H = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    dot = LuongAttention(2, 2, score="dot")
    general = LuongAttention(2, 2, score="general").double()
    _set(general.W_a, [[1, 2], [0, 1]])
    with torch.no_grad():
        assert dot.score(h_t, H).tolist() == [[1.0, 0.0]]
        assert general.score(h_t, H).tolist() == [[1.0, 2.0]]
        ones = torch.tensor([[0.731059, 0.268941]], dtype=torch.float64)
        torch.testing.assert_close(dot(h_t, H)[1], ones, atol=1e-6, rtol=0)
        torch.testing.assert_close(general(h_t, H)[1], ones.flip(1), atol=1e-6, rtol=0)
    # Luong's concat score v_a^T tanh(W_a [h_t; hbar_s]) with W_a = [I I] is the additive score with W_a = U_a = I,
    # evaluated at h_t (Luong) instead of s_{i-1} (Bahdanau): the same numbers as the first vector.
    additive = AdditiveAttention(2, 2, 2).double()
    _set(additive.W_a, [[1, 0], [0, 1]])
    _set(additive.U_a, [[1, 0], [0, 1]])
    _set(additive.v_a, [[1, 1]])
    W = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]], dtype=torch.float64)  # [I I]
    concat = torch.stack(
        [torch.ones(2, dtype=torch.float64) @ torch.tanh(W @ torch.cat([h_t[0], H[0, j]])) for j in range(2)]
    )
    with torch.no_grad():
        torch.testing.assert_close(additive.score(h_t, H)[0], concat)
    torch.testing.assert_close(concat, torch.tensor([0.964028, 1.523188], dtype=torch.float64), atol=1e-6, rtol=0)


# --- RNNsearch: encoder and decoder --------------------------------------------------------------------------


def test_annotations_are_bidirectional_and_ignore_padding() -> None:
    torch.manual_seed(0)
    model = RNNsearch(13, embed_dim=8, hidden_dim=6)
    src = torch.tensor([[3, 4, 5, 6]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    changed = torch.tensor([[3, 4, 5, 7]])
    with torch.no_grad():
        h, s_0 = model.encode(src, mask)
        h2, s_0_changed = model.encode(changed, mask)
        # The last word reaches h_1 only through the backward half; the forward half of h_1 has read only x_1.
        torch.testing.assert_close(h[0, :3, :6], h2[0, :3, :6])
        assert not torch.allclose(h[0, 0, 6:], h2[0, 0, 6:])
        torch.testing.assert_close(s_0, torch.tanh(model.W_s(h[:, 0, 6:])))  # s_0 = tanh(W_s backward h_1)
        assert not torch.allclose(s_0, s_0_changed)
        # Padding on the right changes no annotation of a real position, and the padded ones are zero.
        padded, padded_mask = torch.tensor([[3, 4, 5, 6, PAD, PAD]]), torch.tensor([[True] * 4 + [False] * 2])
        hp, s_0p = model.encode(padded, padded_mask)
    torch.testing.assert_close(hp[:, :4], h)
    torch.testing.assert_close(s_0p, s_0)
    assert bool((hp[:, 4:] == 0).all())


def test_the_decoder_scores_with_the_previous_state() -> None:
    torch.manual_seed(0)
    model = RNNsearch(13, embed_dim=8, hidden_dim=6, attention_dim=5)
    src, src_mask, tgt_in, _ = reversal_batch(4, torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits, alignment = model(src, src_mask, tgt_in)
        annotations, state = model.encode(src, src_mask)
        for i in range(tgt_in.shape[1]):
            _, expected = model.attention(state, annotations, src_mask)  # alpha_i from s_{i-1}
            torch.testing.assert_close(alignment[:, i], expected)
            step_logits, state, _ = model.step(tgt_in[:, i], state, annotations, src_mask)
            torch.testing.assert_close(logits[:, i], step_logits)
    assert bool((alignment[~src_mask.unsqueeze(1).expand_as(alignment)] == 0).all())


def test_reversal_batch() -> None:
    src, src_mask, tgt_in, tgt_out = reversal_batch(
        50, torch.Generator().manual_seed(0), num_symbols=5, min_len=2, max_len=6
    )
    assert src.shape == src_mask.shape == (50, 6) and tgt_in.shape == tgt_out.shape == (50, 7)
    for b in range(50):
        x = src[b][src_mask[b]].tolist()
        assert 2 <= len(x) <= 6 and all(3 <= t < 8 for t in x)
        assert bool((src[b][~src_mask[b]] == PAD).all())
        assert tgt_out[b].tolist() == x[::-1] + [EOS] + [PAD] * (6 - len(x))
        assert tgt_in[b].tolist() == [BOS] + x[::-1] + [PAD] * (6 - len(x))


# The trained toy model (200 Adam steps on reversal, then 500 held-out sources: accuracy, loss, the mirror alignment)
# is checked by the review's own code blocks, which make test and make test-review run (docs/reviews/bahdanau.md,
# "Learning to reverse, and the alignment it finds"); training it here too would only repeat them.


def test_untrained_model_does_not_reverse() -> None:
    # The control for the review's trained model: the same evaluation scores (almost) nothing before training.
    torch.manual_seed(0)
    src, src_mask, _, tgt_out = reversal_batch(500, torch.Generator().manual_seed(100))
    assert reversal_accuracy(RNNsearch(13), src, src_mask, tgt_out) < 0.05


# --- errors --------------------------------------------------------------------------------------------------


def _model() -> RNNsearch:
    return RNNsearch(13, embed_dim=4, hidden_dim=4, attention_dim=4, maxout_dim=2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: AdditiveAttention(0, 2, 2), r"query_dim: expected a positive integer"),
        (lambda: AdditiveAttention(2, 2, 2.0), r"hidden_dim"),
        (
            lambda: AdditiveAttention(3, 4, 5)(torch.randn(2, 4), torch.randn(2, 6, 4)),
            r"query: expected a float tensor of shape \(B, d_q\) with d_q = 3, got \(2, 4\)",
        ),
        (lambda: AdditiveAttention(3, 4, 5)(torch.randn(2, 3), torch.randn(3, 6, 4)), r"keys: .*B = 2.*\(3, 6, 4\)"),
        (lambda: AdditiveAttention(3, 4, 5)(torch.randn(2, 3), torch.randn(2, 6)), r"keys: .*got \(2, 6\)"),
        (lambda: AdditiveAttention(3, 4, 5)(torch.randn(2, 3), torch.randn(2, 0, 4)), r"keys: .*T >= 1"),
        (
            lambda: AdditiveAttention(3, 4, 5)(torch.randn(2, 3), torch.randn(2, 6, 4), torch.ones(2, 6)),
            r"mask: expected a bool tensor of shape \(B, T\) = \(2, 6\)",
        ),
        (
            lambda: AdditiveAttention(3, 4, 5)(
                torch.randn(2, 3), torch.randn(2, 6, 4), torch.ones(2, 5, dtype=torch.bool)
            ),
            r"mask: .*got \(2, 5\)",
        ),
        (lambda: LuongAttention(3, 4, score="dot"), r"key_dim: expected key_dim = query_dim = 3"),
        (lambda: LuongAttention(3, 3, score="concat"), r"score: expected 'dot' or 'general'"),
        (lambda: masked_softmax(torch.ones(3)), r"scores: expected a float tensor of shape \(B, T\)"),
        (lambda: _model().encode(torch.tensor([[3, 4]]), torch.tensor([[False, True]])), r"src_mask: .*start"),
        (lambda: _model().encode(torch.tensor([[3, 40]]), torch.ones(1, 2, dtype=torch.bool)), r"src: expected ids"),
        (lambda: _model().encode(torch.tensor([3, 4]), torch.ones(2, dtype=torch.bool)), r"src: expected an int64"),
        (
            lambda: _model()(torch.tensor([[3, 4]]), torch.ones(1, 2, dtype=torch.bool), torch.tensor([1, 3])),
            r"tgt_in: expected an int64 tensor of shape \(B, T_y\)",
        ),
        (lambda: reversal_batch(4, None, min_len=5, max_len=3), r"min_len: expected at most max_len = 3"),
    ],
)
def test_bad_input_raises(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_precomputed_projection_gives_the_same_attention() -> None:
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    s, H = torch.randn(2, 3), torch.randn(2, 6, 4)
    context, weights = att(s, H)
    context2, weights2 = att(s, H, projected_keys=att.U_a(H))
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)
    with pytest.raises(ValueError, match=r"projected_keys: expected a tensor of shape \(B, T, n'\) = \(2, 6, 5\)"):
        att(s, H, projected_keys=H)
