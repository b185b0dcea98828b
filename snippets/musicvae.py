"""MusicVAE: a recurrent VAE for melodies with free bits, a β schedule, slerp and a hierarchical "conductor" decoder.

Paper: Adam Roberts, Jesse Engel, Colin Raffel, Curtis Hawthorne, Douglas Eck, "A Hierarchical Latent Vector
Model for Learning Long-Term Structure in Music", ICML 2018 (BibTeX key ``roberts2018musicvae``).
Review: ``docs/reviews/musicvae.md``.
Implements (equation labels are the review's): the β-weighted ELBO with a free-bits hinge, Eqs. (2)-(3); the
posterior of the bidirectional encoder with a softplus scale, Eqs. (4)-(5), and its KL to N(0, I), Eq. (6);
the hierarchical decoder, a conductor LSTM that emits one embedding c_u per bar and a core LSTM that is
re-initialised from every c_u; spherical interpolation (slerp) between posterior means, Eq. (7); and the β
schedule of the reference code.

Melodies are sequences of T = U * S integer tokens (U bars of S steps) over a vocabulary of V events. The
reference implementation's choices are followed where the paper's text is silent: the hinge acts on each
example's total KL, the reconstruction term is summed over all steps, teacher forcing shifts the whole sequence
right by one step, and the conductor hands its top-layer LSTM output to the core decoder without a projection.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "HierarchicalDecoder",
    "LossTerms",
    "MusicVAE",
    "Posterior",
    "beta_schedule",
    "gaussian_kl",
    "kl_free_bits",
    "musicvae_loss",
    "reconstruction_loss",
    "slerp",
    "teacher_forcing_inputs",
]


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _check_float(name: str, x: object, ndim: int, expected: str) -> None:
    if not isinstance(x, Tensor) or x.dim() != ndim or not x.is_floating_point():
        raise ValueError(f"{name}: expected a float tensor of shape {expected}, got {_describe(x)}")


def _check_tokens(name: str, x: object, length: int, vocab_size: int, batched: bool = True) -> None:
    ndim, expected = (2, f"(B, T) with T = {length}") if batched else (1, f"(T,) with T = {length}")
    if not isinstance(x, Tensor) or x.dim() != ndim or x.shape[-1] != length or x.dtype != torch.int64:
        raise ValueError(f"{name}: expected an int64 tensor of shape {expected}, got {_describe(x)}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= vocab_size):
        raise ValueError(
            f"{name}: expected token ids in 0..{vocab_size - 1}, got values from {int(x.min())} to {int(x.max())}"
        )


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


# --8<-- [start:kl]
def gaussian_kl(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) in nats, summed over the latent dimensions, Eq. (6).

    Args:
        mu: (B, d) posterior means.
        sigma: (B, d) posterior standard deviations, every value > 0.

    Returns:
        (B,) the total KL of each example, in nats.
    """
    _check_float("mu", mu, 2, "(B, d)")
    if not isinstance(sigma, Tensor) or sigma.shape != mu.shape or not sigma.is_floating_point():
        raise ValueError(f"sigma: expected a float tensor of shape (B, d) = {tuple(mu.shape)}, got {_describe(sigma)}")
    if bool((sigma <= 0).any()):
        raise ValueError(f"sigma: expected every value > 0, got a minimum of {float(sigma.min())}")
    per_dim = 0.5 * (mu.pow(2) + sigma.pow(2) - 1.0 - 2.0 * sigma.log())  # (B, d)
    return per_dim.sum(dim=-1)  # (B,)


# --8<-- [end:kl]


# --8<-- [start:free_bits]
def kl_free_bits(kl: Tensor, free_bits: float) -> Tensor:
    """The free-bits hinge of Eq. (3): max(KL - tau, 0) for each example, with tau = free_bits * ln 2 nats.

    The hinge acts on each example's *total* KL (summed over latent dimensions first), as in the reference
    code; a hinge per latent dimension would give a different loss.

    Args:
        kl: (B,) total KL of each example in nats, e.g. from :func:`gaussian_kl`.
        free_bits: the free budget tau, in bits (the unit of the reference configs).

    Returns:
        (B,) the hinged KL in nats.
    """
    _check_float("kl", kl, 1, "(B,) (sum the KL over latent dimensions first)")
    if isinstance(free_bits, bool) or not isinstance(free_bits, (int, float)) or free_bits < 0:
        raise ValueError(f"free_bits: expected a number >= 0 (bits), got {free_bits!r}")
    free_nats = free_bits * math.log(2.0)  # bits -> nats
    return (kl - free_nats).clamp(min=0.0)  # (B,)


# --8<-- [end:free_bits]


# --8<-- [start:beta_schedule]
def beta_schedule(step: int, max_beta: float, beta_rate: float) -> float:
    """The KL weight of the reference code: beta = (1 - beta_rate**step) * max_beta.

    With ``beta_rate = 0`` (the 16-bar configs) beta is 0 at step 0 (0**0 = 1) and ``max_beta`` from step 1.

    Args:
        step: the global training step, >= 0.
        max_beta: the final weight beta_max, >= 0.
        beta_rate: r in [0, 1]; closer to 1 means a slower rise.

    Returns:
        beta at this step.
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: expected an integer >= 0, got {step!r}")
    if not max_beta >= 0:
        raise ValueError(f"max_beta: expected a number >= 0, got {max_beta!r}")
    if not 0 <= beta_rate <= 1:
        raise ValueError(f"beta_rate: expected a number in [0, 1], got {beta_rate!r}")
    return (1.0 - beta_rate**step) * max_beta


# --8<-- [end:beta_schedule]


# --8<-- [start:reconstruction]
def reconstruction_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """-log p(x | z) of each sequence: the cross-entropy **summed** over all T steps (not averaged).

    Args:
        logits: (B, T, V) decoder scores.
        targets: (B, T) int64 token ids.

    Returns:
        (B,) the summed cross-entropy of each sequence, in nats.
    """
    _check_float("logits", logits, 3, "(B, T, V)")
    B, T, V = logits.shape
    _check_tokens("targets", targets, T, V)
    if targets.shape[0] != B:
        raise ValueError(f"targets: expected shape (B, T) = ({B}, {T}), got {tuple(targets.shape)}")
    ce = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (B, T)
    return ce.sum(dim=1)  # (B,)


# --8<-- [end:reconstruction]


# --8<-- [start:loss]
def musicvae_loss(recon: Tensor, kl: Tensor, beta: float, free_bits: float) -> Tensor:
    """The minimised loss, Eq. (3): mean(recon) + beta * mean(max(KL - tau, 0)).

    Args:
        recon: (B,) summed reconstruction cross-entropy of each example, in nats.
        kl: (B,) total KL of each example, in nats.
        beta: the KL weight, e.g. from :func:`beta_schedule`.
        free_bits: tau in bits.

    Returns:
        () the batch loss.
    """
    _check_float("recon", recon, 1, "(B,)")
    if not isinstance(kl, Tensor) or kl.shape != recon.shape:
        raise ValueError(f"kl: expected a float tensor of shape (B,) = {tuple(recon.shape)}, got {_describe(kl)}")
    if not beta >= 0:
        raise ValueError(f"beta: expected a number >= 0, got {beta!r}")
    return recon.mean() + beta * kl_free_bits(kl, free_bits).mean()  # ()


# --8<-- [end:loss]


# --8<-- [start:slerp]
def slerp(p0: Tensor, p1: Tensor, t: float | Tensor, eps: float = 1e-6) -> Tensor:
    """Spherical interpolation, Eq. (7): the angle comes from the unit vectors, the raw endpoints are mixed.

    Falls back to linear interpolation when the vectors are (anti)parallel, where sin(Omega) ~ 0.

    Args:
        p0: (d,) start point (in MusicVAE, the posterior mean of the first melody).
        p1: (d,) end point.
        t: a number, a 0-d tensor, or an (N,) tensor of positions (0 gives p0, 1 gives p1).
        eps: below this value of sin(Omega) the linear fallback is used.

    Returns:
        (d,) for a scalar ``t``, (N, d) for an (N,) ``t``.
    """
    _check_float("p0", p0, 1, "(d,)")
    if not isinstance(p1, Tensor) or p1.shape != p0.shape or not p1.is_floating_point():
        raise ValueError(f"p1: expected a float tensor of shape (d,) = {tuple(p0.shape)}, got {_describe(p1)}")
    n0, n1 = p0.norm(), p1.norm()
    if n0 == 0 or n1 == 0:
        raise ValueError(f"p0, p1: the angle is undefined for a zero vector (norms {float(n0)} and {float(n1)})")
    t = torch.as_tensor(t, dtype=p0.dtype, device=p0.device)
    if t.dim() > 1:
        raise ValueError(f"t: expected a number or a tensor of shape () or (N,), got {tuple(t.shape)}")
    steps = t.reshape(-1, 1)  # (N, 1)
    cos_omega = torch.dot(p0 / n0, p1 / n1).clamp(-1.0, 1.0)  # rounding can leave |cos| slightly above 1
    omega = torch.arccos(cos_omega)
    if torch.sin(omega) < eps:  # parallel or opposite: no unique great circle
        w0, w1 = 1.0 - steps, steps  # (N, 1) each
    else:
        w0 = torch.sin((1.0 - steps) * omega) / torch.sin(omega)  # (N, 1)
        w1 = torch.sin(steps * omega) / torch.sin(omega)  # (N, 1)
    out = w0 * p0 + w1 * p1  # (N, d)
    return out[0] if t.dim() == 0 else out


# --8<-- [end:slerp]


# --8<-- [start:posterior]
class Posterior(nn.Module):
    """q(z | x) = N(mu, diag sigma^2) from the encoder summary h_T, Eqs. (4)-(5).

    sigma = softplus(W h_T + b) = log(exp(W h_T + b) + 1), not exp of a log-variance. Both kernels start from
    N(0, 0.001^2) (standard deviation 0.001) as in the reference code, so mu starts near 0 and sigma near ln 2.

    Args:
        input_dim: size of h_T (twice the encoder size for a bidirectional encoder).
        z_dim: size of z.
    """

    def __init__(self, input_dim: int, z_dim: int) -> None:
        super().__init__()
        self.mu = nn.Linear(_check_positive_int("input_dim", input_dim), _check_positive_int("z_dim", z_dim))
        self.sigma = nn.Linear(input_dim, z_dim)
        for layer in (self.mu, self.sigma):
            nn.init.normal_(layer.weight, std=0.001)
            nn.init.zeros_(layer.bias)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """Map the encoder summary to the posterior's parameters.

        Args:
            h: (B, input_dim) the encoder summary h_T.

        Returns:
            mu and sigma, (B, z_dim) each, sigma > 0.
        """
        _check_float("h", h, 2, f"(B, {self.mu.in_features})")
        if h.shape[1] != self.mu.in_features:
            raise ValueError(f"h: expected shape (B, {self.mu.in_features}), got {tuple(h.shape)}")
        return self.mu(h), F.softplus(self.sigma(h))  # (B, z_dim) each


# --8<-- [end:posterior]


class _StateFromEmbedding(nn.Module):
    """tanh(dense(e)) split into an initial (h_0, c_0) for every layer of an LSTM."""

    def __init__(self, embed_dim: int, hidden_size: int, num_layers: int) -> None:
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.dense = nn.Linear(embed_dim, 2 * num_layers * hidden_size)
        nn.init.normal_(self.dense.weight, std=0.001)  # as the reference code
        nn.init.zeros_(self.dense.bias)

    def forward(self, e: Tensor) -> tuple[Tensor, Tensor]:
        N = e.shape[0]
        state = torch.tanh(self.dense(e))  # (N, 2 * L * H)
        state = state.view(N, 2, self.num_layers, self.hidden_size).permute(1, 2, 0, 3)  # (2, L, N, H)
        return state[0].contiguous(), state[1].contiguous()  # h_0, c_0: (L, N, H) each


# --8<-- [start:teacher_forcing]
def teacher_forcing_inputs(
    targets: Tensor, vocab_size: int, num_bars: int, dtype: torch.dtype = torch.float32
) -> Tensor:
    """The core decoder's inputs: one-hot targets shifted right by one step over the *whole* sequence.

    Step t sees y_{t-1} and step 0 sees zeros, so bar u starts from the last true token of bar u - 1
    (index u * S - 1), not from zeros.

    Args:
        targets: (B, T) int64 token ids, T = num_bars * S.
        vocab_size: V.
        num_bars: U.
        dtype: float dtype of the result.

    Returns:
        (B, U, S, V) one-hot inputs, split into bars.
    """
    _check_positive_int("vocab_size", vocab_size)
    _check_positive_int("num_bars", num_bars)
    if not isinstance(targets, Tensor) or targets.dim() != 2 or targets.shape[1] % num_bars:
        given = _describe(targets)
        raise ValueError(f"targets: expected an int64 tensor of shape (B, U * S) with U = {num_bars}, got {given}")
    B, T = targets.shape
    _check_tokens("targets", targets, T, vocab_size)
    one_hot = F.one_hot(targets, vocab_size).to(dtype)  # (B, T, V)
    shifted = F.pad(one_hot[:, :-1], (0, 0, 1, 0))  # (B, T, V): zeros, y_0, ..., y_{T-2}
    return shifted.view(B, num_bars, T // num_bars, vocab_size)  # (B, U, S, V)


# --8<-- [end:teacher_forcing]


class HierarchicalDecoder(nn.Module):
    """The hierarchical decoder: a conductor LSTM over bars and a core LSTM re-initialised per bar.

    The conductor starts from tanh(dense(z)), reads zeros (no autoregression), and emits its top-layer
    output c_u for each of the U bars. As in the reference code, c_u is passed on without a projection, so
    its size is ``conductor_size`` (the paper text speaks of a 512-d output from a 1024-unit conductor).
    For bar u the core LSTM starts from tanh(dense(c_u)) and reads [y_{t-1}; c_u] at every step.

    Args:
        vocab_size: V, the number of melody events.
        z_dim: size of z.
        num_bars: U, the conductor's number of steps.
        steps_per_bar: S, the core decoder's steps per bar (T = U * S).
        conductor_size: hidden size of each conductor layer (1024 in the paper).
        decoder_size: hidden size of each core decoder layer (1024 in the paper).
        num_layers: layers of both LSTMs (2 in the paper).
    """

    def __init__(
        self,
        vocab_size: int,
        z_dim: int,
        num_bars: int,
        steps_per_bar: int,
        conductor_size: int,
        decoder_size: int,
        num_layers: int = 2,
    ) -> None:
        super().__init__()
        names = ("vocab_size", "z_dim", "num_bars", "steps_per_bar", "conductor_size", "decoder_size", "num_layers")
        sizes = (vocab_size, z_dim, num_bars, steps_per_bar, conductor_size, decoder_size, num_layers)
        for name, value in zip(names, sizes):
            _check_positive_int(name, value)
        self.vocab_size, self.z_dim, self.num_bars, self.steps_per_bar = vocab_size, z_dim, num_bars, steps_per_bar
        self.conductor_init = _StateFromEmbedding(z_dim, conductor_size, num_layers)
        self.conductor = nn.LSTM(1, conductor_size, num_layers, batch_first=True)
        self.core_init = _StateFromEmbedding(conductor_size, decoder_size, num_layers)
        self.core = nn.LSTM(vocab_size + conductor_size, decoder_size, num_layers, batch_first=True)
        self.output = nn.Linear(decoder_size, vocab_size)

    @property
    def seq_len(self) -> int:
        """T = U * S, the length of every decoded sequence."""
        return self.num_bars * self.steps_per_bar

    def _check_z(self, z: object) -> None:
        _check_float("z", z, 2, f"(B, {self.z_dim})")
        if z.shape[1] != self.z_dim:  # type: ignore[union-attr]
            raise ValueError(f"z: expected shape (B, {self.z_dim}), got {tuple(z.shape)}")  # type: ignore[union-attr]

    # --8<-- [start:conductor]
    def conduct(self, z: Tensor) -> Tensor:
        """The conductor: one embedding per bar from z.

        Args:
            z: (B, z_dim) latent codes.

        Returns:
            (B, U, conductor_size) the embeddings c_1 .. c_U.
        """
        self._check_z(z)
        B = z.shape[0]
        zeros = z.new_zeros(B, self.num_bars, 1)  # (B, U, 1): the conductor reads no previous output
        c, _ = self.conductor(zeros, self.conductor_init(z))  # (B, U, conductor_size), top layer
        return c

    # --8<-- [end:conductor]

    # --8<-- [start:forward]
    def forward(self, z: Tensor, targets: Tensor) -> Tensor:
        """Teacher-forced decoding: the logits of p(y_t | y_<t within reach, c_u).

        Args:
            z: (B, z_dim) latent codes.
            targets: (B, T) int64 true tokens, T = U * S.

        Returns:
            (B, T, V) logits.
        """
        c = self.conduct(z)  # (B, U, C)
        B, U, C = c.shape
        S, V = self.steps_per_bar, self.vocab_size
        _check_tokens("targets", targets, self.seq_len, V)
        if targets.shape[0] != B:
            raise ValueError(f"targets: expected shape (B, T) = ({B}, {self.seq_len}), got {tuple(targets.shape)}")
        x = teacher_forcing_inputs(targets, V, U, dtype=z.dtype)  # (B, U, S, V)
        x = torch.cat([x, c.unsqueeze(2).expand(B, U, S, C)], dim=-1)  # (B, U, S, V + C): c_u at every step
        state = self.core_init(c.reshape(B * U, C))  # (L, B * U, H) each: a fresh state for every bar
        out, _ = self.core(x.reshape(B * U, S, V + C), state)  # (B * U, S, H): bars never share a state
        return self.output(out).view(B, U * S, V)  # (B, T, V)

    # --8<-- [end:forward]

    # --8<-- [start:sample]
    @torch.no_grad()
    def sample(self, z: Tensor, temperature: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
        """Decode without targets: each step reads the token sampled at the step before, across bar borders.

        Args:
            z: (B, z_dim) latent codes.
            temperature: softmax temperature; 0 takes the argmax (greedy decoding).
            generator: optional random generator for reproducible sampling.

        Returns:
            (B, T) int64 sampled token ids.
        """
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
            raise ValueError(f"temperature: expected a number >= 0, got {temperature!r}")
        c = self.conduct(z)  # (B, U, C)
        prev = z.new_zeros(z.shape[0], self.vocab_size)  # (B, V): step 0 of bar 0 reads zeros
        tokens = []
        for u in range(self.num_bars):
            state = self.core_init(c[:, u])  # re-initialised from c_u; nothing carries over but `prev`
            for _ in range(self.steps_per_bar):
                x = torch.cat([prev, c[:, u]], dim=-1).unsqueeze(1)  # (B, 1, V + C)
                out, state = self.core(x, state)  # (B, 1, H)
                logits = self.output(out[:, 0])  # (B, V)
                if temperature == 0:
                    token = logits.argmax(dim=-1)  # (B,)
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)  # (B, V)
                    token = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (B,)
                prev = F.one_hot(token, self.vocab_size).to(z.dtype)  # (B, V)
                tokens.append(token)
        return torch.stack(tokens, dim=1)  # (B, T)

    # --8<-- [end:sample]


class LossTerms(NamedTuple):
    """The batch loss and its per-example parts."""

    loss: Tensor  # (): mean(recon) + beta * mean(hinged KL)
    recon: Tensor  # (B,): summed cross-entropy, nats
    kl: Tensor  # (B,): total KL before the hinge, nats


class MusicVAE(nn.Module):
    """A small MusicVAE: bidirectional LSTM encoder, softplus posterior, hierarchical decoder.

    Args:
        vocab_size: V, the number of melody events.
        num_bars: U.
        steps_per_bar: S; sequences have T = U * S steps.
        encoder_size: hidden size per direction of each encoder layer (2048 in the paper).
        z_dim: size of z (512 in the paper).
        conductor_size: conductor hidden size (1024 in the paper).
        decoder_size: core decoder hidden size (1024 in the paper).
        num_layers: layers of the encoder, conductor and core decoder (2 in the paper).
    """

    def __init__(
        self,
        vocab_size: int,
        num_bars: int,
        steps_per_bar: int,
        *,
        encoder_size: int,
        z_dim: int,
        conductor_size: int,
        decoder_size: int,
        num_layers: int = 2,
    ) -> None:
        super().__init__()
        _check_positive_int("encoder_size", encoder_size)
        self.decoder = HierarchicalDecoder(
            vocab_size, z_dim, num_bars, steps_per_bar, conductor_size, decoder_size, num_layers
        )
        self.encoder = nn.LSTM(vocab_size, encoder_size, num_layers, batch_first=True, bidirectional=True)
        self.posterior = Posterior(2 * encoder_size, z_dim)

    # --8<-- [start:encode]
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z | x): the last forward and the last backward state of the top layer give h_T, Eqs. (4)-(5).

        Args:
            x: (B, T) int64 token ids.

        Returns:
            mu and sigma, (B, z_dim) each.
        """
        _check_tokens("x", x, self.decoder.seq_len, self.decoder.vocab_size)
        one_hot = F.one_hot(x, self.decoder.vocab_size).to(self.posterior.mu.weight.dtype)  # (B, T, V)
        _, (h_n, _) = self.encoder(one_hot)  # h_n: (2 * L, B, H), the top layer's two directions last
        h_T = torch.cat([h_n[-2], h_n[-1]], dim=-1)  # (B, 2H): forward after y_T, backward after y_1
        return self.posterior(h_T)

    # --8<-- [end:encode]

    # --8<-- [start:model_loss]
    def loss(self, x: Tensor, beta: float, free_bits: float, generator: torch.Generator | None = None) -> LossTerms:
        """Encode, sample z = mu + sigma * eps, decode with teacher forcing, and score, Eq. (3).

        Args:
            x: (B, T) int64 token ids (the input and the target).
            beta: KL weight.
            free_bits: tau in bits.
            generator: optional random generator for eps.

        Returns:
            The loss with its reconstruction and KL parts.
        """
        mu, sigma = self.encode(x)  # (B, z_dim) each
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)  # (B, z_dim)
        logits = self.decoder(mu + sigma * eps, x)  # (B, T, V)
        recon, kl = reconstruction_loss(logits, x), gaussian_kl(mu, sigma)  # (B,) each
        return LossTerms(musicvae_loss(recon, kl, beta, free_bits), recon, kl)

    # --8<-- [end:model_loss]

    # --8<-- [start:interpolate]
    @torch.no_grad()
    def interpolate(self, x0: Tensor, x1: Tensor, num_steps: int, temperature: float = 0.0) -> Tensor:
        """Decode slerp(mu_0, mu_1, t) for t = linspace(0, 1, num_steps), using the posterior means.

        Args:
            x0: (T,) int64 first melody.
            x1: (T,) int64 second melody.
            num_steps: N, including both ends.
            temperature: decoding temperature; 0 (the default) decodes greedily. The reference's
                ``interpolate`` defaults to 1.0 (sampling); pass 1.0 for its behaviour.

        Returns:
            (N, T) int64 decoded melodies.
        """
        for name, x in (("x0", x0), ("x1", x1)):
            _check_tokens(name, x, self.decoder.seq_len, self.decoder.vocab_size, batched=False)
        mu, _ = self.encode(torch.stack([x0, x1]))  # (2, z_dim): means, not samples
        z = slerp(mu[0], mu[1], torch.linspace(0.0, 1.0, _check_positive_int("num_steps", num_steps)))
        return self.decoder.sample(z, temperature)  # (N, T)

    # --8<-- [end:interpolate]
