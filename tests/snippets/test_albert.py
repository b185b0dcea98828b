"""Tests of snippets.albert: parameter counts against transformers, sharing, the factorized embedding, SOP pairs."""

from __future__ import annotations

import copy
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.albert import FactorizedEmbedding, SharedEncoder, count_parameters, sentence_order_pairs
from snippets.bert import IGNORE_INDEX, pretraining_loss

# transformers takes about 2.5 s to import: each test imports what it compares with, and the module's tests share one
# xdist worker (make test runs with --dist loadgroup), so one process pays for it instead of every one.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.xdist_group("transformers")]


# Table 1: (name, L, H, E); FFN 4H and H / 64 heads (§3.1); the paper's vocabulary of 30,000 (§4.1).
TABLE_1 = [
    ("BERT-base", 12, 768, None),
    ("BERT-large", 24, 1024, None),
    ("ALBERT-base", 12, 768, 128),
    ("ALBERT-large", 24, 1024, 128),
    ("ALBERT-xlarge", 24, 2048, 128),
    ("ALBERT-xxlarge", 12, 4096, 128),
]


def _hf_model(V: int, L: int, H: int, E: int | None, pooler: bool = True) -> nn.Module:
    """transformers' BertModel (E None) or AlbertModel, built on the meta device: no memory, no download."""
    from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel

    sizes = dict(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=H // 64, intermediate_size=4 * H)
    with torch.device("meta"):
        if E is None:
            return BertModel(BertConfig(**sizes), add_pooling_layer=pooler)
        return AlbertModel(AlbertConfig(embedding_size=E, **sizes), add_pooling_layer=pooler)


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # parameters() counts a shared tensor once


# --- parameter counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "L", "H", "E"), TABLE_1, ids=[row[0] for row in TABLE_1])
@pytest.mark.parametrize("pooler", [True, False])
def test_count_equals_transformers_for_table_1(name: str, L: int, H: int, E: int | None, pooler: bool) -> None:
    model = _hf_model(30000, L, H, E, pooler)
    count = count_parameters(30000, H, L, 4 * H, embedding_size=E, share_all_layers=E is not None, pooler=pooler)
    assert count == model.num_parameters()


def test_count_vectors() -> None:
    # BERT-base with the released 30,522-piece vocabulary, part by part.
    embeddings, layer, pooler = 23_837_184, 7_087_872, 590_592
    assert count_parameters(30522, 768, 12, 3072) == embeddings + 12 * layer + pooler == 109_482_240
    assert count_parameters(30522, 1024, 24, 4096) == 335_141_888
    # ALBERT-base: factorized embeddings + one shared layer + pooler.
    assert count_parameters(30000, 768, 12, 3072, 128, share_all_layers=True) == 3_906_048 + 99_072 + layer + pooler
    assert count_parameters(30000, 768, 12, 3072, 128, share_all_layers=True) == 11_683_584
    assert count_parameters(30000, 1024, 24, 4096, 128, share_all_layers=True) == 17_683_968
    assert count_parameters(30000, 2048, 24, 8192, 128, share_all_layers=True) == 58_724_864
    assert count_parameters(30000, 4096, 12, 16384, 128, share_all_layers=True) == 222_595_584
    # Ablation variants: base not shared with E = 128; base all-shared with E = 768.
    assert count_parameters(30000, 768, 12, 3072, 128) == 89_650_176
    assert count_parameters(30000, 768, 12, 3072, 768, share_all_layers=True) == 31_705_344
    # BERT with V = 30,000 and no pooler.
    assert count_parameters(30000, 768, 12, 3072, pooler=False) == 108_490_752
    assert count_parameters(30000, 1024, 24, 4096, pooler=False) == 333_557_760


def test_count_matches_other_configurations_of_transformers() -> None:
    from transformers import BertConfig, BertModel

    for V, L, H, E, share in [(30522, 12, 768, None, False), (100, 3, 64, 64, True), (100, 2, 128, 16, True)]:
        model = _hf_model(V, L, H, E)
        got = count_parameters(V, H, L, 4 * H, embedding_size=E, share_all_layers=share)
        assert got == model.num_parameters(), (V, L, H, E)  # E == H still has AlbertModel's projection
    with torch.device("meta"):
        small = BertModel(
            BertConfig(
                vocab_size=50,
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=48,
                max_position_embeddings=20,
                type_vocab_size=3,
            )
        )
    assert count_parameters(50, 32, 2, 48, max_position=20, type_vocab_size=3) == small.num_parameters()


def test_an_all_shared_count_does_not_grow_with_depth() -> None:
    counts = {L: count_parameters(30000, 768, L, 3072, 128, share_all_layers=True) for L in (1, 12, 24, 48)}
    assert len(set(counts.values())) == 1
    assert _hf_model(30000, 12, 768, 128).num_parameters() == _hf_model(30000, 24, 768, 128).num_parameters()
    assert len(_hf_model(30000, 24, 768, 128).encoder.albert_layer_groups) == 1
    unshared = [count_parameters(30000, 768, L, 3072, 128) for L in (1, 2, 3)]
    assert unshared[2] - unshared[1] == unshared[1] - unshared[0] == 7_087_872  # one layer more each time


def test_factorization_saves_embedding_weights() -> None:
    with torch.device("meta"):
        emb = FactorizedEmbedding(30000, 128, 768)
    weights = emb.word_embeddings.weight.numel() + emb.projection.weight.numel()
    assert weights == 30000 * 128 + 128 * 768 == 3_938_304  # against V * H = 23,040,000
    assert _numel(emb) == weights + 768  # the projection's bias


# --- the factorized embedding ---------------------------------------------------------------------------------


def test_factorized_embedding_is_a_lookup_then_a_projection() -> None:
    torch.manual_seed(0)
    emb = FactorizedEmbedding(vocab_size=20, embedding_size=3, hidden_size=8)
    ids = torch.randint(0, 20, (2, 5))
    out = emb(ids)
    assert out.shape == (2, 5, 8)
    one_hot = torch.nn.functional.one_hot(ids, 20).float()  # (B, T, V)
    expected = one_hot @ emb.word_embeddings.weight @ emb.projection.weight.T + emb.projection.bias
    torch.testing.assert_close(out, expected)
    # The implied V x H table has rank at most E = 3: the price of the saving.
    table = emb(torch.arange(20).unsqueeze(0))[0] - emb.projection.bias  # (V, H)
    assert torch.linalg.matrix_rank(table).item() == 3


def test_factorized_embedding_matches_albert_model_weights() -> None:
    from transformers import AlbertConfig, AlbertModel

    config = AlbertConfig(
        vocab_size=30,
        embedding_size=4,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=8,
    )
    torch.manual_seed(0)
    hf = AlbertModel(config).eval()
    ours = FactorizedEmbedding(30, 4, 16)
    ours.word_embeddings.load_state_dict(hf.embeddings.word_embeddings.state_dict())
    ours.projection.load_state_dict(hf.encoder.embedding_hidden_mapping_in.state_dict())
    ids = torch.randint(0, 30, (2, 6))
    with torch.no_grad():
        expected = hf.encoder.embedding_hidden_mapping_in(hf.embeddings.word_embeddings(ids))
        torch.testing.assert_close(ours(ids), expected)


# --- cross-layer sharing ----------------------------------------------------------------------------------------


def _layer(d: int = 16) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(d, 2, dim_feedforward=32, dropout=0.0, batch_first=True)


def _part_sizes(layer: nn.TransformerEncoderLayer) -> tuple[int, int]:
    attention = _numel(layer.self_attn) + _numel(layer.norm1)
    ffn = _numel(layer.linear1) + _numel(layer.linear2) + _numel(layer.norm2)
    assert attention + ffn == _numel(layer)
    return attention, ffn


@pytest.mark.parametrize("num_layers", [1, 3, 12])
def test_parameter_counts_of_the_sharing_strategies(num_layers: int) -> None:
    torch.manual_seed(0)
    attention, ffn = _part_sizes(_layer())
    expected = {
        "all": attention + ffn,  # one layer's parameters whatever num_layers
        "attention": attention + num_layers * ffn,
        "ffn": num_layers * attention + ffn,
        "none": num_layers * (attention + ffn),
    }
    for share, count in expected.items():
        encoder = SharedEncoder(_layer(), num_layers, share=share)
        assert _numel(encoder) == count, share
        assert len(encoder.layers) == num_layers


def test_which_modules_are_shared() -> None:
    encoder = SharedEncoder(_layer(), 3, share="attention")
    first, *later = encoder.layers
    assert all(layer.self_attn is first.self_attn and layer.norm1 is first.norm1 for layer in later)
    assert all(layer.linear1 is not first.linear1 and layer.norm2 is not first.norm2 for layer in later)
    layer = _layer()
    shared = SharedEncoder(layer, 4)
    assert all(m is layer for m in shared.layers)


def test_all_shared_equals_a_pytorch_encoder_with_equal_layers() -> None:
    torch.manual_seed(0)
    layer = _layer()
    reference = nn.TransformerEncoder(copy.deepcopy(layer), num_layers=4, enable_nested_tensor=False)
    for copy_ in reference.layers:
        copy_.load_state_dict(layer.state_dict())  # 4 separate layers holding the same values
    x = torch.randn(2, 5, 16)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    shared = SharedEncoder(layer, 4)
    torch.testing.assert_close(shared(x, src_key_padding_mask=padding), reference(x, src_key_padding_mask=padding))
    assert not torch.allclose(shared(x), SharedEncoder(layer, 3)(x))  # depth still matters


def test_a_shared_weight_gets_the_sum_of_the_per_layer_gradients() -> None:
    torch.manual_seed(0)
    layer = _layer()
    x = torch.randn(2, 5, 16)
    shared, separate = SharedEncoder(layer, 3, share="all"), SharedEncoder(copy.deepcopy(layer), 3, share="none")
    torch.testing.assert_close(shared(x), separate(x))  # the copies start from equal values
    shared(x).square().sum().backward()
    separate(x).square().sum().backward()
    for name, param in layer.named_parameters():
        summed = sum(dict(copy_.named_parameters())[name].grad for copy_ in separate.layers)
        torch.testing.assert_close(param.grad, summed, rtol=1e-4, atol=1e-5)


# --- sentence-order prediction ---------------------------------------------------------------------------------


def test_sop_swap_is_exact_and_labels_are_balanced() -> None:
    segments = [[10 * k + 1, 10 * k + 2, 10 * k + 3][: 1 + k % 3] for k in range(4001)]  # odd count: last left out
    pairs = sentence_order_pairs(segments, torch.Generator().manual_seed(0))
    assert len(pairs) == 2000
    for k, (a, b, label) in enumerate(pairs):
        first, second = segments[2 * k], segments[2 * k + 1]
        assert (a, b) == ((first, second) if label == 0 else (second, first))  # the same two segments
        assert sorted(a + b) == sorted(first + second)
    swapped = sum(p.label for p in pairs) / len(pairs)
    assert abs(swapped - 0.5) < 4 * 0.5 / len(pairs) ** 0.5  # 4 standard errors of a fair coin


@settings(max_examples=30, deadline=None)
@given(
    segments=st.lists(st.lists(st.integers(0, 99), min_size=1, max_size=5), min_size=2, max_size=9),
    seed=st.integers(0, 2**31 - 1),
)
def test_sop_pairs_are_reproducible(segments: list[list[int]], seed: int) -> None:
    first = sentence_order_pairs(segments, random.Random(seed))
    assert first == sentence_order_pairs(segments, random.Random(seed))
    assert len(first) == len(segments) // 2
    assert [t for p in first for t in sorted(p.tokens_a + p.tokens_b)] == [
        t for k in range(len(first)) for t in sorted(segments[2 * k] + segments[2 * k + 1])
    ]


def test_sop_loss_equals_albert_for_pretraining() -> None:
    from transformers import AlbertConfig, AlbertForPreTraining

    config = AlbertConfig(
        vocab_size=40,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        initializer_range=0.5,
    )
    torch.manual_seed(0)
    model = AlbertForPreTraining(config).eval()
    ids = torch.randint(5, 40, (3, 9))
    labels = torch.full((3, 9), IGNORE_INDEX)
    labels[:, 2] = ids[:, 2]
    labels[1, 5] = ids[1, 5]
    order = torch.tensor([1, 0, 1])  # 1 = swapped
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels, sentence_order_label=order)
        ours = pretraining_loss(out.prediction_logits, labels, out.sop_logits, order)
    torch.testing.assert_close(ours, out.loss, atol=1e-6, rtol=1e-6)


# --- errors ---------------------------------------------------------------------------------------------------


def test_factorized_embedding_errors() -> None:
    with pytest.raises(ValueError, match=r"embedding_size: expected a positive integer, got 0"):
        FactorizedEmbedding(10, 0, 8)
    emb = FactorizedEmbedding(10, 2, 4)
    with pytest.raises(ValueError, match=r"input_ids: expected an int64 tensor of shape \(B, T\), got \(3,\)"):
        emb(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"input_ids: expected ids in \[0, V = 10\), got ids from 0 to 10"):
        emb(torch.tensor([[0, 10]]))


def test_shared_encoder_errors() -> None:
    with pytest.raises(ValueError, match=r"share: expected one of 'all', 'attention', 'ffn', 'none', got 'half'"):
        SharedEncoder(_layer(), 2, share="half")
    with pytest.raises(ValueError, match=r"num_layers: expected a positive integer, got 0"):
        SharedEncoder(_layer(), 0)
    with pytest.raises(ValueError, match=r"layer: expected an nn.Module, got function"):
        SharedEncoder(lambda x: x, 2)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=r"layer: share='ffn' needs the sub-modules linear1, linear2, norm2 .* "
        r"Linear lacks linear1, linear2, norm2",
    ):
        SharedEncoder(nn.Linear(4, 4), 2, share="ffn")
    assert len(SharedEncoder(nn.Linear(4, 4), 2, share="none").layers) == 2  # any layer for all / none


@pytest.mark.parametrize(
    ("segments", "generator", "message"),
    [
        ([[1, 2]], None, r"segments: expected at least 2 consecutive segments, got 1"),
        ("ab", None, r"segments: expected a sequence of segments, got str"),
        ([[1], []], None, r"segments\[1\]: expected at least one token id, got none"),
        ([[1], 5], None, r"segments\[1\]: expected a sequence of token ids, got int"),
        ([[1], [2, -3]], None, r"segments\[1\]: expected non-negative integer token ids, got -3"),
        ([[1], [2]], 7, r"generator: expected a torch.Generator, a random.Random or None, got int"),
    ],
)
def test_sentence_order_pairs_errors(segments: object, generator: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sentence_order_pairs(segments, generator)  # type: ignore[arg-type]


def test_count_parameters_errors() -> None:
    with pytest.raises(ValueError, match=r"num_layers: expected a positive integer, got 0"):
        count_parameters(100, 8, 0, 16)
    with pytest.raises(ValueError, match=r"embedding_size: expected a positive integer, got -4"):
        count_parameters(100, 8, 2, 16, embedding_size=-4)
    with pytest.raises(ValueError, match=r"vocab_size: expected a positive integer, got 1.5"):
        count_parameters(1.5, 8, 2, 16)  # type: ignore[arg-type]
