"""Tests of snippets.musicvae: shapes, hand-computed loss and slerp values, the free-bits hinge, slerp, the per-bar
reset of the hierarchical decoder against a naive step-by-step reference, sampling, the small model, every error."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.musicvae import (
    HierarchicalDecoder,
    MusicVAE,
    Posterior,
    beta_schedule,
    gaussian_kl,
    kl_free_bits,
    musicvae_loss,
    reconstruction_loss,
    slerp,
    teacher_forcing_inputs,
)

V, U, S = 7, 4, 5  # vocabulary, bars, steps per bar of the small models below
T = U * S


def _decoder(seed: int = 0, num_layers: int = 2) -> HierarchicalDecoder:
    torch.manual_seed(seed)
    dec = HierarchicalDecoder(
        V, z_dim=6, num_bars=U, steps_per_bar=S, conductor_size=9, decoder_size=11, num_layers=num_layers
    )
    with torch.no_grad():  # the reference init (std 0.001) makes c_u and the bar states nearly constant;
        for p in dec.parameters():  # larger weights make every dependence visible in the tests
            p.normal_(0.0, 0.5)
    return dec


def _model(seed: int = 0) -> MusicVAE:
    torch.manual_seed(seed)
    return MusicVAE(V, U, S, encoder_size=8, z_dim=6, conductor_size=9, decoder_size=11)


def _tokens(B: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


# --- shapes ---------------------------------------------------------------------------------------------


def test_shapes() -> None:
    mu, sigma = torch.randn(3, 5), torch.rand(3, 5) + 0.1
    assert gaussian_kl(mu, sigma).shape == (3,)
    assert kl_free_bits(torch.rand(3), 1.0).shape == (3,)
    assert slerp(torch.randn(5), torch.randn(5), 0.3).shape == (5,)
    assert slerp(torch.randn(5), torch.randn(5), torch.tensor(0.3)).shape == (5,)
    assert slerp(torch.randn(5), torch.randn(5), torch.linspace(0, 1, 4)).shape == (4, 5)
    post_mu, post_sigma = Posterior(8, 5)(torch.randn(3, 8))
    assert post_mu.shape == post_sigma.shape == (3, 5)
    y = _tokens(2)
    assert teacher_forcing_inputs(y, V, U).shape == (2, U, S, V)
    dec = _decoder()
    z = torch.randn(2, 6)
    assert dec.conduct(z).shape == (2, U, 9)  # conductor_size: no projection, as the reference code
    assert dec(z, y).shape == (2, T, V)
    assert dec.sample(z).shape == (2, T) and dec.sample(z).dtype == torch.int64
    model = _model()
    assert [t.shape for t in model.encode(y)] == [(2, 6), (2, 6)]
    terms = model.loss(y, beta=0.2, free_bits=0.0)
    assert terms.loss.shape == () and terms.recon.shape == terms.kl.shape == (2,)
    assert model.interpolate(y[0], y[1], num_steps=3).shape == (3, T)


# --- hand-computed values: free bits in bits (magenta configs.py), beta schedule (base_model.py), Eqs. (6)-(7) ---

KL = torch.tensor([200.0, 150.0], dtype=torch.float64)
RECON = torch.tensor([30.0, 40.0], dtype=torch.float64)


def test_free_bits_vector() -> None:
    assert 256 * math.log(2) == pytest.approx(177.445678, abs=1e-6)
    hinged = kl_free_bits(KL, free_bits=256)
    assert hinged.tolist() == pytest.approx([22.554322, 0.0], abs=1e-6)


@pytest.mark.parametrize(
    ("step", "beta_rate", "beta", "loss"),
    [(0, 0.0, 0.0, 35.0), (1, 0.0, 0.2, 37.255432), (1000, 0.99999, 0.001990, 35.022442)],
)
def test_beta_and_loss_vectors(step: int, beta_rate: float, beta: float, loss: float) -> None:
    b = beta_schedule(step, max_beta=0.2, beta_rate=beta_rate)
    assert b == pytest.approx(beta, abs=1e-6)
    assert musicvae_loss(RECON, KL, b, free_bits=256).item() == pytest.approx(loss, abs=1e-6)


def test_gaussian_kl_vector() -> None:
    kl = gaussian_kl(torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[1.0, 0.5]], dtype=torch.float64))
    assert kl.item() == pytest.approx(0.818147, abs=1e-6)
    assert kl.item() / math.log(2) == pytest.approx(1.180337, abs=1e-6)


@pytest.mark.parametrize(
    ("p0", "p1", "t", "expected"),
    [
        ([1.0, 0.0], [0.0, 1.0], 0.5, [0.707107, 0.707107]),
        ([2.0, 0.0], [0.0, 1.0], 0.5, [1.414214, 0.707107]),  # the raw norms are mixed, not re-normalised
        ([3.0, 4.0], [4.0, -3.0], 0.25, [4.302372, 2.547468]),
    ],
)
def test_slerp_vectors(p0: list[float], p1: list[float], t: float, expected: list[float]) -> None:
    out = slerp(torch.tensor(p0, dtype=torch.float64), torch.tensor(p1, dtype=torch.float64), t)
    assert out.tolist() == pytest.approx(expected, abs=1e-6)


def test_slerp_is_not_lerp() -> None:
    out = slerp(torch.tensor([3.0, 4.0]), torch.tensor([4.0, -3.0]), 0.25)
    assert not torch.allclose(out, torch.tensor([3.25, 2.25]), atol=0.1)


def test_hierarchy_indexing_vector() -> None:
    # 256 steps as 16 bars of 16: bar u covers steps 16u .. 16u + 15 and its first input is y[16u - 1].
    y = torch.arange(256).remainder(90).unsqueeze(0)  # (1, 256), distinct neighbours
    x = teacher_forcing_inputs(y, vocab_size=90, num_bars=16)  # (1, 16, 16, 90)
    assert torch.equal(x[0, 0, 0], torch.zeros(90))
    for u in range(1, 16):
        assert int(x[0, u, 0].argmax()) == int(y[0, 16 * u - 1])
        assert [int(x[0, u, s].argmax()) for s in range(1, 16)] == y[0, 16 * u : 16 * u + 15].tolist()


# --- KL and the free-bits hinge --------------------------------------------------------------------------


def test_hinge_acts_on_total_kl_not_per_dimension() -> None:
    # Two latent dimensions with KLs of about 2.03 and 0.31 nats; tau = 2 nats.
    mu = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    sigma = torch.tensor([[1.0, 0.8]], dtype=torch.float64)
    per_dim = 0.5 * (mu**2 + sigma**2 - 1 - torch.log(sigma**2))  # (1, 2)
    tau_bits = 2.0 / math.log(2)
    total = gaussian_kl(mu, sigma)
    ours = kl_free_bits(total, tau_bits).item()
    assert ours == pytest.approx(per_dim.sum().item() - 2.0)
    per_dimension_hinge = (per_dim - 2.0 / 2).clamp(min=0).sum().item()  # tau split over the 2 dimensions
    assert abs(ours - per_dimension_hinge) > 0.1
    with pytest.raises(ValueError, match=r"kl: .*sum the KL over latent dimensions first"):
        kl_free_bits(per_dim, tau_bits)  # a (B, d) tensor is refused


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 5), d=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_gaussian_kl_matches_torch_distributions(B: int, d: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(B, d, generator=g, dtype=torch.float64) * 2
    sigma = torch.rand(B, d, generator=g, dtype=torch.float64) * 3 + 0.05
    q = torch.distributions.Normal(mu, sigma)
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(sigma))
    torch.testing.assert_close(gaussian_kl(mu, sigma), torch.distributions.kl_divergence(q, p).sum(dim=-1))


def test_gaussian_kl_is_zero_only_at_the_prior() -> None:
    assert gaussian_kl(torch.zeros(2, 3), torch.ones(2, 3)).tolist() == [0.0, 0.0]
    assert (gaussian_kl(torch.tensor([[0.1, 0.0]]), torch.tensor([[1.0, 1.2]])) > 0).all()


@settings(max_examples=40, deadline=None)
@given(kls=st.lists(st.floats(0, 500), min_size=1, max_size=6), free_bits=st.floats(0, 300))
def test_free_bits_matches_a_loop(kls: list[float], free_bits: float) -> None:
    out = kl_free_bits(torch.tensor(kls, dtype=torch.float64), free_bits).tolist()
    assert out == pytest.approx([max(k - free_bits * math.log(2), 0.0) for k in kls])


def test_free_bits_stops_the_gradient_below_the_budget() -> None:
    kl = torch.tensor([10.0, 1.0], requires_grad=True)
    kl_free_bits(kl, free_bits=5.0).sum().backward()  # tau = 3.47 nats
    assert kl.grad.tolist() == [1.0, 0.0]


# --- beta schedule and the loss ------------------------------------------------------------------------------


def test_beta_schedule_rises_to_max_beta() -> None:
    betas = [beta_schedule(s, 0.5, 0.99) for s in (0, 1, 10, 100, 1000, 10000)]
    assert betas[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(betas))
    assert betas[-1] == pytest.approx(0.5)
    assert beta_schedule(7, 0.5, 0.99) == pytest.approx((1 - 0.99**7) * 0.5)
    assert beta_schedule(123, 0.5, 1.0) == 0.0  # r = 1: the KL term never switches on


def test_reconstruction_loss_is_a_sum_over_steps() -> None:
    torch.manual_seed(0)
    logits, y = torch.randn(3, 6, 4, dtype=torch.float64), torch.randint(0, 4, (3, 6))
    log_p = torch.log_softmax(logits, dim=-1)
    naive = torch.stack([-sum(log_p[b, t, y[b, t]] for t in range(6)) for b in range(3)])
    torch.testing.assert_close(reconstruction_loss(logits, y), naive)
    mean_ce = F.cross_entropy(logits.reshape(-1, 4), y.reshape(-1))
    torch.testing.assert_close(reconstruction_loss(logits, y).mean(), 6 * mean_ce)


# --- slerp properties ------------------------------------------------------------------------------------


def _reference_slerp(p0: np.ndarray, p1: np.ndarray, t: float) -> np.ndarray:
    """The formula as printed, in numpy, for vectors that are not parallel."""
    omega = np.arccos(np.dot(p0 / np.linalg.norm(p0), p1 / np.linalg.norm(p1)))
    return np.sin((1 - t) * omega) / np.sin(omega) * p0 + np.sin(t * omega) / np.sin(omega) * p1


@settings(max_examples=50, deadline=None)
@given(d=st.integers(2, 8), seed=st.integers(0, 2**31 - 1), t=st.floats(0, 1))
def test_slerp_endpoints_and_numpy_reference(d: int, seed: int, t: float) -> None:
    g = torch.Generator().manual_seed(seed)
    p0, p1 = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64) * 3
    torch.testing.assert_close(slerp(p0, p1, 0.0), p0)
    torch.testing.assert_close(slerp(p0, p1, 1.0), p1)
    cos = torch.dot(p0, p1) / (p0.norm() * p1.norm())
    if abs(cos) < 0.999:
        expected = torch.from_numpy(_reference_slerp(p0.numpy(), p1.numpy(), t))
        torch.testing.assert_close(slerp(p0, p1, t), expected)


def test_slerp_constant_angular_speed_and_norm_for_equal_norms() -> None:
    torch.manual_seed(0)
    p0, p1 = torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    p1 = p1 / p1.norm() * p0.norm()
    path = slerp(p0, p1, torch.linspace(0, 1, 9, dtype=torch.float64))  # (9, 6)
    unit = path / path.norm(dim=1, keepdim=True)
    angles = torch.arccos((unit[:-1] * unit[1:]).sum(dim=1).clamp(-1, 1))  # (8,)
    torch.testing.assert_close(angles, torch.full_like(angles, angles.mean().item()))
    torch.testing.assert_close(path.norm(dim=1), torch.full((9,), p0.norm().item(), dtype=torch.float64))
    lerp_path = torch.lerp(p0, p1, torch.linspace(0, 1, 9, dtype=torch.float64).unsqueeze(1))
    lerp_unit = lerp_path / lerp_path.norm(dim=1, keepdim=True)
    lerp_angles = torch.arccos((lerp_unit[:-1] * lerp_unit[1:]).sum(dim=1).clamp(-1, 1))
    assert lerp_angles.max() - lerp_angles.min() > 1e-3  # a straight line does not move at a constant angle


def test_slerp_rows_equal_scalar_calls() -> None:
    torch.manual_seed(1)
    p0, p1 = torch.randn(4), torch.randn(4)
    ts = torch.tensor([0.0, 0.2, 0.7, 1.0])
    rows = slerp(p0, p1, ts)
    for i, t in enumerate(ts.tolist()):
        torch.testing.assert_close(rows[i], slerp(p0, p1, t))


@pytest.mark.parametrize(
    ("p0", "p1"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # identical
        ([2.0, 2.0, 1.0], [2.0, 2.0, 1.0]),  # identical, and float32 rounding gives a cosine just above 1
        ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]),  # parallel, different norms
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0000002]),  # nearly parallel in float32
        ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]),  # opposite
    ],
)
def test_slerp_parallel_inputs_give_no_nan(p0: list[float], p1: list[float]) -> None:
    a, b = torch.tensor(p0), torch.tensor(p1)
    out = slerp(a, b, torch.linspace(0, 1, 5))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0], a)
    torch.testing.assert_close(out[-1], b)


def test_slerp_parallel_fallback_is_linear() -> None:
    a = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(slerp(a, 3 * a, 0.5), 2 * a)


# --- posterior ----------------------------------------------------------------------------------------------


def test_posterior_uses_softplus_and_small_init() -> None:
    torch.manual_seed(0)
    post = Posterior(16, 4)
    assert post.mu.weight.std().item() < 0.002 and post.sigma.weight.std().item() < 0.002
    h = torch.randn(5, 16)
    mu, sigma = post(h)
    assert mu.abs().max().item() < 0.05
    torch.testing.assert_close(sigma, torch.full_like(sigma, math.log(2)), atol=0.05, rtol=0)
    with torch.no_grad():
        post.sigma.weight.normal_(0, 10.0)
    _, sigma = post(h)
    torch.testing.assert_close(sigma, torch.log1p(torch.exp(post.sigma(h))))
    assert (sigma > 0).all()


# --- teacher forcing and the hierarchical decoder ------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), bars=st.integers(1, 4), steps=st.integers(1, 5), seed=st.integers(0, 1000))
def test_teacher_forcing_shifts_the_whole_sequence(B: int, bars: int, steps: int, seed: int) -> None:
    y = torch.randint(0, V, (B, bars * steps), generator=torch.Generator().manual_seed(seed))
    x = teacher_forcing_inputs(y, V, bars).reshape(B, bars * steps, V)
    assert torch.equal(x[:, 0], torch.zeros(B, V))
    assert torch.equal(x[:, 1:], F.one_hot(y[:, :-1], V).float())


def _lstm_step(lstm: torch.nn.LSTM, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
    """One step of a stacked LSTM written out from its equations (gate order i, f, g, o)."""
    h, c = h.clone(), c.clone()
    inp = x
    for layer in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
        b = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        i, f, g, o = (inp @ w_ih.T + h[layer] @ w_hh.T + b).chunk(4, dim=-1)
        c[layer] = torch.sigmoid(f) * c[layer] + torch.sigmoid(i) * torch.tanh(g)
        h[layer] = torch.sigmoid(o) * torch.tanh(c[layer])
        inp = h[layer]
    return inp, h, c


def _naive_decode(dec: HierarchicalDecoder, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Conductor over bars with zero inputs; per bar, a fresh core state and [y_{t-1}; c_u] inputs."""
    B = z.shape[0]
    h, c = dec.conductor_init(z)
    cond = []
    for _ in range(U):
        out, h, c = _lstm_step(dec.conductor, torch.zeros(B, 1), h, c)
        cond.append(out)
    logits, prev = [], torch.zeros(B, V)
    for u in range(U):
        h, c = dec.core_init(cond[u])
        for s in range(S):
            out, h, c = _lstm_step(dec.core, torch.cat([prev, cond[u]], dim=-1), h, c)
            logits.append(dec.output(out))
            prev = F.one_hot(y[:, u * S + s], V).float()
    return torch.stack(logits, dim=1)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_decoder_matches_naive_step_by_step_reference(num_layers: int) -> None:
    dec = _decoder(num_layers=num_layers)
    z, y = torch.randn(3, 6), _tokens(3)
    with torch.no_grad():
        torch.testing.assert_close(dec(z, y), _naive_decode(dec, z, y), atol=1e-5, rtol=1e-5)


def _bar(logits: torch.Tensor, u: int) -> torch.Tensor:
    return logits[:, u * S : (u + 1) * S]


def test_per_bar_reset() -> None:
    dec = _decoder()
    z, y = torch.randn(2, 6), _tokens(2)
    base = dec(z, y).detach()
    u = 2
    # Bar u's inputs are y[uS - 1 .. uS + S - 2]. Changing those after the first leaves bar u - 1 unchanged.
    y_u = y.clone()
    y_u[:, u * S : u * S + S - 1] = (y_u[:, u * S : u * S + S - 1] + 1) % V
    changed = dec(z, y_u).detach()
    torch.testing.assert_close(_bar(changed, u - 1), _bar(base, u - 1), atol=0, rtol=0)
    assert not torch.allclose(_bar(changed, u), _bar(base, u))
    # No state crosses a bar border: tokens of bar u - 1 other than its last one do not reach bar u ...
    y_prev = y.clone()
    y_prev[:, (u - 1) * S : u * S - 1] = (y_prev[:, (u - 1) * S : u * S - 1] + 3) % V
    changed = dec(z, y_prev).detach()
    torch.testing.assert_close(_bar(changed, u), _bar(base, u), atol=0, rtol=0)
    assert not torch.allclose(_bar(changed, u - 1), _bar(base, u - 1))  # ... though they do change bar u - 1
    # ... and the last token of bar u - 1 does reach bar u, as its first input.
    y_last = y.clone()
    y_last[:, u * S - 1] = (y_last[:, u * S - 1] + 1) % V
    assert not torch.allclose(_bar(dec(z, y_last).detach(), u), _bar(base, u))


def test_conductor_reads_only_z() -> None:
    dec = _decoder()
    z = torch.randn(2, 6)
    c = dec.conduct(z)
    assert not torch.allclose(c[:, 0], c[:, 1])  # bars get different embeddings
    assert not torch.allclose(dec.conduct(z + 1.0), c)
    torch.testing.assert_close(dec.conduct(z[:1]), c[:1])  # no dependence on other examples


def test_greedy_sample_is_the_argmax_of_teacher_forcing_on_itself() -> None:
    # Sampling feeds each bar the last sampled token of the bar before; teacher forcing on the sample must agree.
    dec = _decoder()
    z = torch.randn(3, 6)
    y = dec.sample(z, temperature=0.0)
    assert torch.equal(dec(z, y).argmax(dim=-1), y)


def test_sampling_is_reproducible_and_temperature_sharpens() -> None:
    dec = _decoder()
    z = torch.randn(4, 6)
    a = dec.sample(z, 1.0, generator=torch.Generator().manual_seed(3))
    b = dec.sample(z, 1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert int(a.min()) >= 0 and int(a.max()) < V
    cold = dec.sample(z, 1e-4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(cold, dec.sample(z, 0.0))


# --- the model -------------------------------------------------------------------------------------------------


def test_encoder_summary_is_last_forward_and_first_backward_state() -> None:
    model = _model()
    x = _tokens(3)
    seen = {}
    model.posterior.register_forward_hook(lambda mod, args, out: seen.setdefault("h", args[0]))
    model.encode(x)
    out, _ = model.encoder(F.one_hot(x, V).float())  # (B, T, 2H)
    H = model.encoder.hidden_size
    torch.testing.assert_close(seen["h"], torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=-1))


def test_model_loss_parts_and_gradients() -> None:
    model = _model()
    x = _tokens(4)
    terms = model.loss(x, beta=0.3, free_bits=0.5, generator=torch.Generator().manual_seed(0))
    mu, sigma = model.encode(x)
    torch.testing.assert_close(terms.kl, gaussian_kl(mu, sigma))
    expected = terms.recon.mean() + 0.3 * (terms.kl - 0.5 * math.log(2)).clamp(min=0).mean()
    torch.testing.assert_close(terms.loss, expected)
    again = model.loss(x, beta=0.3, free_bits=0.5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again.loss, terms.loss)
    terms.loss.backward()
    for name, p in model.named_parameters():
        if name == "decoder.conductor.weight_ih_l0":  # the conductor's inputs are zeros: nothing to learn here
            assert p.grad is not None and p.grad.abs().sum() == 0
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_a_few_steps_reduce_the_loss() -> None:
    model = _model()
    x = _tokens(4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    g = torch.Generator().manual_seed(0)
    first = model.loss(x, 0.2, 0.0, generator=g).loss.item()
    for _ in range(20):
        opt.zero_grad()
        model.loss(x, 0.2, 0.0, generator=g).loss.backward()
        opt.step()
    assert model.loss(x, 0.2, 0.0, generator=g).loss.item() < 0.8 * first


def test_interpolation_decodes_slerp_of_posterior_means() -> None:
    model = _model()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    x = _tokens(2)
    out = model.interpolate(x[0], x[1], num_steps=4)
    mu, _ = model.encode(x)
    z = slerp(mu[0], mu[1], torch.linspace(0, 1, 4))
    assert torch.equal(out, model.decoder.sample(z, 0.0))
    assert torch.equal(out[0], model.decoder.sample(mu[:1], 0.0)[0])
    assert torch.equal(out[-1], model.decoder.sample(mu[1:], 0.0)[0])
    assert torch.equal(model.interpolate(x[0], x[1], num_steps=4), out)  # means, not samples


def test_interpolation_passes_the_temperature_to_the_decoder() -> None:
    # The default is greedy (temperature 0); magenta's trained_model.py interpolate() samples at 1.0 by default,
    # and temperature=1.0 must give exactly that: the decoder sampling the same slerp path at temperature 1.
    model = _model()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    x = _tokens(2)
    mu, _ = model.encode(x)
    z = slerp(mu[0], mu[1], torch.linspace(0, 1, 4))
    torch.manual_seed(7)
    sampled = model.interpolate(x[0], x[1], num_steps=4, temperature=1.0)
    torch.manual_seed(7)
    assert torch.equal(sampled, model.decoder.sample(z, 1.0))
    assert not torch.equal(sampled, model.interpolate(x[0], x[1], num_steps=4))  # sampling is not greedy here


# --- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mu", "sigma", "message"),
    [
        (torch.randn(3), torch.ones(3), r"mu: expected a float tensor of shape \(B, d\), got \(3,\)"),
        (torch.ones(2, 3, dtype=torch.int64), torch.ones(2, 3), r"mu: .*dtype torch.int64"),
        ([[0.0]], torch.ones(1, 1), r"mu: .*got list"),
        (torch.randn(2, 3), torch.ones(2, 4), r"sigma: expected .*\(B, d\) = \(2, 3\), got \(2, 4\)"),
        (torch.randn(2, 3), torch.zeros(2, 3), r"sigma: expected every value > 0, got a minimum of 0.0"),
    ],
)
def test_gaussian_kl_errors(mu: object, sigma: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gaussian_kl(mu, sigma)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kl", "free_bits", "message"),
    [
        (torch.ones(2, 3), 1.0, r"kl: expected a float tensor of shape \(B,\) .*got \(2, 3\)"),
        (torch.ones(2, dtype=torch.int64), 1.0, r"kl: .*dtype torch.int64"),
        (torch.ones(2), -1.0, r"free_bits: expected a number >= 0 \(bits\), got -1.0"),
        (torch.ones(2), True, r"free_bits: .*got True"),
        (torch.ones(2), "48", r"free_bits: .*got '48'"),
    ],
)
def test_kl_free_bits_errors(kl: torch.Tensor, free_bits: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kl_free_bits(kl, free_bits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0.2, 0.5), r"step: expected an integer >= 0, got -1"),
        ((1.5, 0.2, 0.5), r"step: .*got 1.5"),
        ((True, 0.2, 0.5), r"step: .*got True"),
        ((1, -0.2, 0.5), r"max_beta: expected a number >= 0, got -0.2"),
        ((1, 0.2, 1.5), r"beta_rate: expected a number in \[0, 1\], got 1.5"),
        ((1, 0.2, -0.1), r"beta_rate: .*got -0.1"),
    ],
)
def test_beta_schedule_errors(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        beta_schedule(*args)


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        (torch.randn(2, 5), torch.zeros(2, 5, dtype=torch.int64), r"logits: expected .*\(B, T, V\), got \(2, 5\)"),
        (
            torch.randn(2, 5, 3),
            torch.zeros(2, 4, dtype=torch.int64),
            r"targets: expected an int64 .*T = 5, got \(2, 4\)",
        ),
        (torch.randn(2, 5, 3), torch.zeros(2, 5), r"targets: .*dtype torch.float32"),
        (torch.randn(2, 5, 3), torch.full((2, 5), 3), r"targets: expected token ids in 0..2, got values from 3 to 3"),
        (torch.randn(2, 5, 3), torch.zeros(3, 5, dtype=torch.int64), r"targets: expected shape \(B, T\) = \(2, 5\)"),
    ],
)
def test_reconstruction_loss_errors(logits: torch.Tensor, targets: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reconstruction_loss(logits, targets)


@pytest.mark.parametrize(
    ("recon", "kl", "beta", "free_bits", "message"),
    [
        (torch.ones(2, 1), torch.ones(2), 0.2, 0.0, r"recon: expected a float tensor of shape \(B,\), got \(2, 1\)"),
        (torch.ones(2), torch.ones(3), 0.2, 0.0, r"kl: expected .*\(B,\) = \(2,\), got \(3,\)"),
        (torch.ones(2), torch.ones(2), -0.2, 0.0, r"beta: expected a number >= 0, got -0.2"),
        (torch.ones(2), torch.ones(2), 0.2, -1.0, r"free_bits: "),
    ],
)
def test_musicvae_loss_errors(
    recon: torch.Tensor, kl: torch.Tensor, beta: float, free_bits: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        musicvae_loss(recon, kl, beta, free_bits)


@pytest.mark.parametrize(
    ("p0", "p1", "t", "message"),
    [
        (torch.ones(2, 3), torch.ones(2, 3), 0.5, r"p0: expected a float tensor of shape \(d,\), got \(2, 3\)"),
        (torch.ones(3, dtype=torch.int64), torch.ones(3), 0.5, r"p0: .*dtype torch.int64"),
        (torch.ones(3), torch.ones(4), 0.5, r"p1: expected .*\(d,\) = \(3,\), got \(4,\)"),
        (torch.zeros(3), torch.ones(3), 0.5, r"p0, p1: the angle is undefined for a zero vector"),
        (torch.ones(3), torch.ones(3), torch.ones(2, 2), r"t: expected .*\(\) or \(N,\), got \(2, 2\)"),
    ],
)
def test_slerp_errors(p0: torch.Tensor, p1: torch.Tensor, t: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slerp(p0, p1, t)  # type: ignore[arg-type]


def test_posterior_errors() -> None:
    with pytest.raises(ValueError, match=r"input_dim: expected a positive integer, got 0"):
        Posterior(0, 4)
    with pytest.raises(ValueError, match=r"z_dim: expected a positive integer, got 2.5"):
        Posterior(4, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"h: expected shape \(B, 4\), got \(2, 5\)"):
        Posterior(4, 3)(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"h: expected a float tensor of shape \(B, 4\), got \(4,\)"):
        Posterior(4, 3)(torch.randn(4))


@pytest.mark.parametrize(
    ("targets", "vocab_size", "num_bars", "message"),
    [
        (torch.zeros(2, 6, dtype=torch.int64), 0, 2, r"vocab_size: expected a positive integer, got 0"),
        (torch.zeros(2, 6, dtype=torch.int64), 3, 0, r"num_bars: expected a positive integer, got 0"),
        (torch.zeros(2, 7, dtype=torch.int64), 3, 2, r"targets: expected .*\(B, U \* S\) with U = 2, got \(2, 7\)"),
        (torch.zeros(6, dtype=torch.int64), 3, 2, r"targets: .*got \(6,\)"),
        (torch.zeros(2, 6), 3, 2, r"targets: .*dtype torch.float32"),
        (torch.full((2, 6), -1), 3, 2, r"targets: expected token ids in 0..2, got values from -1"),
    ],
)
def test_teacher_forcing_errors(targets: torch.Tensor, vocab_size: int, num_bars: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        teacher_forcing_inputs(targets, vocab_size, num_bars)


@pytest.mark.parametrize(
    "name", ["vocab_size", "z_dim", "num_bars", "steps_per_bar", "conductor_size", "decoder_size", "num_layers"]
)
def test_decoder_constructor_errors(name: str) -> None:
    kwargs = {"vocab_size": V, "z_dim": 6, "num_bars": U, "steps_per_bar": S, "conductor_size": 9, "decoder_size": 11}
    kwargs["num_layers"] = 2
    kwargs[name] = 0
    with pytest.raises(ValueError, match=rf"{name}: expected a positive integer, got 0"):
        HierarchicalDecoder(**kwargs)


def test_decoder_call_errors() -> None:
    dec = _decoder()
    y = _tokens(2)
    with pytest.raises(ValueError, match=r"z: expected shape \(B, 6\), got \(2, 5\)"):
        dec(torch.randn(2, 5), y)
    with pytest.raises(ValueError, match=r"z: expected a float tensor of shape \(B, 6\), got \(6,\)"):
        dec.conduct(torch.randn(6))
    with pytest.raises(
        ValueError, match=r"targets: expected an int64 tensor of shape \(B, T\) with T = 20, got \(2, 19\)"
    ):
        dec(torch.randn(2, 6), y[:, :-1])
    with pytest.raises(ValueError, match=r"targets: expected shape \(B, T\) = \(3, 20\), got \(2, 20\)"):
        dec(torch.randn(3, 6), y)
    with pytest.raises(ValueError, match=rf"targets: expected token ids in 0..{V - 1}, got values from 0 to {V}"):
        dec(torch.randn(2, 6), y.clamp(max=0) + torch.tensor([0] * (T - 1) + [V]))
    with pytest.raises(ValueError, match=r"temperature: expected a number >= 0, got -1.0"):
        dec.sample(torch.randn(2, 6), temperature=-1.0)
    with pytest.raises(ValueError, match=r"z: expected shape \(B, 6\)"):
        dec.sample(torch.randn(2, 4))


def test_model_errors() -> None:
    with pytest.raises(ValueError, match=r"encoder_size: expected a positive integer, got 0"):
        MusicVAE(V, U, S, encoder_size=0, z_dim=6, conductor_size=9, decoder_size=11)
    model = _model()
    x = _tokens(2)
    with pytest.raises(ValueError, match=r"x: expected an int64 tensor of shape \(B, T\) with T = 20, got \(20,\)"):
        model.encode(x[0])
    with pytest.raises(ValueError, match=r"x0: expected an int64 tensor of shape \(T,\) with T = 20, got \(2, 20\)"):
        model.interpolate(x, x[1], num_steps=3)
    with pytest.raises(ValueError, match=r"x1: expected token ids in 0..6, got values from 0 to 9"):
        model.interpolate(x[0], x[1].clamp(max=0) + torch.tensor([0] * (T - 1) + [9]), num_steps=3)
    with pytest.raises(ValueError, match=r"num_steps: expected a positive integer, got 0"):
        model.interpolate(x[0], x[1], num_steps=0)
