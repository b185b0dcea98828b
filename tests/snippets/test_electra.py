"""Tests of snippets.electra: reference-code vectors, HF parity of the loss, sampling statistics, masking, model."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.electra import (
    TinyElectra,
    electra_loss,
    mask_generator_input,
    mlm_loss,
    num_to_predict,
    pretraining_step,
    rtd_loss,
    sample_replacements,
)

CLS, SEP, MASK, PAD = 101, 102, 103, 0


# transformers takes about 2.5 s to import: each test imports what it compares with, and the module's tests share one
# xdist worker (make test runs with --dist loadgroup), so one process pays for it instead of every one.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.xdist_group("transformers")]


def _certain_logits(targets: list[int], V: int) -> torch.Tensor:
    """(1, T, V) logits that put all mass on ``targets[t]`` at every position t."""
    logits = torch.full((1, len(targets), V), -1e4)
    logits[0, torch.arange(len(targets)), torch.tensor(targets)] = 0.0
    return logits


def _sentences(B: int, T: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """[CLS] words [SEP] pad..., words in [1000, 1100), lengths 3..T; the attention mask."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, T + 1, (B,), generator=g)
    ids = torch.randint(1000, 1100, (B, T), generator=g)
    pos = torch.arange(T)
    ids = torch.where(pos < lengths.unsqueeze(1), ids, PAD)
    ids[:, 0] = CLS
    ids[torch.arange(B), lengths - 1] = SEP
    return ids, (ids != PAD).long()


# --- shapes -------------------------------------------------------------------------------------------------


def test_shapes() -> None:
    torch.manual_seed(0)
    ids, mask = _sentences(3, 9)
    masked_ids, positions = mask_generator_input(ids, mask, MASK, (CLS, SEP))
    assert masked_ids.shape == positions.shape == (3, 9) and positions.dtype == torch.bool
    corrupted, is_replaced = sample_replacements(torch.randn(3, 9, 11), ids, positions)
    assert corrupted.shape == is_replaced.shape == (3, 9) and is_replaced.dtype == torch.bool
    assert rtd_loss(torch.randn(3, 9), is_replaced, mask).shape == ()
    assert num_to_predict(mask).shape == (3,)
    model = TinyElectra(vocab_size=20, max_len=9)
    small = torch.randint(0, 20, (3, 9))
    assert model.generator_logits(small, mask).shape == (3, 9, 20)
    assert model.discriminator_logits(small, mask).shape == (3, 9)


# --- vectors computed with the loss of google-research/electra run_pretraining.py (label 1 = replaced) ---------

ORIG = torch.tensor([[101, 7, 8, 9, 102, 0]])
INPUT_MASK = torch.tensor([[1, 1, 1, 1, 1, 0]])
MASKED = torch.tensor([[False, True, False, True, False, False]])
DISC_LOGITS = torch.tensor([[0.0, 1.0, -1.0, 2.0, 0.5, 3.0]])


def test_corruption_vector_a_sampled_original_is_not_replaced() -> None:
    # The generator samples 7 at position 1 (the original token) and 4 at position 3.
    logits = _certain_logits([0, 7, 0, 4, 0, 0], V=110)
    corrupted, is_replaced = sample_replacements(logits, ORIG, MASKED, generator=torch.Generator().manual_seed(0))
    assert corrupted.tolist() == [[101, 7, 8, 4, 102, 0]]
    assert is_replaced.long().tolist() == [[0, 0, 0, 1, 0, 0]]


def test_discriminator_loss_vector_and_the_wrong_variants() -> None:
    labels = torch.tensor([[0, 0, 0, 1, 0, 0]])
    per_token = F.binary_cross_entropy_with_logits(DISC_LOGITS, labels.float(), reduction="none")
    expected = [0.693147, 1.313262, 0.313262, 0.126928, 0.974077, 3.048587]  # label 1 = replaced
    torch.testing.assert_close(per_token, torch.tensor([expected]), atol=1e-6, rtol=0)
    assert rtd_loss(DISC_LOGITS, labels, INPUT_MASK).item() == pytest.approx(0.684135, abs=1e-6)
    # Averaging over all six positions (padding included) or over the masked positions only is wrong:
    assert rtd_loss(DISC_LOGITS, labels, torch.ones(1, 6)).item() == pytest.approx(1.078210, abs=1e-6)
    assert rtd_loss(DISC_LOGITS, labels, MASKED).item() == pytest.approx(0.720095, abs=1e-6)


def test_total_loss_vector() -> None:
    logits = torch.tensor([[[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]])
    loss_mlm = mlm_loss(logits, torch.tensor([[0, 2]]), torch.ones(1, 2, dtype=torch.bool))
    assert loss_mlm.item() == pytest.approx(0.251264, abs=1e-6)
    loss_disc = rtd_loss(DISC_LOGITS, torch.tensor([[0, 0, 0, 1, 0, 0]]), INPUT_MASK)
    assert electra_loss(loss_mlm, loss_disc).item() == pytest.approx(34.458013, abs=1e-5)
    assert electra_loss(0.251264, 0.684135, disc_weight=50.0).item() == pytest.approx(34.458014, abs=1e-5)


def test_count_vectors() -> None:
    assert int((0.15 + 0.005) * 128) == 19
    five_real = torch.tensor([[1, 1, 1, 1, 1, 0]])
    assert num_to_predict(five_real).tolist() == [1]  # round(0.75) = 1
    assert num_to_predict(five_real, max_seq_len=128).tolist() == [1]
    assert num_to_predict(torch.ones(1, 128)).tolist() == [19]  # round(19.2) = 19 = N
    assert num_to_predict(torch.ones(1, 200), max_seq_len=128).tolist() == [19]  # capped at N
    assert num_to_predict(torch.ones(1, 100), max_seq_len=128).tolist() == [15]
    assert num_to_predict(torch.zeros(1, 8)).tolist() == [1]  # at least 1
    assert num_to_predict(torch.ones(1, 10)).tolist() == [1]  # N = int(1.55) = 1 caps round(1.5) = 2
    assert num_to_predict(torch.ones(1, 30), max_seq_len=128).tolist() == [4]  # round(4.5) halves to even


def test_sampler_vector_frequencies() -> None:
    n = 200_000
    logits = torch.log(torch.tensor([0.7, 0.2, 0.1])).expand(1, n, 3)
    ids = torch.zeros(1, n, dtype=torch.int64)
    corrupted, is_replaced = sample_replacements(
        logits, ids, torch.ones(1, n, dtype=torch.bool), generator=torch.Generator().manual_seed(0)
    )
    freq = torch.bincount(corrupted[0], minlength=3) / n
    torch.testing.assert_close(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.005, rtol=0)  # 5 standard errors
    assert is_replaced.float().mean().item() == pytest.approx(0.3, abs=0.005)  # sampling 0 again is "original"


# --- independent references --------------------------------------------------------------------------------


def test_rtd_loss_equals_huggingface_electra_for_pretraining() -> None:
    from transformers import ElectraConfig, ElectraForPreTraining

    config = ElectraConfig(
        vocab_size=30,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        initializer_range=0.5,  # wide logits: a sharp test
    )
    torch.manual_seed(0)
    model = ElectraForPreTraining(config).eval()
    ids = torch.randint(0, 30, (3, 10))
    attention_mask = torch.ones(3, 10, dtype=torch.int64)
    attention_mask[0, 6:] = 0
    attention_mask[2, 3:] = 0
    labels = torch.randint(0, 2, (3, 10))
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=attention_mask, labels=labels)
        ours = rtd_loss(out.logits, labels, attention_mask)
    torch.testing.assert_close(ours, out.loss, atol=1e-6, rtol=1e-6)
    wrong = rtd_loss(out.logits, labels, torch.ones_like(attention_mask))  # padding counted: detectably different
    assert abs(wrong.item() - out.loss.item()) > 0.05


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_rtd_loss_equals_a_loop_over_real_tokens(B: int, T: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, generator=g, dtype=torch.float64) * 3
    labels = torch.rand(B, T, generator=g) < 0.3
    mask = torch.rand(B, T, generator=g) < 0.7
    mask[0, 0] = True
    terms = []
    for b in range(B):
        for t in range(T):
            if mask[b, t]:
                p_replaced = 1 / (1 + math.exp(-logits[b, t].item()))
                terms.append(-math.log(p_replaced if labels[b, t] else 1 - p_replaced))
    assert rtd_loss(logits, labels, mask).item() == pytest.approx(sum(terms) / len(terms), rel=1e-9)


def test_mlm_loss_is_the_mean_cross_entropy_over_masked_positions() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 7, generator=g)
    ids = torch.randint(0, 7, (2, 5), generator=g)
    positions = torch.tensor([[1, 0, 1, 0, 0], [0, 0, 0, 1, 1]], dtype=torch.bool)
    expected = sum(-torch.log_softmax(logits[b, t], -1)[ids[b, t]] for b, t in positions.nonzero().tolist()) / 4
    torch.testing.assert_close(mlm_loss(logits, ids, positions), expected)
    assert mlm_loss(logits, ids, torch.zeros(2, 5, dtype=torch.bool)).item() == 0.0


# --- sampling ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_sampled_frequencies_follow_the_tempered_softmax(temperature: float) -> None:
    n, logits = 100_000, torch.tensor([1.0, 0.0, -0.5, 2.0])
    expected = torch.softmax(logits / temperature, dim=0)
    corrupted, _ = sample_replacements(
        logits.expand(1, n, 4),
        torch.zeros(1, n, dtype=torch.int64),
        torch.ones(1, n, dtype=torch.bool),
        temperature=temperature,
        generator=torch.Generator().manual_seed(1),
    )
    freq = torch.bincount(corrupted[0], minlength=4) / n
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / n)  # 5 standard errors per token
    assert bool(((freq - expected).abs() < tolerance).all()), (freq, expected)
    assert freq[3] < 0.9  # a sample, not the argmax (which would give 1.0 for token 3)


def test_sampling_needs_no_gradient_and_leaves_unmasked_positions() -> None:
    logits = torch.randn(2, 6, 9, requires_grad=True)
    ids = torch.randint(0, 9, (2, 6))
    positions = torch.rand(2, 6) < 0.5
    corrupted, is_replaced = sample_replacements(logits, ids, positions, generator=torch.Generator().manual_seed(0))
    assert not corrupted.requires_grad and not is_replaced.requires_grad
    assert torch.equal(corrupted[~positions], ids[~positions])
    assert torch.equal(is_replaced, corrupted != ids) and not bool(is_replaced[~positions].any())


def test_sampling_is_reproducible_with_a_generator() -> None:
    logits, ids = torch.randn(4, 8, 50), torch.randint(0, 50, (4, 8))
    positions = torch.ones(4, 8, dtype=torch.bool)
    a = sample_replacements(logits, ids, positions, generator=torch.Generator().manual_seed(9))
    b = sample_replacements(logits, ids, positions, generator=torch.Generator().manual_seed(9))
    c = sample_replacements(logits, ids, positions, generator=torch.Generator().manual_seed(10))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    none = sample_replacements(logits, ids, torch.zeros(4, 8, dtype=torch.bool))
    assert torch.equal(none[0], ids) and not bool(none[1].any())


# --- masking of the generator input -----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(3, 40), seed=st.integers(0, 2**31 - 1))
def test_masking_never_chooses_cls_sep_mask_or_padding(B: int, T: int, seed: int) -> None:
    ids, attention_mask = _sentences(B, T, seed)
    ids[:, 1] = torch.where(attention_mask[:, 1].bool() & (ids[:, 1] != SEP), MASK, ids[:, 1])  # a [MASK] in the text
    g = torch.Generator().manual_seed(seed)
    masked_ids, positions = mask_generator_input(ids, attention_mask, MASK, (CLS, SEP), generator=g)
    excluded = (ids == CLS) | (ids == SEP) | (ids == MASK) | (ids == PAD)
    assert not bool(positions[excluded].any())
    assert bool((positions.sum(1) <= num_to_predict(attention_mask)).all())
    assert torch.equal(masked_ids[~positions], ids[~positions])
    shown = masked_ids[positions]
    assert bool(((shown == MASK) | (shown == ids[positions])).all())  # no random-token branch


def test_masking_statistics_with_replacement_and_85_15() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 1100, (8_000, 128), generator=g)  # about a million tokens
    ids[:, 0], ids[:, -1] = CLS, SEP
    attention_mask = torch.ones_like(ids)
    masked_ids, positions = mask_generator_input(ids, attention_mask, MASK, (CLS, SEP), generator=g)
    # 19 draws with replacement from 126 candidates hit 126 * (1 - (125/126)^19) distinct positions on average.
    expected_distinct = 126 * (1 - (125 / 126) ** 19)  # about 17.7, not 19
    assert positions.sum(1).float().mean().item() == pytest.approx(expected_distinct, abs=0.05)
    assert bool((positions.sum(1) <= 19).all())
    shown_mask = (masked_ids[positions] == MASK).float().mean().item()
    assert shown_mask == pytest.approx(0.85, abs=0.005)
    # Positions are uniform over the candidates: every column 1..126 is chosen about equally often.
    per_column = positions[:, 1:-1].float().mean(0)
    assert per_column.min().item() > 0.12 and per_column.max().item() < 0.16  # 0.1405 +- 5 standard errors


def test_masking_is_reproducible_and_handles_rows_without_candidates() -> None:
    ids, attention_mask = _sentences(4, 16)
    ids[2, 1:] = PAD
    attention_mask[2, 1:] = 0  # row 2: only [CLS]
    a = mask_generator_input(ids, attention_mask, MASK, (CLS, SEP), generator=torch.Generator().manual_seed(4))
    b = mask_generator_input(ids, attention_mask, MASK, (CLS, SEP), generator=torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not bool(a[1][2].any()) and bool(a[1][[0, 1, 3]].any(1).all())
    only_cls = mask_generator_input(ids[2:3], attention_mask[2:3], MASK, (CLS, SEP))
    assert not bool(only_cls[1].any())


# --- the model and the pre-training step -----------------------------------------------------------------------


def test_embeddings_are_shared_and_the_generator_output_is_tied() -> None:
    torch.manual_seed(0)
    model = TinyElectra(vocab_size=30, max_len=8)
    gen = sum(p.numel() for n, p in model.named_parameters() if n.startswith("generator"))
    disc = sum(p.numel() for n, p in model.named_parameters() if n.startswith("discriminator"))
    assert gen < disc / 4  # the generator is smaller
    ids, attention_mask = torch.randint(0, 30, (2, 8)), torch.ones(2, 8)
    # Rows of tokens absent from the input get a gradient from L_MLM only through the tied output matrix.
    few = torch.randint(4, 10, (2, 8))
    mlm_loss(model.generator_logits(few, attention_mask), few, torch.ones(2, 8, dtype=torch.bool)).backward()
    assert bool((model.token_embedding.weight.grad[10:].abs().sum(1) > 0).all())
    with torch.no_grad():
        model.token_embedding.weight.zero_()  # the generator's output matrix is the token embedding
        model.generator_bias.copy_(torch.arange(30.0))
        torch.testing.assert_close(model.generator_logits(ids, attention_mask), torch.arange(30.0).expand(2, 8, 30))


def test_disc_loss_reaches_the_generator_only_through_the_shared_embeddings() -> None:
    torch.manual_seed(0)
    model = TinyElectra(vocab_size=30, max_len=10)
    ids, attention_mask = torch.randint(4, 30, (4, 10)), torch.ones(4, 10, dtype=torch.int64)
    masked_ids, positions = mask_generator_input(ids, attention_mask, 3, generator=torch.Generator().manual_seed(0))
    corrupted, is_replaced = sample_replacements(model.generator_logits(masked_ids, attention_mask), ids, positions)
    rtd_loss(model.discriminator_logits(corrupted, attention_mask), is_replaced, attention_mask).backward()
    for name, param in model.named_parameters():
        if name.startswith("generator"):
            assert param.grad is None, name
        elif name.startswith(("discriminator", "token_embedding", "position_embedding")):
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_pretraining_step_combines_the_losses_and_updates_every_part() -> None:
    torch.manual_seed(0)
    model = TinyElectra(vocab_size=30, max_len=12)
    ids, attention_mask = torch.randint(4, 30, (8, 12)), torch.ones(8, 12, dtype=torch.int64)
    attention_mask[0, 8:] = 0
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = pretraining_step(model, optimizer, ids, attention_mask, 3, (1, 2), generator=torch.Generator().manual_seed(0))
    assert out.loss.item() == pytest.approx(out.mlm_loss.item() + 50 * out.disc_loss.item(), rel=1e-6)
    assert torch.equal(out.is_replaced, out.corrupted_ids != ids) and not bool(
        out.is_replaced[~out.masked_positions].any()
    )
    assert torch.equal(out.corrupted_ids[~out.masked_positions], ids[~out.masked_positions])
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    for part in ("token_embedding", "position_embedding", "generator_in", "generator.", "discriminator."):
        assert any(n.startswith(part) for n in changed), part


def test_pretraining_is_deterministic_and_lowers_the_loss() -> None:
    def run() -> list[float]:
        torch.manual_seed(0)
        model = TinyElectra(vocab_size=12, max_len=8, embed_dim=16, hidden_size=32, generator_size=16, num_layers=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        g = torch.Generator().manual_seed(0)
        ids = (torch.arange(8) % 4 + 4).expand(16, 8).clone()  # a fixed repeating text: easy to learn
        ids[:, 0], ids[:, -1] = 1, 2
        attention_mask = torch.ones_like(ids)
        return [
            pretraining_step(model, optimizer, ids, attention_mask, 3, (1, 2), generator=g).mlm_loss.item()
            for _ in range(30)
        ]

    first, second = run(), run()
    assert first == second
    assert sum(first[-5:]) / 5 < 0.5 * sum(first[:5]) / 5


def test_optimizer_none_only_computes_the_losses() -> None:
    torch.manual_seed(0)
    model = TinyElectra(vocab_size=20, max_len=6)
    before = [p.detach().clone() for p in model.parameters()]
    ids, attention_mask = torch.randint(4, 20, (2, 6)), torch.ones(2, 6)
    out = pretraining_step(model, None, ids, attention_mask, 3)
    assert math.isfinite(out.loss.item())
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


# --- errors ---------------------------------------------------------------------------------------------------------


def test_sample_replacements_errors() -> None:
    ids, positions = torch.zeros(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=torch.bool)
    logits = torch.randn(2, 3, 5)
    cases = [
        (
            (torch.randn(2, 3), ids, positions),
            {},
            r"generator_logits: expected a float tensor of shape \(B, T, V\) with \(B, T\) = \(2, 3\), got \(2, 3\)",
        ),
        ((torch.randn(2, 4, 5), ids, positions), {}, r"generator_logits: .* got \(2, 4, 5\)"),
        ((logits.long(), ids, positions), {}, r"generator_logits: .* dtype torch.int64"),
        ((logits, ids.float(), positions), {}, r"input_ids: expected an int64 tensor of shape \(B, T\)"),
        (
            (logits, ids, positions[:, :2]),
            {},
            r"masked_positions: expected a bool or 0/1 tensor of shape \(B, T\) = \(2, 3\)",
        ),
        ((logits, ids, positions.float() / 2), {}, r"masked_positions: .* dtype torch.float32"),
        ((logits, ids, positions), {"temperature": 0.0}, r"temperature: expected a positive number, got 0.0"),
        ((logits, ids, positions), {"temperature": True}, r"temperature: .* got True"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            sample_replacements(*args, **kwargs)
    with pytest.raises(ValueError, match=r"masked_positions"):
        mlm_loss(logits, ids, positions.long() * 3)


@pytest.mark.parametrize(
    ("logits", "labels", "mask", "message"),
    [
        (
            torch.randn(2, 3, 1),
            torch.zeros(2, 3),
            torch.ones(2, 3),
            r"discriminator_logits: expected a float tensor of shape \(B, T\), got \(2, 3, 1\)",
        ),
        (
            torch.zeros(2, 3, dtype=torch.int64),
            torch.zeros(2, 3),
            torch.ones(2, 3),
            r"discriminator_logits: .* dtype torch.int64",
        ),
        (
            torch.randn(2, 3),
            torch.zeros(2, 2),
            torch.ones(2, 3),
            r"is_replaced: expected a bool or 0/1 tensor of shape \(B, T\) = \(2, 3\)",
        ),
        (torch.randn(2, 3), torch.full((2, 3), 0.5), torch.ones(2, 3), r"is_replaced: .* dtype torch.float32"),
        (torch.randn(2, 3), torch.zeros(2, 3, dtype=torch.int64), torch.full((2, 3), 2), r"attention_mask: .* 0/1"),
        (
            torch.randn(2, 3),
            torch.zeros(2, 3, dtype=torch.int64),
            torch.zeros(2, 3, dtype=torch.int64),
            r"attention_mask: expected at least one real token",
        ),
    ],
)
def test_rtd_loss_errors(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rtd_loss(logits, labels, mask)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.float32])
def test_rtd_loss_accepts_masks_of_any_dtype_holding_zeros_and_ones(dtype: torch.dtype) -> None:
    labels = torch.tensor([[0, 0, 0, 1, 0, 0]], dtype=dtype)
    assert rtd_loss(DISC_LOGITS, labels, INPUT_MASK.to(dtype)).item() == pytest.approx(0.684135, abs=1e-6)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((torch.ones(2, 3), 0.5), {}, r"mlm_loss: expected a scalar \(0-dim tensor or float\), got \(2, 3\)"),
        ((1.0, torch.ones(2)), {}, r"disc_loss: .* got \(2,\)"),
        (("1.0", 0.5), {}, r"mlm_loss: .* got str"),
        ((1.0, 0.5), {"disc_weight": -1.0}, r"disc_weight: expected a non-negative number, got -1.0"),
    ],
)
def test_electra_loss_errors(args: tuple[object, object], kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        electra_loss(*args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mask", "kwargs", "message"),
    [
        (torch.ones(4), {}, r"attention_mask: expected a tensor of shape \(B, T\), got \(4,\)"),
        (torch.full((1, 4), 3), {}, r"attention_mask: expected a bool or 0/1 tensor"),
        (torch.ones(1, 4), {"mask_prob": 0.0}, r"mask_prob: expected a number in \(0, 1\], got 0.0"),
        (torch.ones(1, 4), {"max_seq_len": 0}, r"max_seq_len: expected a positive integer, got 0"),
    ],
)
def test_num_to_predict_errors(mask: torch.Tensor, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        num_to_predict(mask, **kwargs)  # type: ignore[arg-type]


def test_mask_generator_input_errors() -> None:
    ids, attention_mask = _sentences(2, 6)
    with pytest.raises(ValueError, match=r"input_ids: expected an int64 tensor of shape \(B, T\), got \(6,\)"):
        mask_generator_input(ids[0], attention_mask[0], MASK)
    with pytest.raises(ValueError, match=r"attention_mask: expected a bool or 0/1 tensor of shape \(B, T\) = \(2, 6\)"):
        mask_generator_input(ids, attention_mask[:, :5], MASK)
    with pytest.raises(ValueError, match=r"mask_prob"):
        mask_generator_input(ids, attention_mask, MASK, mask_prob=1.5)


def test_model_errors() -> None:
    with pytest.raises(ValueError, match=r"vocab_size: expected a positive integer, got 0"):
        TinyElectra(vocab_size=0, max_len=4)
    with pytest.raises(ValueError, match=r"generator_size: expected a multiple of head_dim = 16, got 24"):
        TinyElectra(vocab_size=10, max_len=4, generator_size=24)
    with pytest.raises(ValueError, match=r"hidden_size: expected a multiple of head_dim = 8, got 20"):
        TinyElectra(vocab_size=10, max_len=4, hidden_size=20, generator_size=8, head_dim=8)
    model = TinyElectra(vocab_size=10, max_len=4)
    with pytest.raises(ValueError, match=r"input_ids: expected at most max_len = 4 positions, got T = 5"):
        model.discriminator_logits(torch.zeros(1, 5, dtype=torch.int64), torch.ones(1, 5))
    with pytest.raises(ValueError, match=r"attention_mask: expected a bool or 0/1 tensor of shape \(B, T\) = \(1, 4\)"):
        model.generator_logits(torch.zeros(1, 4, dtype=torch.int64), torch.ones(1, 3))
