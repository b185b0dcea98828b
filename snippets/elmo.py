"""ELMo's learned mix of biLM layers (ScalarMix), its optional regulariser, and a tiny biLM to feed it.

Paper: Matthew E. Peters et al., "Deep Contextualized Word Representations", NAACL-HLT 2018
(BibTeX key ``peters2018elmo``).
Review: ``docs/reviews/elmo.md``.
Implements: the joint forward/backward language-model objective of §3.1; the L + 1 layer representations
R_k of §3.2, layer 0 being the token representation duplicated to the width of the biLSTM layers; Eq. (1),
ELMo_k = gamma * sum_j s_j h_kj with s = softmax(w), and its optional per-layer normalisation; the
lambda * ||w||^2 regulariser of §3.3.

:class:`ScalarMix` keeps the parameter names and shapes of AllenNLP's ``ScalarMix`` (``scalar_parameters.0``,
``scalar_parameters.1``, ..., ``gamma``, each of shape (1,)), so a state_dict saved from AllenNLP loads
unchanged. AllenNLP is archived and no longer installs next to current PyTorch; this class is meant as a drop-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["BiLM", "BiLMOutput", "ScalarMix", "scalar_mix_regularizer"]


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _norm_eps(dtype: torch.dtype) -> float:
    """The epsilon added to the variance: 1e-13, or 1e-4 for 16-bit floats (AllenNLP's value for float16, where
    1e-13 rounds to 0; AllenNLP does not accept bfloat16)."""
    return 1e-4 if dtype in (torch.float16, torch.bfloat16) else 1e-13


# --8<-- [start:masked_norm]
def _normalise_layer(tensor: Tensor, mask: Tensor) -> Tensor:
    """Normalise one layer with a single mean and a single variance over its unmasked entries.

    Not a per-token LayerNorm: the statistics pool batch, time and hidden dimension together, and
    there is no gain or bias. The mask only selects the entries that enter the statistics; every
    position, padded ones included, is normalised and returned.

    Args:
        tensor: (B, T, D) one biLM layer.
        mask: (B, T) 1 at real tokens, 0 at padding.

    Returns:
        (B, T, D) the normalised layer.
    """
    D = tensor.shape[-1]
    m = mask.to(tensor.dtype).unsqueeze(-1)  # (B, T, 1)
    count = m.sum() * D  # number of unmasked entries
    mean = (tensor * m).sum() / count  # one scalar per layer
    variance = (((tensor - mean) * m) ** 2).sum() / count  # one scalar per layer
    return (tensor - mean) / torch.sqrt(variance + _norm_eps(tensor.dtype))  # (B, T, D)


# --8<-- [end:masked_norm]


class ScalarMix(nn.Module):
    """Eq. (1): gamma * sum_j softmax(w)_j h_j, a learned scalar mixture of the biLM layers.

    Args:
        mixture_size: number of layers to mix (L + 1 = 3 for the released ELMo models).
        do_layer_norm: normalise each layer before mixing (off by default, as in the reference).
        initial_scalar_parameters: the starting logits w, one per layer; zeros (a plain average) if None.
        trainable: if False, both w and gamma are frozen (``requires_grad`` False).

    Attributes:
        scalar_parameters: ``mixture_size`` parameters of shape (1,): the logits w_j.
        gamma: (1,) the scale gamma, initialised to 1.
    """

    def __init__(
        self,
        mixture_size: int,
        do_layer_norm: bool = False,
        initial_scalar_parameters: Sequence[float] | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        if int(mixture_size) < 1:
            raise ValueError(f"mixture_size: expected a positive integer, got {mixture_size}")
        if initial_scalar_parameters is None:
            initial_scalar_parameters = [0.0] * mixture_size
        if len(initial_scalar_parameters) != mixture_size:
            raise ValueError(
                f"initial_scalar_parameters: expected {mixture_size} values (one per layer), "
                f"got {len(initial_scalar_parameters)}: {list(initial_scalar_parameters)}"
            )
        self.mixture_size = int(mixture_size)
        self.do_layer_norm = bool(do_layer_norm)
        self.scalar_parameters = nn.ParameterList(
            [nn.Parameter(torch.tensor([float(w)]), requires_grad=trainable) for w in initial_scalar_parameters]
        )
        self.gamma = nn.Parameter(torch.tensor([1.0]), requires_grad=trainable)

    def _check(self, tensors: Sequence[Tensor], mask: Tensor | None) -> None:
        if not isinstance(tensors, (list, tuple)) or len(tensors) != self.mixture_size:
            count = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
            raise ValueError(f"tensors: expected a list of {self.mixture_size} tensors (mixture_size), got {count}")
        first = tensors[0]
        if not isinstance(first, Tensor) or first.dim() < 2 or not first.is_floating_point():
            raise ValueError(f"tensors[0]: expected a float tensor of shape (B, T, D), got {_describe(first)}")
        for i, t in enumerate(tensors[1:], start=1):
            if not isinstance(t, Tensor) or t.shape != first.shape:
                raise ValueError(
                    f"tensors[{i}]: expected shape {tuple(first.shape)} like tensors[0], got {_describe(t)}"
                )
        if mask is None:
            if self.do_layer_norm:
                raise ValueError(
                    f"mask: required when do_layer_norm=True; expected shape {tuple(first.shape[:-1])}, got None"
                )
            return
        if not isinstance(mask, Tensor) or mask.shape != first.shape[:-1]:
            raise ValueError(f"mask: expected shape {tuple(first.shape[:-1])} (B, T), got {_describe(mask)}")
        if self.do_layer_norm and not mask.any():
            raise ValueError("mask: every position is masked; the layer statistics need at least one real token")

    # --8<-- [start:forward]
    def forward(self, tensors: Sequence[Tensor], mask: Tensor | None = None) -> Tensor:
        """Mix the layers: gamma * sum_j s_j h_j with s = softmax(w), Eq. (1).

        Args:
            tensors: ``mixture_size`` tensors h_j, each (B, T, D).
            mask: (B, T) 1 at real tokens, 0 at padding. Required when ``do_layer_norm``;
                otherwise only its shape is checked.

        Returns:
            (B, T, D) the ELMo representation.
        """
        self._check(tensors, mask)
        w = torch.cat(list(self.scalar_parameters))  # (L + 1,)
        s = F.softmax(w, dim=0)  # (L + 1,): non-negative, sums to one
        weights = self.gamma * s  # (L + 1,): gamma * s_j, so gamma costs no pass over the layers
        layers = [_normalise_layer(h, mask) for h in tensors] if self.do_layer_norm else tensors
        mixed = weights[0] * layers[0]  # (B, T, D)
        for weight, h_j in zip(weights[1:], layers[1:], strict=True):
            mixed = torch.addcmul(mixed, weight, h_j)  # mixed + gamma * s_j * h_j, in one pass
        return mixed  # (B, T, D)

    # --8<-- [end:forward]


# --8<-- [start:regularizer]
def scalar_mix_regularizer(scalar_mix: ScalarMix, lam: float) -> Tensor:
    """The optional penalty lambda * ||w||_2^2 on the mixing logits, added to the task loss (§3.3).

    A large lambda (the paper's 1) pulls w towards 0, so the mix stays close to a plain average;
    a small one (0.001) lets the weights move. ScalarMix has no penalty built in.

    Args:
        scalar_mix: the mix whose logits w are penalised.
        lam: lambda >= 0.

    Returns:
        () the penalty, differentiable with respect to w.
    """
    if lam < 0:
        raise ValueError(f"lam: expected lambda >= 0, got {lam}")
    w = torch.cat(list(scalar_mix.scalar_parameters))  # (L + 1,)
    return lam * (w**2).sum()


# --8<-- [end:regularizer]


class BiLMOutput(NamedTuple):
    """What :class:`BiLM` returns.

    Attributes:
        layers: L + 1 tensors of shape (B, T, 2E): the token layer duplicated, then the L biLSTM layers
            [forward; backward]. Padded positions are zero.
        loss: () the mean negative log-likelihood per predicted token over both directions.
    """

    layers: list[Tensor]
    loss: Tensor


def _reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence's first ``lengths[b]`` steps and leave the padding where it is.

    Args:
        x: (B, T, E) left-aligned sequences.
        lengths: (B,) number of real tokens per sequence.

    Returns:
        (B, T, E); applying it twice gives back ``x``.
    """
    B, T, E = x.shape
    t = torch.arange(T, device=x.device).expand(B, T)  # (B, T)
    n = lengths.unsqueeze(1)  # (B, 1)
    index = torch.where(t < n, n - 1 - t, t)  # (B, T)
    return x.gather(1, index.unsqueeze(-1).expand(B, T, E))  # (B, T, E)


class BiLM(nn.Module):
    """A tiny bidirectional language model with the layout of ELMo's biLM (§3.1, §3.4).

    A forward and a backward stack of L LSTM layers share the token representation (Theta_x) and the
    softmax (Theta_s). From the second layer on, each layer adds its input (a residual connection).
    Smaller than the paper's model in two ways: a word embedding stands in for the character CNN, and
    each LSTM has E units instead of a 4096-unit cell projected down to 512.

    Args:
        vocab_size: V, the number of token ids.
        embed_dim: E, the width of the token representation and of each direction's LSTM output.
        num_layers: L, the number of biLSTM layers (2 in the paper).

    Attributes:
        embedding: (V, E) token representation, shared by both directions.
        forward_lstms: L one-layer LSTMs reading left to right.
        backward_lstms: L one-layer LSTMs reading right to left.
        softmax: E -> V output layer, shared by both directions.
    """

    def __init__(self, vocab_size: int, embed_dim: int, num_layers: int = 2) -> None:
        super().__init__()
        if min(vocab_size, embed_dim, num_layers) < 1:
            raise ValueError(
                "vocab_size, embed_dim, num_layers: expected positive integers, "
                f"got {vocab_size}, {embed_dim}, {num_layers}"
            )
        self.vocab_size = vocab_size

        def stack() -> nn.ModuleList:
            return nn.ModuleList(nn.LSTM(embed_dim, embed_dim, batch_first=True) for _ in range(num_layers))

        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.forward_lstms = stack()
        self.backward_lstms = stack()
        self.softmax = nn.Linear(embed_dim, vocab_size)

    def _check(self, token_ids: Tensor, mask: Tensor | None) -> Tensor:
        if not isinstance(token_ids, Tensor) or token_ids.dim() != 2 or token_ids.dtype != torch.int64:
            given = _describe(token_ids)
            raise ValueError(f"token_ids: expected an int64 tensor of shape (B, T), got {given}")
        if token_ids.min() < 0 or token_ids.max() >= self.vocab_size:
            raise ValueError(
                f"token_ids: expected ids in 0..{self.vocab_size - 1}, got values in "
                f"{int(token_ids.min())}..{int(token_ids.max())}"
            )
        if mask is None:
            mask = torch.ones_like(token_ids, dtype=torch.bool)
        if not isinstance(mask, Tensor) or mask.shape != token_ids.shape:
            raise ValueError(f"mask: expected shape {tuple(token_ids.shape)} (B, T), got {_describe(mask)}")
        mask = mask.bool()
        if (mask[:, 1:] & ~mask[:, :-1]).any():
            raise ValueError("mask: expected left-aligned sequences (ones, then zeros) in every row")
        if not mask[:, 1:].any():
            raise ValueError("mask: expected at least one sequence of two or more tokens, so a word can be predicted")
        return mask

    # --8<-- [start:bilm_layers]
    def _run(self, lstms: nn.ModuleList, x: Tensor) -> list[Tensor]:
        """Outputs of a stack of LSTMs, each (B, T, E); from the second layer on, the input is added."""
        outputs = []
        for j, lstm in enumerate(lstms):
            h, _ = lstm(x)  # (B, T, E)
            x = h if j == 0 else h + x  # residual connection
            outputs.append(x)
        return outputs

    def forward(self, token_ids: Tensor, mask: Tensor | None = None) -> BiLMOutput:
        """The L + 1 layers R_k and the joint language-model loss of §3.1.

        Args:
            token_ids: (B, T) int64 token ids, including any sentence-boundary tokens.
            mask: (B, T) 1 at real tokens, 0 at padding (left-aligned), or None for no padding.

        Returns:
            :class:`BiLMOutput` with ``layers``, L + 1 tensors (B, T, 2E), and the scalar ``loss``.
        """
        mask = self._check(token_ids, mask)
        lengths = mask.sum(dim=1)  # (B,)
        x = self.embedding(token_ids)  # (B, T, E): x_k^LM
        fwd = self._run(self.forward_lstms, x)  # L x (B, T, E)
        bwd = [_reverse_padded(h, lengths) for h in self._run(self.backward_lstms, _reverse_padded(x, lengths))]
        keep = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        layers = [torch.cat([x, x], dim=-1) * keep]  # layer 0: (B, T, 2E)
        layers += [torch.cat([f, b], dim=-1) * keep for f, b in zip(fwd, bwd, strict=True)]  # layers 1..L: (B, T, 2E)
        return BiLMOutput(layers, self._loss(fwd[-1], bwd[-1], token_ids, mask))

    # --8<-- [end:bilm_layers]

    # --8<-- [start:bilm_loss]
    def _loss(self, h_fwd: Tensor, h_bwd: Tensor, token_ids: Tensor, mask: Tensor) -> Tensor:
        """Negative of the §3.1 objective, per predicted token: both directions, one shared softmax.

        The forward LM reads t_1..t_k and predicts t_(k+1); the backward LM reads t_(k+1)..t_N and
        predicts t_k. A pair (k, k+1) counts when t_(k+1) is a real token.

        Args:
            h_fwd: (B, T, E) top forward layer.
            h_bwd: (B, T, E) top backward layer.
            token_ids: (B, T) the tokens.
            mask: (B, T) bool, True at real tokens.

        Returns:
            () the summed negative log-likelihood of both directions over twice the number of pairs.
        """
        pair = mask[:, 1:].to(h_fwd.dtype)  # (B, T - 1)
        logits_fwd = self.softmax(h_fwd[:, :-1])  # (B, T - 1, V): predicts t_(k+1)
        logits_bwd = self.softmax(h_bwd[:, 1:])  # (B, T - 1, V): predicts t_k
        nll_fwd = F.cross_entropy(logits_fwd.transpose(1, 2), token_ids[:, 1:], reduction="none")  # (B, T - 1)
        nll_bwd = F.cross_entropy(logits_bwd.transpose(1, 2), token_ids[:, :-1], reduction="none")  # (B, T - 1)
        return ((nll_fwd + nll_bwd) * pair).sum() / (2 * pair.sum())

    # --8<-- [end:bilm_loss]
