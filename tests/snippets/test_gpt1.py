"""Tests of snippets.gpt1: the causal mask, input transformations, the model, the fine-tuning loss, errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.gpt1 import (
    GPT1,
    InputLayout,
    TaskHead,
    causal_mask,
    extract_features,
    finetune_loss,
    lm_loss,
    pack_inputs,
    transform_classification,
    transform_entailment,
    transform_multiple_choice,
    transform_similarity,
)

LAYOUT = InputLayout(n_vocab=10, n_ctx=8)  # start / delimiter / extract = 10 / 11 / 12
S, D, E = 10, 11, 12


def _logits_with_losses(losses: list[float]) -> torch.Tensor:
    """(len, 2) float64 logits whose cross-entropy against class 0 is each given loss: log(1 + e^z) = loss."""
    z = torch.tensor([math.log(math.expm1(v)) for v in losses], dtype=torch.float64)
    return torch.stack([torch.zeros_like(z), z], dim=-1)


def _model(seed: int = 0, dropout: float = 0.0) -> GPT1:
    torch.manual_seed(seed)
    return GPT1(InputLayout(n_vocab=20, n_ctx=12), d_model=16, n_head=2, n_layer=2, dropout=dropout)


# --- shapes ------------------------------------------------------------------------------------------------


def test_shapes() -> None:
    layout = InputLayout(n_vocab=20, n_ctx=12)
    batch = pack_inputs([transform_multiple_choice([1, 2, 3], [[4], [5, 6], [7]], layout)] * 2, layout)
    assert batch.tokens.shape == batch.positions.shape == batch.mask.shape == (2, 3, 12)
    assert batch.extract_index.shape == (2, 3)
    assert batch.lm_targets.shape == batch.lm_mask.shape == (2, 3, 11)
    hidden, lm_logits = _model()(batch.tokens, batch.positions)
    assert hidden.shape == (2, 3, 12, 16)
    assert lm_logits.shape == (2, 3, 12, 20 + 3 + 12)  # the tied logits cover every row of the matrix
    features = extract_features(hidden, batch.extract_index)
    assert features.shape == (2, 3, 16)
    assert TaskHead(16, "multiple_choice")(features).shape == (2, 3)
    assert TaskHead(16, "entailment", n_class=3)(features[:, :1]).shape == (2, 3)
    assert TaskHead(16, "similarity", n_class=1)(features[:, :2]).shape == (2, 1)


# --- the causal mask -------------------------------------------------------------------------------------------


def test_causal_mask() -> None:
    mask = causal_mask(4)
    assert mask.dtype == torch.bool and mask.shape == (4, 4)
    expected = [[i >= j for j in range(4)] for i in range(4)]  # query i sees keys 0..i
    assert mask.tolist() == expected
    assert causal_mask(1).tolist() == [[True]]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_model_is_causal(train: bool) -> None:
    model = _model()
    model.train(train)
    tokens = torch.tensor([[20, 1, 2, 3, 4, 5, 22]])
    positions = model.layout.positions()[:7].unsqueeze(0)
    changed = tokens.clone()
    changed[0, 4] = 9
    with torch.no_grad():
        h, logits = model(tokens, positions)
        h2, logits2 = model(changed, positions)
    torch.testing.assert_close(h[:, :4], h2[:, :4])  # nothing before position 4 sees the change
    torch.testing.assert_close(logits[:, :4], logits2[:, :4])
    assert not torch.allclose(h[:, 4:], h2[:, 4:])


def test_tied_output_layer_and_embedding_layout() -> None:
    model = _model()
    model.eval()
    tokens = torch.tensor([[20, 1, 2, 22]])
    positions = model.layout.positions()[:4].unsqueeze(0)
    with torch.no_grad():
        hidden, lm_logits = model(tokens, positions)
        torch.testing.assert_close(lm_logits, hidden @ model.embedding.T)  # P(u) = softmax(h_n W_e^T)
    assert model.layout.positions().tolist() == list(range(23, 35))  # position rows after the 3 special rows


def test_embedding_dropout_is_on_the_matrix() -> None:
    # One dropout mask on W_e: a token id used twice gets the same dropped row both times.
    model = _model(dropout=0.5)
    model.blocks = torch.nn.ModuleList()  # look at h_0 directly
    model.train()
    torch.manual_seed(1)
    tokens = torch.tensor([[5, 5]])
    positions = torch.tensor([[23, 23]])
    h0, _ = model(tokens, positions)
    torch.testing.assert_close(h0[0, 0], h0[0, 1])
    assert (h0 == 0).any()


def test_no_dropout_on_the_feed_forward_hidden_activation() -> None:
    # The reference's mlp() (openai/finetune-transformer-lm, train.py) computes GELU(x W_1) W_2 and drops out only
    # the result; nn.TransformerEncoderLayer would also drop out GELU(x W_1). In training mode with p = 0.5,
    # the input of the second linear layer must still be exactly GELU of the first layer's output.
    model = _model(dropout=0.5)
    model.train()
    block = model.blocks[0]
    seen: dict[str, torch.Tensor] = {}
    block.linear1.register_forward_hook(lambda m, args, out: seen.__setitem__("hidden", out))
    block.linear2.register_forward_hook(lambda m, args, out: seen.__setitem__("into_w2", args[0]))
    torch.manual_seed(1)
    model(torch.tensor([[20, 1, 2, 3, 22]]), model.layout.positions()[:5].unsqueeze(0))
    torch.testing.assert_close(seen["into_w2"], F.gelu(seen["hidden"], approximate="tanh"), rtol=0, atol=0)


def test_residual_and_attention_dropout_stay_on() -> None:
    # Removing the feed-forward dropout must leave the block's other dropouts (0.1 in the paper, section 4.1)
    # active: the same input through the same block gives different outputs in training mode, equal in eval mode.
    block = _model(dropout=0.5).blocks[0]
    x = torch.randn(1, 5, 16, generator=torch.Generator().manual_seed(0))
    block.train()
    assert not torch.allclose(block(x), block(x))
    block.eval()
    torch.testing.assert_close(block(x), block(x))
    assert block.dropout1.p == block.dropout2.p == block.self_attn.dropout == 0.5


# --- input transformations (Figure 1) -----------------------------------------------------------------------


def test_transform_vector_entailment_with_the_reference_layout() -> None:
    batch = pack_inputs([transform_entailment([1, 2], [3], LAYOUT)], LAYOUT)
    assert batch.tokens[0, 0].tolist() == [10, 1, 2, 11, 3, 12, 0, 0]
    assert batch.positions[0, 0].tolist() == list(range(13, 21))
    assert batch.mask[0, 0].tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    assert batch.extract_index.tolist() == [[5]]
    assert batch.lm_targets[0, 0].tolist() == [1, 2, 11, 3, 12, 0, 0]
    assert batch.lm_mask[0, 0].tolist() == [1, 1, 1, 1, 1, 0, 0]
    assert int(batch.lm_mask.sum()) == 5  # delimiter and extract are predicted, the start token never is


def test_classification() -> None:
    assert transform_classification([4, 5, 6], LAYOUT) == [[S, 4, 5, 6, E]]


def test_entailment_uses_the_delimiter() -> None:
    assert transform_entailment([1, 2], [3, 4], LAYOUT) == [[S, 1, 2, D, 3, 4, E]]


def test_similarity_has_both_orderings() -> None:
    assert transform_similarity([1, 2], [3], LAYOUT) == [[S, 1, 2, D, 3, E], [S, 3, D, 1, 2, E]]


def test_multiple_choice_has_one_sequence_per_answer() -> None:
    sequences = transform_multiple_choice([1, 2], [[3], [4, 5], [6]], LAYOUT)
    assert sequences == [[S, 1, 2, D, 3, E], [S, 1, 2, D, 4, 5, E], [S, 1, 2, D, 6, E]]
    batch = pack_inputs([sequences], LAYOUT)
    assert batch.extract_index.tolist() == [[5, 6, 5]]


def test_each_part_is_truncated_to_its_share() -> None:
    # n_ctx = 8 leaves 5 free slots for two texts: 2 each, the first tokens kept.
    assert transform_entailment([1, 2, 3, 4], [5, 6, 7], LAYOUT) == [[S, 1, 2, D, 5, 6, E]]
    assert transform_classification(list(range(9)), LAYOUT) == [[S, 0, 1, 2, 3, 4, 5, E]]  # 6 slots
    layout = InputLayout(n_vocab=10, n_ctx=3)
    assert pack_inputs([transform_classification([7, 8], layout)], layout).tokens.tolist() == [[[S, 7, E]]]


@settings(max_examples=40, deadline=None)
@given(
    a=st.lists(st.integers(0, 9), max_size=12),
    b=st.lists(st.integers(0, 9), max_size=12),
    n_ctx=st.integers(5, 16),
)
def test_packing_invariants(a: list[int], b: list[int], n_ctx: int) -> None:
    layout = InputLayout(n_vocab=10, n_ctx=n_ctx)
    batch = pack_inputs([transform_similarity(a, b, layout)], layout)
    for k in range(2):
        tokens, mask, i = batch.tokens[0, k], batch.mask[0, k], int(batch.extract_index[0, k])
        assert tokens[0] == layout.start and tokens[i] == layout.extract
        assert mask[: i + 1].eq(1).all() and mask[i + 1 :].eq(0).all()
        assert tokens[i + 1 :].eq(0).all()
        assert (tokens == layout.delimiter).sum() == 1


# --- extract features and task heads ---------------------------------------------------------------------------


def test_classifier_reads_the_extract_token_not_the_last_position() -> None:
    hidden = torch.arange(2 * 1 * 5 * 3, dtype=torch.float32).view(2, 1, 5, 3)
    features = extract_features(hidden, torch.tensor([[2], [4]]))
    torch.testing.assert_close(features, torch.stack([hidden[0, :, 2], hidden[1, :, 4]]))


def test_similarity_adds_the_two_orderings() -> None:
    torch.manual_seed(0)
    head = TaskHead(4, "similarity", n_class=3).eval()
    features = torch.randn(2, 2, 4)
    torch.testing.assert_close(head(features), head.linear(features[:, 0] + features[:, 1]))
    torch.testing.assert_close(head(features), head(features.flip(1)))  # order of the pair does not matter


def test_multiple_choice_scores_each_answer_and_shares_dropout() -> None:
    torch.manual_seed(0)
    head = TaskHead(8, "multiple_choice", dropout=0.5).train()
    same = torch.randn(3, 1, 8).expand(3, 4, 8)  # four identical candidates
    scores = head(same)
    assert scores.shape == (3, 4)
    torch.testing.assert_close(scores, scores[:, :1].expand(3, 4))  # one dropout mask for all candidates
    head.eval()
    features = torch.randn(3, 4, 8)
    torch.testing.assert_close(head(features), (features @ head.linear.weight.T + head.linear.bias).squeeze(-1))


# --- the fine-tuning loss: Eq. (5) as the reference's train.py minimises it ---------------------------------

CLF_LOGITS = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
CLF_LABELS = torch.tensor([0])
PER_TOKEN = [[1.0, 2.0, 3.0, 9.0], [4.0, 7.0, 7.0, 7.0]]
LM_MASK = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
LM_LOGITS = torch.stack([_logits_with_losses(row) for row in PER_TOKEN])  # (2, 4, 2)
LM_TARGETS = torch.zeros(2, 4, dtype=torch.int64)


def test_logits_helper_gives_the_per_token_losses() -> None:
    ce = F.cross_entropy(LM_LOGITS.transpose(1, 2), LM_TARGETS, reduction="none")
    torch.testing.assert_close(ce, torch.tensor(PER_TOKEN, dtype=torch.float64))


def test_classifier_cross_entropy_vector() -> None:
    loss = finetune_loss(CLF_LOGITS, CLF_LABELS, LM_LOGITS, LM_TARGETS, LM_MASK, lm_coef=0.0)
    assert loss.item() == pytest.approx(0.201413, abs=1e-6)


def test_lm_loss_averages_per_sequence_first() -> None:
    assert lm_loss(LM_LOGITS, LM_TARGETS, LM_MASK).item() == pytest.approx(3.0)  # mean(2.0, 4.0)
    flat = F.cross_entropy(
        LM_LOGITS.reshape(-1, 2), LM_TARGETS.masked_fill(LM_MASK == 0, -100).reshape(-1), ignore_index=-100
    )
    assert flat.item() == pytest.approx(2.5)  # the flat token mean: a different, wrong number
    assert lm_loss(LM_LOGITS, LM_TARGETS, LM_MASK).item() != pytest.approx(flat.item())


def test_total_objective_vector() -> None:
    loss = finetune_loss(CLF_LOGITS, CLF_LABELS, LM_LOGITS, LM_TARGETS, LM_MASK)
    assert loss.item() == pytest.approx(1.701413, abs=1e-6)  # 0.201413 + 0.5 * 3.0


@settings(max_examples=30, deadline=None)
@given(
    B=st.integers(1, 4),
    C=st.integers(2, 4),
    N=st.integers(1, 4),
    T=st.integers(1, 5),
    V=st.integers(2, 6),
    lm_coef=st.sampled_from([0.0, 0.5, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_finetune_loss_matches_loop_reference(
    B: int, C: int, N: int, T: int, V: int, lm_coef: float, seed: int
) -> None:
    g = torch.Generator().manual_seed(seed)
    clf_logits = torch.randn(B, C, generator=g, dtype=torch.float64)
    clf_labels = torch.randint(0, C, (B,), generator=g)
    lm_logits = torch.randn(N, T, V, generator=g, dtype=torch.float64)
    lm_targets = torch.randint(0, V, (N, T), generator=g)
    lengths = torch.randint(1, T + 1, (N,), generator=g)
    lm_mask = (torch.arange(T) < lengths.unsqueeze(1)).float()

    def nll(logits: torch.Tensor, target: int) -> float:
        return -(logits[target] - torch.logsumexp(logits, dim=0)).item()

    clf = sum(nll(clf_logits[b], int(clf_labels[b])) for b in range(B)) / B
    per_sequence = [
        sum(nll(lm_logits[n, t], int(lm_targets[n, t])) for t in range(int(lengths[n]))) / int(lengths[n])
        for n in range(N)
    ]
    expected = clf + lm_coef * sum(per_sequence) / N
    got = finetune_loss(clf_logits, clf_labels, lm_logits, lm_targets, lm_mask, lm_coef=lm_coef)
    assert got.item() == pytest.approx(expected, rel=1e-9)


def test_finetune_loss_on_a_real_forward_pass_and_step() -> None:
    layout = InputLayout(n_vocab=20, n_ctx=12)
    examples = [
        transform_multiple_choice([1, 2, 3], [[4, 5], [6]], layout),
        transform_multiple_choice([7], [[8], [9, 1]], layout),
    ]
    batch = pack_inputs(examples, layout)
    labels = torch.tensor([0, 1])
    model = _model(dropout=0.1)
    head = TaskHead(16, "multiple_choice")
    opt = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-2)

    def loss_now() -> torch.Tensor:
        hidden, lm_logits = model(batch.tokens, batch.positions)
        clf_logits = head(extract_features(hidden, batch.extract_index))
        return finetune_loss(clf_logits, labels, lm_logits[..., :-1, :], batch.lm_targets, batch.lm_mask)

    torch.manual_seed(0)
    first = loss_now()
    first.backward()
    assert all(p.grad is not None for p in [*model.parameters(), *head.parameters()])
    for _ in range(15):
        opt.step()
        opt.zero_grad()
        loss_now().backward()
    model.eval()
    head.eval()
    with torch.no_grad():
        assert loss_now().item() < first.item()


# --- errors ---------------------------------------------------------------------------------------------------


def test_bad_causal_mask_length() -> None:
    with pytest.raises(ValueError, match="T: expected a positive sequence length, got 0"):
        causal_mask(0)


def test_bad_layout() -> None:
    with pytest.raises(ValueError, match=r"n_vocab, n_ctx: expected n_vocab >= 1 and n_ctx >= 3, got 10, 2"):
        InputLayout(n_vocab=10, n_ctx=2)


def test_bad_transform_inputs() -> None:
    with pytest.raises(ValueError, match=r"text: expected BPE ids in 0..9 \(n_vocab = 10\), got \[10\]"):
        transform_classification([1, 10], LAYOUT)  # a special id inside a text
    with pytest.raises(ValueError, match=r"text: .* got \[-1\]"):
        transform_entailment([1], [-1], LAYOUT)
    with pytest.raises(ValueError, match="answers: expected at least one candidate answer, got none"):
        transform_multiple_choice([1], [], LAYOUT)
    with pytest.raises(ValueError, match="n_ctx: 4 leaves no room for 2 texts and 3 special tokens"):
        transform_entailment([1], [2], InputLayout(n_vocab=10, n_ctx=4))


def test_bad_pack_inputs() -> None:
    with pytest.raises(ValueError, match=r"examples: expected a non-empty batch .* got \[1, 2\]"):
        pack_inputs([transform_entailment([1], [2], LAYOUT), transform_similarity([1], [2], LAYOUT)], LAYOUT)
    with pytest.raises(ValueError, match=r"examples: .* got \[\]"):
        pack_inputs([], LAYOUT)
    message = r"examples\[0\]\[0\]: expected a transformed sequence of 2..8 ids ending in extract"
    with pytest.raises(ValueError, match=message):
        pack_inputs([[[S, 1, 2]]], LAYOUT)


def test_bad_model_inputs() -> None:
    model = _model()
    positions = model.layout.positions()[:4].unsqueeze(0)
    with pytest.raises(ValueError, match=r"tokens: expected an int64 tensor of shape \(\*, T\), got \(1, 4\)"):
        model(torch.zeros(1, 4), positions)
    with pytest.raises(ValueError, match=r"positions: expected shape \(1, 4\) like tokens, got \(1, 3\)"):
        model(torch.zeros(1, 4, dtype=torch.int64), positions[:, :3])
    with pytest.raises(ValueError, match=r"tokens: expected at most n_ctx = 12 positions, got 13"):
        model(torch.zeros(1, 13, dtype=torch.int64), torch.zeros(1, 13, dtype=torch.int64))


def test_bad_extract_inputs() -> None:
    hidden = torch.randn(2, 1, 5, 3)
    with pytest.raises(ValueError, match=r"hidden: expected a tensor of shape \(B, K, T, d\), got \(2, 5, 3\)"):
        extract_features(hidden[:, 0], torch.zeros(2, 1, dtype=torch.int64))
    message = r"extract_index: expected an int64 tensor of shape \(B, K\) = \(2, 1\), got \(2,\)"
    with pytest.raises(ValueError, match=message):
        extract_features(hidden, torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"extract_index: expected positions in 0..4, got \[\[1\], \[5\]\]"):
        extract_features(hidden, torch.tensor([[1], [5]]))


def test_bad_task_head() -> None:
    with pytest.raises(ValueError, match="task: expected one of .* got 'regression'"):
        TaskHead(4, "regression")
    with pytest.raises(ValueError, match=r"features: task 'similarity' expects K = 2 sequences, got shape \(3, 1, 4\)"):
        TaskHead(4, "similarity")(torch.randn(3, 1, 4))
    with pytest.raises(ValueError, match=r"features: task 'entailment' expects K = 1"):
        TaskHead(4, "entailment")(torch.randn(3, 2, 4))
    with pytest.raises(ValueError, match=r"features: expected a tensor of shape \(B, K, d\), got \(3, 4\)"):
        TaskHead(4, "classification")(torch.randn(3, 4))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.randn(2), CLF_LABELS), r"clf_logits: expected a float tensor of shape \(B, C\), got \(2,\)"),
        ((CLF_LOGITS, torch.tensor([0, 1])), r"clf_labels: expected an int64 tensor of shape \(B,\) = \(1,\), got \(2"),
        ((CLF_LOGITS, torch.tensor([2])), r"clf_labels: expected classes in 0..1, got \[2\]"),
    ],
)
def test_bad_classifier_arguments(args: tuple[torch.Tensor, torch.Tensor], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        finetune_loss(*args, LM_LOGITS, LM_TARGETS, LM_MASK)


@pytest.mark.parametrize(
    ("lm_args", "message"),
    [
        ((LM_LOGITS[0], LM_TARGETS, LM_MASK), r"lm_logits: expected a float tensor of shape \(B, T, V\), got \(4, 2\)"),
        ((LM_LOGITS, LM_TARGETS[:, :3], LM_MASK), r"lm_targets: expected an int64 tensor of shape \(2, 4\) \(B, T\)"),
        ((LM_LOGITS, LM_TARGETS.float(), LM_MASK), r"lm_targets: expected an int64 tensor"),
        ((LM_LOGITS, LM_TARGETS, LM_MASK[:1]), r"lm_mask: expected shape \(2, 4\) \(B, T\), got \(1, 4\)"),
        ((LM_LOGITS, LM_TARGETS, torch.tensor([[1, 0, 0, 0], [0, 0, 0, 0]])), "lm_mask: every sequence needs"),
    ],
)
def test_bad_lm_arguments(lm_args: tuple[torch.Tensor, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        finetune_loss(CLF_LOGITS, CLF_LABELS, *lm_args)
    with pytest.raises(ValueError, match=message):
        lm_loss(*lm_args)
