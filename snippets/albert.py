"""ALBERT's two parameter reductions and its sentence-order prediction, with exact parameter counts.

Paper: Zhenzhong Lan, Mingda Chen, Sebastian Goodman, Kevin Gimpel, Piyush Sharma and Radu Soricut, "ALBERT: A Lite
BERT for Self-supervised Learning of Language Representations", ICLR 2020 (BibTeX key ``lan2020albert``).
Review: ``docs/reviews/albert.md``.
Implements: the factorized embedding parameterization of §3.1 (a V x E lookup followed by an E -> H projection,
O(V H) -> O(V E + E H) parameters); cross-layer parameter sharing (§3.1), with the all-shared, shared-attention,
shared-FFN and not-shared strategies of the Table 4 ablation; sentence-order prediction (SOP, §3.1): two
consecutive segments, swapped with probability 0.5, as google-research/albert's ``create_pretraining_data.py``
builds them; and the exact parameter count of Hugging Face's ``BertModel`` / ``AlbertModel`` for the
configurations of Table 1.

Label convention of SOP is that of ``AlbertForPreTraining``: 0 = the segments in their original order, 1 = swapped.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from snippets.bert import SentencePair

__all__ = ["FactorizedEmbedding", "SharedEncoder", "count_parameters", "sentence_order_pairs"]

SHARING = ("all", "attention", "ffn", "none")
"""The cross-layer sharing strategies of Table 4."""


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_positive(**sizes: object) -> None:
    for name, value in sizes.items():
        if not _is_int(value) or value < 1:  # type: ignore[operator]
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")


# --8<-- [start:factorized_embedding]
class FactorizedEmbedding(nn.Module):
    """Token embeddings of size E projected to the hidden size H (§3.1): V E + E H + H parameters, not V H.

    Args:
        vocab_size: V.
        embedding_size: E (128 in every ALBERT of Table 1).
        hidden_size: H.

    Attributes:
        word_embeddings: (V, E), the context-independent lookup table.
        projection: Linear(E, H) with bias (``embedding_hidden_mapping_in`` in the reference code).
    """

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int) -> None:
        super().__init__()
        _check_positive(vocab_size=vocab_size, embedding_size=embedding_size, hidden_size=hidden_size)
        self.word_embeddings = nn.Embedding(vocab_size, embedding_size)
        self.projection = nn.Linear(embedding_size, hidden_size)

    def forward(self, input_ids: Tensor) -> Tensor:
        """(B, T) int64 token ids -> (B, T, H) vectors."""
        V = self.word_embeddings.num_embeddings
        if not isinstance(input_ids, Tensor) or input_ids.dim() != 2 or input_ids.dtype != torch.int64:
            raise ValueError(f"input_ids: expected an int64 tensor of shape (B, T), got {_describe(input_ids)}")
        if input_ids.numel() and not (0 <= int(input_ids.min()) and int(input_ids.max()) < V):
            raise ValueError(
                f"input_ids: expected ids in [0, V = {V}), got ids from {int(input_ids.min())} "
                f"to {int(input_ids.max())}"
            )
        e = self.word_embeddings(input_ids)  # (B, T, E)
        return self.projection(e)  # (B, T, H)


# --8<-- [end:factorized_embedding]


# --8<-- [start:shared_encoder]
class SharedEncoder(nn.Module):
    """A stack of ``num_layers`` layers that share all, some or none of their parameters across depth (§3.1).

    ``share="all"`` (ALBERT's default) applies the one ``layer`` ``num_layers`` times. The other strategies of
    Table 4 start from copies of ``layer`` (equal initial values) and then tie a part of every copy to the first:
    ``"attention"`` ties the self-attention and its LayerNorm, ``"ffn"`` the feed-forward network and its
    LayerNorm, ``"none"`` nothing (BERT). The parts are named as in ``nn.TransformerEncoderLayer`` (``PARTS``).

    Args:
        layer: the layer; called as ``layer(hidden_states, *args, **kwargs)`` and returning (B, T, H).
        num_layers: L, how many times a layer is applied.
        share: one of "all", "attention", "ffn", "none".
    """

    PARTS = {"attention": ("self_attn", "norm1"), "ffn": ("linear1", "linear2", "norm2")}

    def __init__(self, layer: nn.Module, num_layers: int, share: str = "all") -> None:
        super().__init__()
        _check_sharing(layer, num_layers, share, self.PARTS)
        if share == "all":
            self.layers = nn.ModuleList([layer] * num_layers)  # one module, L references
        else:
            self.layers = nn.ModuleList([layer] + [copy.deepcopy(layer) for _ in range(num_layers - 1)])
            for name in self.PARTS.get(share, ()):
                for later in self.layers[1:]:
                    setattr(later, name, getattr(layer, name))  # tie this part to the first layer's
        self.share = share

    def forward(self, hidden_states: Tensor, *args: object, **kwargs: object) -> Tensor:
        """(B, T, H) -> (B, T, H); extra arguments (masks) go to every layer."""
        for layer in self.layers:
            hidden_states = layer(hidden_states, *args, **kwargs)  # (B, T, H)
        return hidden_states


# --8<-- [end:shared_encoder]


def _check_sharing(layer: object, num_layers: object, share: object, parts: dict[str, tuple[str, ...]]) -> None:
    if not isinstance(layer, nn.Module):
        raise ValueError(f"layer: expected an nn.Module, got {_describe(layer)}")
    _check_positive(num_layers=num_layers)
    if share not in SHARING:
        raise ValueError(f"share: expected one of {', '.join(map(repr, SHARING))}, got {share!r}")
    missing = [name for name in parts.get(share, ()) if not isinstance(getattr(layer, name, None), nn.Module)]  # type: ignore[arg-type]
    if missing:
        raise ValueError(
            f"layer: share={share!r} needs the sub-modules {', '.join(parts[share])} "  # type: ignore[index]
            f"(as in nn.TransformerEncoderLayer); {type(layer).__name__} lacks {', '.join(missing)}"
        )


def _uniform(generator: torch.Generator | random.Random | None) -> float:
    """One draw from U[0, 1)."""
    if isinstance(generator, random.Random):
        return generator.random()
    return torch.rand((), generator=generator, dtype=torch.float64).item()


# --8<-- [start:sentence_order_pairs]
def sentence_order_pairs(
    segments: Sequence[Sequence[int]], generator: torch.Generator | random.Random | None
) -> list[SentencePair]:
    """SOP examples: segments 2k and 2k + 1 of a document, swapped with probability 0.5 (§3.1).

    A negative holds the same two segments as a positive, in the other order, so topic cannot tell them apart.

    Args:
        segments: two or more consecutive segments of one document, each a non-empty sequence of token ids; an
            odd last segment is left out.
        generator: the random source (a ``torch.Generator`` or a ``random.Random``); the global one when None.

    Returns:
        One pair per two segments; label 0 = original order, 1 = swapped (``AlbertForPreTraining``).
    """
    segs = _as_segments(segments, generator)
    pairs = []
    for first, second in zip(segs[0::2], segs[1::2]):
        if _uniform(generator) < 0.5:
            pairs.append(SentencePair(second, first, 1))  # swapped
        else:
            pairs.append(SentencePair(first, second, 0))  # original order
    return pairs


# --8<-- [end:sentence_order_pairs]


def _as_segments(segments: object, generator: object) -> list[list[int]]:
    if not isinstance(segments, Sequence) or isinstance(segments, (str, bytes)):
        raise ValueError(f"segments: expected a sequence of segments, got {_describe(segments)}")
    out = []
    for s, segment in enumerate(segments):
        ids = segment.tolist() if isinstance(segment, Tensor) and segment.dim() == 1 else segment
        if not isinstance(ids, Sequence) or isinstance(ids, (str, bytes)):
            raise ValueError(f"segments[{s}]: expected a sequence of token ids, got {_describe(segment)}")
        bad = next((t for t in ids if not _is_int(t) or t < 0), None)
        if bad is not None:
            raise ValueError(f"segments[{s}]: expected non-negative integer token ids, got {bad!r}")
        if not ids:
            raise ValueError(f"segments[{s}]: expected at least one token id, got none")
        out.append(list(ids))
    if len(out) < 2:
        raise ValueError(f"segments: expected at least 2 consecutive segments, got {len(out)}")
    if generator is not None and not isinstance(generator, (torch.Generator, random.Random)):
        raise ValueError(f"generator: expected a torch.Generator, a random.Random or None, got {_describe(generator)}")
    return out


# --8<-- [start:count_parameters]
def count_parameters(
    vocab_size: int,
    hidden_size: int,
    num_layers: int,
    intermediate_size: int,
    embedding_size: int | None = None,
    max_position: int = 512,
    type_vocab_size: int = 2,
    share_all_layers: bool = False,
    pooler: bool = True,
) -> int:
    """The parameters of transformers' ``BertModel`` (embedding_size None) or ``AlbertModel`` (E given).

    Args:
        vocab_size: V.
        hidden_size: H.
        num_layers: L.
        intermediate_size: the FFN width (4H in Table 1).
        embedding_size: E; None ties it to H with no projection (BERT). When given, the E -> H projection is
            counted even if E == H, as ``AlbertModel`` always has one.
        max_position: rows of the position table (512).
        type_vocab_size: rows of the segment table (2).
        share_all_layers: one set of layer parameters whatever L (ALBERT).
        pooler: count the tanh layer on [CLS] (H^2 + H), which feeds NSP / SOP.

    Returns:
        The exact number of parameters.
    """
    _check_positive(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        intermediate_size=intermediate_size,
        max_position=max_position,
        type_vocab_size=type_vocab_size,
    )
    if embedding_size is not None:
        _check_positive(embedding_size=embedding_size)
    H, I = hidden_size, intermediate_size
    E = H if embedding_size is None else embedding_size
    embeddings = (vocab_size + max_position + type_vocab_size) * E + 2 * E  # three tables and a LayerNorm
    projection = 0 if embedding_size is None else E * H + H  # Linear(E, H)
    attention = 4 * (H * H + H) + 2 * H  # query, key, value, output; LayerNorm
    ffn = (H * I + I) + (I * H + H) + 2 * H  # H -> I -> H; LayerNorm
    layers = (1 if share_all_layers else num_layers) * (attention + ffn)
    return embeddings + projection + layers + (H * H + H if pooler else 0)


# --8<-- [end:count_parameters]
