"""ELECTRA's replaced-token detection: generator masking and sampling, the two losses and a tiny model.

Paper: Kevin Clark, Minh-Thang Luong, Quoc V. Le and Christopher D. Manning, "ELECTRA: Pre-training Text
Encoders as Discriminators Rather Than Generators", ICLR 2020 (BibTeX key ``clark2020electra``).
Review: ``docs/reviews/electra.md``.
Implements (§2): the masking of the generator input; replacements sampled from the generator's softmax p_G
(never its argmax); the labels of replaced-token detection (1 = replaced, as in the reference code and Hugging
Face; the paper's D is the probability of "original"); L_MLM over the masked positions; L_Disc averaged over
every real token; the combined objective L_MLM + lambda L_Disc with lambda = 50; and a tiny generator and
discriminator that share their token and position embeddings, with a pre-training step.

Masking follows the reference code: the candidates are the real tokens other than [CLS], [SEP] and [MASK];
each sequence gets max(1, min(N, round(mask_prob * real tokens))) draws, N = int((mask_prob + 0.005) * max_seq_len),
taken uniformly from the candidates with replacement (a position drawn twice is masked once); 85% of the chosen
positions show [MASK] to the generator and 15% keep their token; there is no random-token branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ElectraOutput",
    "TinyElectra",
    "electra_loss",
    "mask_generator_input",
    "mlm_loss",
    "num_to_predict",
    "pretraining_step",
    "rtd_loss",
    "sample_replacements",
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


def _check_ids(name: str, x: object, shape: tuple[int, ...] | None = None) -> None:
    """Raise unless ``x`` is an int64 tensor of shape (B, T) (exactly ``shape`` when given)."""
    ok = isinstance(x, Tensor) and x.dim() == 2 and x.dtype == torch.int64
    if ok and shape is not None:
        ok = tuple(x.shape) == shape  # type: ignore[union-attr]
    if not ok:
        want = "(B, T)" if shape is None else f"(B, T) = {shape}"
        raise ValueError(f"{name}: expected an int64 tensor of shape {want}, got {_describe(x)}")


def _check_mask(name: str, x: object, shape: tuple[int, ...]) -> None:
    """Raise unless ``x`` is a tensor of the given shape holding only 0 and 1 (or False and True)."""
    ok = isinstance(x, Tensor) and tuple(x.shape) == shape
    if ok and x.dtype != torch.bool:  # type: ignore[union-attr]
        ok = bool(((x == 0) | (x == 1)).all())  # type: ignore[union-attr]
    if not ok:
        raise ValueError(f"{name}: expected a bool or 0/1 tensor of shape (B, T) = {shape}, got {_describe(x)}")


def _check_fraction(name: str, p: object) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:
        raise ValueError(f"{name}: expected a number in (0, 1], got {p!r}")


# --8<-- [start:num_to_predict]
def num_to_predict(attention_mask: Tensor, mask_prob: float = 0.15, max_seq_len: int | None = None) -> Tensor:
    """How many positions each sequence draws: max(1, min(N, round(mask_prob * real tokens))).

    Args:
        attention_mask: (B, T) bool or 0/1, 1 at real tokens (including [CLS] and [SEP]), 0 at padding.
        mask_prob: the masking rate (0.15; 0.25 for ELECTRA-Large).
        max_seq_len: the length N is computed from, N = int((mask_prob + 0.005) * max_seq_len); T when None.

    Returns:
        (B,) int64 counts. ``round`` halves to even, as TensorFlow's does.
    """
    if not isinstance(attention_mask, Tensor) or attention_mask.dim() != 2:
        raise ValueError(f"attention_mask: expected a tensor of shape (B, T), got {_describe(attention_mask)}")
    _check_mask("attention_mask", attention_mask, tuple(attention_mask.shape))
    _check_fraction("mask_prob", mask_prob)
    max_seq_len = attention_mask.shape[1] if max_seq_len is None else max_seq_len
    if not _is_int(max_seq_len) or max_seq_len < 1:
        raise ValueError(f"max_seq_len: expected a positive integer, got {max_seq_len!r}")
    n_max = int((mask_prob + 0.005) * max_seq_len)  # 19 for mask_prob 0.15 and length 128
    num_tokens = attention_mask.sum(dim=1).to(torch.float64)  # (B,)
    return torch.round(num_tokens * mask_prob).clamp(max=n_max).clamp(min=1).to(torch.int64)  # (B,)


# --8<-- [end:num_to_predict]


# --8<-- [start:mask_generator_input]
def mask_generator_input(
    input_ids: Tensor,
    attention_mask: Tensor,
    mask_token_id: int,
    special_token_ids: Sequence[int] = (),
    mask_prob: float = 0.15,
    max_seq_len: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Choose the positions the generator predicts and build its input x^masked.

    Args:
        input_ids: (B, T) int64 original tokens x.
        attention_mask: (B, T) bool or 0/1, 0 at padding.
        mask_token_id: the id of [MASK]; it is never a candidate.
        special_token_ids: other ids that are never candidates ([CLS], [SEP]).
        mask_prob: the masking rate, as in :func:`num_to_predict`.
        max_seq_len: the length the cap N is computed from, as in :func:`num_to_predict`.
        generator: the random generator to draw from; the global one when None.

    Returns:
        ``(masked_ids, masked_positions)``: (B, T) int64 generator input, and (B, T) bool chosen positions m.
    """
    _check_ids("input_ids", input_ids)
    _check_mask("attention_mask", attention_mask, tuple(input_ids.shape))
    excluded = torch.tensor([mask_token_id, *special_token_ids], dtype=torch.int64, device=input_ids.device)
    candidates = attention_mask.bool() & ~torch.isin(input_ids, excluded)  # (B, T)
    has_any = candidates.any(dim=1, keepdim=True)  # (B, 1)
    k = num_to_predict(attention_mask, mask_prob, max_seq_len) * has_any.squeeze(1)  # (B,) draws per row
    weights = (candidates | ~has_any).to(torch.float32)  # (B, T): rows without candidates draw nothing anyway
    draws = torch.multinomial(weights, int(k.max().clamp(min=1)), replacement=True, generator=generator)  # (B, S)
    used = torch.arange(draws.shape[1], device=k.device) < k.unsqueeze(1)  # (B, S): the first k[b] draws count
    hits = torch.zeros(weights.shape, device=k.device).scatter_add_(1, draws, used.to(torch.float32))  # (B, T)
    masked_positions = hits > 0  # a position drawn twice is masked once
    show_mask = torch.rand(weights.shape, generator=generator, device=k.device) < 0.85  # (B, T)
    masked_ids = torch.where(masked_positions & show_mask, mask_token_id, input_ids)  # 15% keep their token
    return masked_ids, masked_positions


# --8<-- [end:mask_generator_input]


# --8<-- [start:sample_replacements]
def sample_replacements(
    generator_logits: Tensor,
    input_ids: Tensor,
    masked_positions: Tensor,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Build x^corrupt: sample x_hat ~ softmax(logits / temperature) at the masked positions.

    Args:
        generator_logits: (B, T, V) generator scores; no gradient flows back through the sample.
        input_ids: (B, T) int64 original tokens x.
        masked_positions: (B, T) bool positions m.
        temperature: the sampling temperature (1.0 in ELECTRA).
        generator: the random generator to draw from; the global one when None.

    Returns:
        ``(corrupted_ids, is_replaced)``: (B, T) int64 x^corrupt, and (B, T) bool labels, True where the
        token differs from x. A sample equal to the original token is labelled original (False).
    """
    _check_sampling_args(generator_logits, input_ids, masked_positions, temperature)
    corrupted_ids = input_ids.clone()
    if masked_positions.any():
        with torch.no_grad():
            logits = generator_logits.detach()[masked_positions.bool()].float()  # (M, V)
            probs = torch.softmax(logits / temperature, dim=-1)  # (M, V)
            sampled = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (M,): a sample, not argmax
        corrupted_ids[masked_positions.bool()] = sampled
    is_replaced = corrupted_ids != input_ids  # (B, T); unmasked positions are never replaced
    return corrupted_ids, is_replaced


# --8<-- [end:sample_replacements]


def _check_sampling_args(logits: object, input_ids: object, masked_positions: object, temperature: object) -> None:
    _check_ids("input_ids", input_ids)
    B, T = input_ids.shape  # type: ignore[union-attr]
    if (
        not isinstance(logits, Tensor)
        or logits.dim() != 3
        or tuple(logits.shape[:2]) != (B, T)
        or not logits.is_floating_point()
    ):
        raise ValueError(
            f"generator_logits: expected a float tensor of shape (B, T, V) with (B, T) = ({B}, {T}), "
            f"got {_describe(logits)}"
        )
    _check_mask("masked_positions", masked_positions, (B, T))
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")


# --8<-- [start:rtd_loss]
def rtd_loss(discriminator_logits: Tensor, is_replaced: Tensor, attention_mask: Tensor) -> Tensor:
    """L_Disc: binary cross-entropy of replaced-token detection, averaged over every real token.

    All positions with ``attention_mask == 1`` count: unmasked tokens, [CLS] and [SEP] included, not only
    the masked ones (averaging over the masked positions alone is the weaker "ELECTRA 15%" ablation).

    Args:
        discriminator_logits: (B, T) float scores; sigmoid(score) = P(replaced).
        is_replaced: (B, T) bool or 0/1 labels, 1 = replaced.
        attention_mask: (B, T) bool or 0/1, 0 at padding.

    Returns:
        A scalar: sum of per-token losses over real tokens / number of real tokens in the batch.
    """
    if (
        not isinstance(discriminator_logits, Tensor)
        or discriminator_logits.dim() != 2
        or not discriminator_logits.is_floating_point()
    ):
        raise ValueError(
            f"discriminator_logits: expected a float tensor of shape (B, T), got {_describe(discriminator_logits)}"
        )
    shape = tuple(discriminator_logits.shape)
    _check_mask("is_replaced", is_replaced, shape)
    _check_mask("attention_mask", attention_mask, shape)
    weights = attention_mask.to(discriminator_logits.dtype)  # (B, T)
    if not weights.sum() > 0:
        raise ValueError("attention_mask: expected at least one real token (a 1), got none")
    labels = is_replaced.to(discriminator_logits.dtype)  # (B, T)
    per_token = F.binary_cross_entropy_with_logits(discriminator_logits, labels, reduction="none")  # (B, T)
    return (per_token * weights).sum() / weights.sum()


# --8<-- [end:rtd_loss]


# --8<-- [start:mlm_loss]
def mlm_loss(generator_logits: Tensor, input_ids: Tensor, masked_positions: Tensor) -> Tensor:
    """L_MLM: cross-entropy of the generator at the masked positions, averaged over them.

    Args:
        generator_logits: (B, T, V) generator scores on x^masked.
        input_ids: (B, T) int64 original tokens x (the targets).
        masked_positions: (B, T) bool positions m.

    Returns:
        A scalar; 0 when no position is masked (like the reference's weighted mean).
    """
    _check_sampling_args(generator_logits, input_ids, masked_positions, 1.0)
    chosen = masked_positions.bool()  # (B, T)
    if not chosen.any():
        return generator_logits.sum() * 0.0
    return F.cross_entropy(generator_logits[chosen], input_ids[chosen])  # (M, V) vs (M,)


# --8<-- [end:mlm_loss]


# --8<-- [start:electra_loss]
def electra_loss(mlm_loss: Tensor | float, disc_loss: Tensor | float, disc_weight: float = 50.0) -> Tensor:
    """The combined objective L_MLM + lambda * L_Disc, minimised over generator and discriminator together.

    Args:
        mlm_loss: scalar generator loss.
        disc_loss: scalar discriminator loss.
        disc_weight: lambda (50 in ELECTRA).

    Returns:
        A scalar tensor.
    """
    for name, value in (("mlm_loss", mlm_loss), ("disc_loss", disc_loss)):
        is_scalar = value.dim() == 0 if isinstance(value, Tensor) else _is_int(value) or isinstance(value, float)
        if not is_scalar:
            raise ValueError(f"{name}: expected a scalar (0-dim tensor or float), got {_describe(value)}")
    if isinstance(disc_weight, bool) or not isinstance(disc_weight, (int, float)) or disc_weight < 0:
        raise ValueError(f"disc_weight: expected a non-negative number, got {disc_weight!r}")
    return torch.as_tensor(mlm_loss) + disc_weight * torch.as_tensor(disc_loss)


# --8<-- [end:electra_loss]


def _encoder(width: int, num_layers: int, num_heads: int) -> nn.TransformerEncoder:
    """A Transformer encoder without dropout. Pre-LayerNorm (BERT and ELECTRA use post-LayerNorm), because
    a tiny model then learns to attend to its neighbours within a few hundred steps."""
    layer = nn.TransformerEncoderLayer(
        width,
        num_heads,
        dim_feedforward=4 * width,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    return nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(width), enable_nested_tensor=False)


class TinyElectra(nn.Module):
    """A small generator and a larger discriminator sharing token and position embeddings.

    Args:
        vocab_size: V.
        max_len: the longest sequence (rows of the position embedding).
        embed_dim: width of the shared embeddings (ELECTRA-Small: 128, smaller than its hidden size 256).
        hidden_size: discriminator width.
        generator_size: generator width (ELECTRA: 1/4 to 1/2 of the discriminator's works best).
        num_layers: layers of each encoder.
        head_dim: width of one attention head.

    Attributes:
        token_embedding: (V, embed_dim), shared; also the generator's output matrix (tied, as in ELECTRA).
        position_embedding: (max_len, embed_dim), shared.
    """

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        embed_dim: int = 32,
        hidden_size: int = 64,
        generator_size: int = 16,
        num_layers: int = 2,
        head_dim: int = 16,
    ) -> None:
        super().__init__()
        sizes = {
            "vocab_size": vocab_size,
            "max_len": max_len,
            "embed_dim": embed_dim,
            "hidden_size": hidden_size,
            "generator_size": generator_size,
            "num_layers": num_layers,
            "head_dim": head_dim,
        }
        for name, value in sizes.items():
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        for name in ("hidden_size", "generator_size"):
            if sizes[name] % head_dim:
                raise ValueError(f"{name}: expected a multiple of head_dim = {head_dim}, got {sizes[name]}")
        self.max_len = max_len
        self.token_embedding = nn.Embedding(vocab_size, embed_dim)
        self.position_embedding = nn.Embedding(max_len, embed_dim)
        self.embedding_norm = nn.LayerNorm(embed_dim)
        self.generator_in = nn.Linear(embed_dim, generator_size)
        self.generator = _encoder(generator_size, num_layers, generator_size // head_dim)
        self.generator_out = nn.Sequential(nn.Linear(generator_size, embed_dim), nn.GELU(), nn.LayerNorm(embed_dim))
        self.generator_bias = nn.Parameter(torch.zeros(vocab_size))
        self.discriminator_in = nn.Linear(embed_dim, hidden_size)
        self.discriminator = _encoder(hidden_size, num_layers, hidden_size // head_dim)
        self.discriminator_out = nn.Sequential(
            nn.Linear(hidden_size, hidden_size), nn.GELU(), nn.Linear(hidden_size, 1)
        )
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)

    def _embed(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_ids("input_ids", input_ids)
        _check_mask("attention_mask", attention_mask, tuple(input_ids.shape))
        T = input_ids.shape[1]
        if T > self.max_len:
            raise ValueError(f"input_ids: expected at most max_len = {self.max_len} positions, got T = {T}")
        positions = torch.arange(T, device=input_ids.device)  # (T,)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)  # (B, T, E)
        return self.embedding_norm(x), ~attention_mask.bool()  # (B, T, E), (B, T) True at padding

    # --8<-- [start:two_networks]
    def generator_logits(self, masked_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """p_G before the softmax: (B, T) int64 x^masked -> (B, T, V) scores, output tied to the embeddings."""
        x, padding = self._embed(masked_ids, attention_mask)  # (B, T, E)
        h = self.generator(self.generator_in(x), src_key_padding_mask=padding)  # (B, T, G)
        h = self.generator_out(h)  # (B, T, E)
        return h @ self.token_embedding.weight.T + self.generator_bias  # (B, T, V)

    def discriminator_logits(self, corrupted_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Scores of "replaced": (B, T) int64 x^corrupt -> (B, T); sigmoid gives 1 - D(x^corrupt, t)."""
        x, padding = self._embed(corrupted_ids, attention_mask)  # (B, T, E)
        h = self.discriminator(self.discriminator_in(x), src_key_padding_mask=padding)  # (B, T, H)
        return self.discriminator_out(h).squeeze(-1)  # (B, T)

    # --8<-- [end:two_networks]


class ElectraOutput(NamedTuple):
    """What one forward pass of ELECTRA pre-training produces. Tensors other than the losses are detached.

    Attributes:
        loss: scalar L_MLM + lambda L_Disc.
        mlm_loss: scalar L_MLM.
        disc_loss: scalar L_Disc.
        discriminator_logits: (B, T) scores of "replaced".
        corrupted_ids: (B, T) int64 x^corrupt, the discriminator's input.
        is_replaced: (B, T) bool labels.
        masked_positions: (B, T) bool positions m.
    """

    loss: Tensor
    mlm_loss: Tensor
    disc_loss: Tensor
    discriminator_logits: Tensor
    corrupted_ids: Tensor
    is_replaced: Tensor
    masked_positions: Tensor


# --8<-- [start:pretraining_step]
def pretraining_step(
    model: TinyElectra,
    optimizer: torch.optim.Optimizer | None,
    input_ids: Tensor,
    attention_mask: Tensor,
    mask_token_id: int,
    special_token_ids: Sequence[int] = (),
    disc_weight: float = 50.0,
    mask_prob: float = 0.15,
    generator: torch.Generator | None = None,
) -> ElectraOutput:
    """One step of ELECTRA pre-training on a batch of original tokens (no update when ``optimizer`` is None).

    Args:
        model: the generator and discriminator.
        optimizer: an optimizer over ``model.parameters()``, or None to only compute the losses.
        input_ids: (B, T) int64 original tokens x.
        attention_mask: (B, T) bool or 0/1, 0 at padding.
        mask_token_id: the id of [MASK].
        special_token_ids: ids that are never masked besides [MASK] ([CLS], [SEP]).
        disc_weight: lambda.
        mask_prob: the masking rate.
        generator: the random generator for masking and sampling; the global one when None.

    Returns:
        The losses and the discriminator's view of the batch.
    """
    masked_ids, masked_positions = mask_generator_input(
        input_ids, attention_mask, mask_token_id, special_token_ids, mask_prob, generator=generator
    )
    gen_logits = model.generator_logits(masked_ids, attention_mask)  # (B, T, V)
    loss_mlm = mlm_loss(gen_logits, input_ids, masked_positions)
    corrupted_ids, is_replaced = sample_replacements(gen_logits, input_ids, masked_positions, generator=generator)
    disc_logits = model.discriminator_logits(corrupted_ids, attention_mask)  # (B, T)
    loss_disc = rtd_loss(disc_logits, is_replaced, attention_mask)
    loss = electra_loss(loss_mlm, loss_disc, disc_weight)
    if optimizer is not None:
        optimizer.zero_grad()
        loss.backward()  # the sample is detached: L_Disc reaches the generator only via shared embeddings
        optimizer.step()
    return ElectraOutput(
        loss.detach(),
        loss_mlm.detach(),
        loss_disc.detach(),
        disc_logits.detach(),
        corrupted_ids,
        is_replaced,
        masked_positions,
    )


# --8<-- [end:pretraining_step]
