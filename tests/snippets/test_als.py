"""Tests of snippets.als: Eqs. (1)-(5) against an explicit C^u and against benfred/implicit 0.7.3, the §5 explanation,
the §6 expected percentile rank, hand-computed test vectors, scale without an (I, I) matrix, and errors."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import scipy.sparse
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from implicit.cpu.als import AlternatingLeastSquares

import snippets.als as als_module
from snippets.als import (
    ImplicitALS,
    confidence,
    expected_percentile_rank,
    normal_equations,
    percentile_ranks,
    popularity_scores,
    preference,
    solve_users,
    synthetic_implicit_feedback,
)

F64 = torch.float64


def _random_counts(U: int, I: int, density: float, seed: int, dtype: torch.dtype = F64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(U, I, generator=g) < density
    return (torch.randint(1, 6, (U, I), generator=g) * mask).to(dtype)  # (U, I) counts 0..5


def _explicit_solution(r: torch.Tensor, Y: torch.Tensor, alpha: float, reg: float, **kw: object) -> torch.Tensor:
    """Eq. (4) exactly as written: the (I, I) diagonal C^u and an explicit inverse, one user at a time."""
    f = Y.shape[1]
    rows = []
    for r_u in r.to(F64):
        C_u = torch.diag(confidence(r_u, alpha, **kw))  # (I, I)
        p_u = preference(r_u)  # (I,)
        W_u = torch.linalg.inv(Y.T @ C_u @ Y + reg * torch.eye(f, dtype=F64))  # (f, f)
        rows.append(W_u @ Y.T @ C_u @ p_u)
    return torch.stack(rows)


def _implicit_model(
    f: int, reg: float, X0: torch.Tensor, Y0: torch.Tensor, alpha: float = 1.0
) -> AlternatingLeastSquares:
    """implicit's exact (Cholesky) CPU solver, one thread, float64, started from the given factors."""
    model = AlternatingLeastSquares(
        factors=f,
        regularization=reg,
        alpha=alpha,
        use_cg=False,
        iterations=1,
        dtype=np.float64,
        num_threads=1,
        random_state=0,
    )
    model.user_factors = X0.numpy().copy()
    model.item_factors = Y0.numpy().copy()
    return model


def _stored_confidences(r: torch.Tensor, alpha: float) -> scipy.sparse.csr_matrix:
    """What implicit reads as c_ui: 1 + alpha r_ui stored at the observed pairs only (missing entries mean c = 1)."""
    data = torch.where(r > 0, confidence(r, alpha), torch.zeros_like(r))
    return scipy.sparse.csr_matrix(data.numpy())


# --- shapes ---------------------------------------------------------------------------------------------------


def test_shapes() -> None:
    r = _random_counts(6, 5, 0.5, seed=0, dtype=torch.float32)
    Y = torch.randn(5, 3)
    A, b = normal_equations(r, Y)
    assert A.shape == (6, 3, 3) and b.shape == (6, 3)
    assert solve_users(r, Y).shape == (6, 3)
    assert solve_users(r.T, torch.randn(6, 3)).shape == (5, 3)
    model = ImplicitALS(6, 5, factors=3).fit(r, iterations=2)
    assert model.user_factors.shape == (6, 3) and model.item_factors.shape == (5, 3)
    assert model.recommend(0, n=2, exclude_seen=False).shape == (2,)
    items, contributions = model.explain(0, 1)
    assert items.shape == contributions.shape == (int((r[0] > 0).sum()),)
    assert percentile_ranks(torch.randn(6, 5)).shape == (6, 5)
    assert popularity_scores(r).shape == (5,)


# --- Eqs. (1), (2) and the log scaling --------------------------------------------------------------------------


def test_preference_and_linear_confidence() -> None:
    r = torch.tensor([[0.0, 0.5, 2.0]])
    assert preference(r).tolist() == [[0.0, 1.0, 1.0]]
    assert confidence(r, alpha=40.0).tolist() == [[1.0, 21.0, 81.0]]


def test_log_confidence_vector() -> None:
    # 1 + 40 log(1 + r / 1e-8) for r = 0.5, 1, 2 (computed by hand); note how large these are.
    r = torch.tensor([0.0, 0.5, 1.0, 2.0], dtype=F64)
    c = confidence(r, alpha=40.0, scaling="log", eps=1e-8)
    torch.testing.assert_close(c, torch.tensor([1.0, 710.101343, 737.827230, 765.553117], dtype=F64))


@pytest.mark.parametrize("scaling", ["linear", "log"])
def test_unobserved_pairs_have_confidence_exactly_one(scaling: str) -> None:
    # The whole speed-up rests on this: C^u - I is zero off the observed items.
    assert torch.equal(confidence(torch.zeros(4), 40.0, scaling=scaling), torch.ones(4))


# --- Eq. (4): closed form, speed-up, optimality --------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    U=st.integers(1, 5),
    I=st.integers(1, 8),
    f=st.integers(1, 4),
    alpha=st.sampled_from([0.0, 1.0, 40.0]),
    reg=st.sampled_from([0.01, 0.1, 3.0]),
    scaling=st.sampled_from(["linear", "log"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_equals_explicit_diagonal_confidence_and_inverse(
    U: int, I: int, f: int, alpha: float, reg: float, scaling: str, seed: int
) -> None:
    r = _random_counts(U, I, 0.5, seed) * 0.7  # durations, not only integers
    Y = torch.randn(I, f, generator=torch.Generator().manual_seed(seed), dtype=F64)
    expected = _explicit_solution(r, Y, alpha, reg, scaling=scaling, eps=0.5)
    torch.testing.assert_close(solve_users(r, Y, alpha, reg, scaling=scaling, eps=0.5), expected)
    torch.testing.assert_close(solve_users(r.to_sparse(), Y, alpha, reg, scaling=scaling, eps=0.5), expected)


def test_normal_equations_equal_the_dense_products() -> None:
    r = _random_counts(7, 9, 0.4, seed=3)
    Y = torch.randn(9, 3, dtype=F64)
    A, b = normal_equations(r, Y, alpha=40.0, reg=0.1)
    for u in range(7):
        C_u = torch.diag(confidence(r[u], 40.0))  # (I, I)
        torch.testing.assert_close(A[u], Y.T @ C_u @ Y + 0.1 * torch.eye(3, dtype=F64))  # Y^T C^u Y + lambda I
        torch.testing.assert_close(b[u], Y.T @ C_u @ preference(r[u]))  # Y^T C^u p(u)


def test_grouping_of_users_by_item_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # Heavy, light and empty users; a tiny group budget forces one group per user, a large one few groups.
    r = _random_counts(12, 40, 0.1, seed=4)
    r[0] = 3.0  # a user who watched everything
    r[5] = 0.0  # a user who watched nothing
    Y = torch.randn(40, 4, dtype=F64)
    expected = _explicit_solution(r, Y, 40.0, 0.1)
    for budget in (1, 64, 1 << 22):
        monkeypatch.setattr(als_module, "_CHUNK_ELEMENTS", budget)
        torch.testing.assert_close(solve_users(r, Y, 40.0, 0.1), expected)
    assert torch.equal(solve_users(r, Y)[5], torch.zeros(4, dtype=F64))  # b_u = 0, as implicit sets it


def test_solution_zeroes_the_gradient_of_the_user_cost() -> None:
    r = _random_counts(5, 12, 0.3, seed=5)
    Y = torch.randn(12, 4, dtype=F64)
    X = solve_users(r, Y, alpha=40.0, reg=0.5)
    c, p = confidence(r, 40.0), preference(r)
    grad = -2 * ((c * (p - X @ Y.T)) @ Y) + 2 * 0.5 * X  # (U, f): d/dx_u of the user's part of Eq. (3)
    torch.testing.assert_close(grad, torch.zeros_like(grad), atol=1e-9, rtol=0)


def test_each_half_step_never_increases_the_cost() -> None:
    r_train, _ = synthetic_implicit_feedback(60, 50, seed=1)
    model = ImplicitALS(60, 50, factors=4, alpha=40.0, reg=0.1, dtype=F64)
    costs = [model.loss(r_train)]
    for _ in range(4):
        model.user_factors = solve_users(r_train, model.item_factors, 40.0, 0.1)
        costs.append(model.loss(r_train))
        model.item_factors = solve_users(r_train.T, model.user_factors, 40.0, 0.1)
        costs.append(model.loss(r_train))
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(costs)), costs
    assert costs[-1] < 0.5 * costs[1]


# --- against implicit 0.7.3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "reg", "duration"), [(40.0, 0.1, False), (1.0, 0.01, False), (40.0, 1.0, True)])
def test_one_sweep_matches_implicit(alpha: float, reg: float, duration: bool) -> None:
    U, I, f = 40, 30, 6
    r = _random_counts(U, I, 0.2, seed=6)
    if duration:  # watching time such as 0.7 of a show: implicit stores its confidences as float32
        r = r * 0.3
    r[3] = 0.0  # a user with no observations
    g = torch.Generator().manual_seed(7)
    X0, Y0 = torch.rand(U, f, generator=g, dtype=F64) * 0.01, torch.rand(I, f, generator=g, dtype=F64) * 0.01
    theirs = _implicit_model(f, reg, X0, Y0)
    theirs.fit(_stored_confidences(r, alpha), show_progress=False)
    ours = ImplicitALS(U, I, f, alpha=alpha, reg=reg, dtype=F64)
    ours.user_factors, ours.item_factors = X0.clone(), Y0.clone()
    ours.fit(r, iterations=1)
    tol = {"rtol": 1e-5, "atol": 1e-7} if duration else {"rtol": 1e-9, "atol": 1e-11}
    torch.testing.assert_close(ours.user_factors, torch.from_numpy(theirs.user_factors), **tol)
    torch.testing.assert_close(ours.item_factors, torch.from_numpy(theirs.item_factors), **tol)


def test_implicit_alpha_scales_r_without_the_one() -> None:
    # implicit multiplies the stored matrix by its alpha and reads the product as c_ui: c = alpha r, not 1 + alpha r.
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=F64)
    r = torch.tensor([[2.0, 0.0, 1.0]], dtype=F64)
    model = _implicit_model(2, 0.1, torch.zeros(1, 2, dtype=F64), Y, alpha=40.0)
    theirs = torch.from_numpy(model.recalculate_user(0, scipy.sparse.csr_matrix(r.numpy())))
    torch.testing.assert_close(theirs, torch.tensor([0.998768, 0.001199], dtype=F64), atol=1e-6, rtol=0)
    paper = solve_users(r, Y, alpha=40.0, reg=0.1)[0]
    assert (theirs - paper).abs().max() > 1e-5  # a different model from Eq. (2)
    # It is Eq. (4) with c_ui = 40 r_ui, i.e. with r'_ui = 40 r_ui - 1 and alpha = 1 in Eq. (2):
    torch.testing.assert_close(solve_users(torch.where(r > 0, 40 * r - 1, r), Y, alpha=1.0, reg=0.1)[0], theirs)


def test_explain_matches_implicit() -> None:
    U, I, f = 8, 12, 3
    r = _random_counts(U, I, 0.4, seed=8)
    r[2, :4] = torch.tensor([1.0, 3.0, 2.0, 5.0])
    Y = torch.randn(I, f, generator=torch.Generator().manual_seed(9), dtype=F64)
    ours = ImplicitALS(U, I, f, alpha=40.0, reg=0.1, dtype=F64).fit(r, iterations=0)
    ours.item_factors = Y.clone()
    theirs = _implicit_model(f, 0.1, torch.zeros(U, f, dtype=F64), Y)
    total, top, _ = theirs.explain(2, _stored_confidences(r, 40.0), itemid=7, N=I)
    items, contributions = ours.explain(2, 7)
    assert items.tolist() == [j for j, _ in top]
    torch.testing.assert_close(contributions, torch.tensor([s for _, s in top], dtype=F64))
    assert contributions.sum().item() == pytest.approx(total, rel=1e-10)


# --- §5: explanations ----------------------------------------------------------------------------------------------


def test_explanations_sum_to_the_prediction() -> None:
    r_train, _ = synthetic_implicit_feedback(80, 60, seed=2)
    model = ImplicitALS(80, 60, factors=5, dtype=F64).fit(r_train, iterations=3)
    x = solve_users(r_train, model.item_factors, model.alpha, model.reg)  # x_u of Eq. (4) against the final Y
    for user in (0, 17, 42):
        for item in (0, 9, 59):
            items, contributions = model.explain(user, item)
            assert set(items.tolist()) == set(torch.nonzero(r_train[user]).squeeze(1).tolist())
            assert torch.all(contributions[:-1] >= contributions[1:])  # largest first
            assert contributions.sum().item() == pytest.approx(float(x[user] @ model.item_factors[item]), rel=1e-9)
    # After a last user step the stored factors are that x_u, so explain() adds up to what recommend() ranks by.
    model.user_factors = x
    _, contributions = model.explain(5, 3)
    assert contributions.sum().item() == pytest.approx(float(model.user_factors[5] @ model.item_factors[3]), rel=1e-9)


# --- hand-computed test vectors --------------------------------------------------------------------------------
# Y = [[1, 0], [0, 1], [1, 1]] (3 items, f = 2), one user with r = [2, 0, 1], lambda = 0.1.

Y3 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=F64)
R3 = torch.tensor([[2.0, 0.0, 1.0]], dtype=F64)


def test_vector_paper_update_alpha_40() -> None:
    # p = [1, 0, 1], c = [81, 1, 41], Y^T Y = [[2, 1], [1, 2]].
    A, b = normal_equations(R3, Y3, alpha=40.0, reg=0.1)
    torch.testing.assert_close(A[0], torch.tensor([[122.1, 41.0], [41.0, 42.1]], dtype=F64))
    torch.testing.assert_close(b[0], torch.tensor([122.0, 41.0], dtype=F64))
    x = solve_users(R3, Y3, alpha=40.0, reg=0.1)[0]
    torch.testing.assert_close(x, torch.tensor([0.998783, 0.001185], dtype=F64), atol=1e-6, rtol=0)
    torch.testing.assert_close(Y3 @ x, torch.tensor([0.998783, 0.001185, 0.999968], dtype=F64), atol=1e-6, rtol=0)
    # Eq. (3) at this x: the user's part is 0.0998783; lambda |Y|^2 = 0.1 * 4 adds 0.4.
    model = ImplicitALS(1, 3, 2, alpha=40.0, reg=0.1, dtype=F64)
    model.user_factors, model.item_factors = x[None], Y3.clone()
    assert model.loss(R3) == pytest.approx(0.0998783 + 0.4, abs=1e-6)


def test_vector_paper_update_alpha_1() -> None:
    A, b = normal_equations(R3, Y3, alpha=1.0, reg=0.1)  # c = [3, 1, 2]
    torch.testing.assert_close(A[0], torch.tensor([[5.1, 2.0], [2.0, 3.1]], dtype=F64))
    torch.testing.assert_close(b[0], torch.tensor([5.0, 2.0], dtype=F64))
    x = solve_users(R3, Y3, alpha=1.0, reg=0.1)[0]
    torch.testing.assert_close(x, torch.tensor([0.973751, 0.016935], dtype=F64), atol=1e-6, rtol=0)


def test_vector_explanations() -> None:
    model = ImplicitALS(1, 3, 2, alpha=40.0, reg=0.1, dtype=F64).fit(R3, iterations=0)
    model.item_factors = Y3.clone()
    expected = {0: [0.985746, 0.013037], 1: [-0.959990, 0.961175], 2: [0.025756, 0.974212]}  # from items 0 and 2
    for item, (from_0, from_2) in expected.items():
        items, contributions = model.explain(0, item)
        by_item = dict(zip(items.tolist(), contributions.tolist(), strict=True))
        assert by_item == {0: pytest.approx(from_0, abs=1e-6), 2: pytest.approx(from_2, abs=1e-6)}
    assert sum(model.explain(0, 2)[1].tolist()) == pytest.approx(0.999968, abs=1e-6)


def test_vector_item_update() -> None:
    # Eq. (5) through the same function: X = [[1, 0], [0.5, 0.5]], r_.i = [3, 0].
    X = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=F64)
    y = solve_users(torch.tensor([[3.0, 0.0]], dtype=F64), X, alpha=40.0, reg=0.1)[0]
    torch.testing.assert_close(y, torch.tensor([0.998585, -0.713275], dtype=F64), atol=1e-6, rtol=0)


def test_vector_expected_percentile_rank() -> None:
    scores = torch.tensor([[0.9, 0.1, 0.5, 0.7]])
    torch.testing.assert_close(percentile_ranks(scores), torch.tensor([[0.0, 1.0, 2 / 3, 1 / 3]]))
    r_test = torch.tensor([[0.0, 1.0, 2.0, 0.0]])
    assert expected_percentile_rank(scores, r_test) == pytest.approx((1 * 1 + 2 * 2 / 3) / 3)  # 0.777778


# --- no (I, I) matrix, O(f^2 n_u + f^3) per user -------------------------------------------------------------------


def test_3000_by_3000_in_seconds() -> None:
    torch.set_num_threads(1)
    r = _random_counts(3000, 3000, 0.01, seed=10, dtype=torch.float32)  # 90,000 observations
    Y = torch.randn(3000, 32, generator=torch.Generator().manual_seed(11))
    start = time.thread_time()
    X = solve_users(r, Y, alpha=40.0, reg=0.1)
    elapsed = time.thread_time() - start
    # Forming Y^T C^u Y from the dense diagonal costs f^2 I per user, 3000 * 32^2 * 3000 = 9e9 multiply-adds here.
    assert elapsed < 5.0, f"{elapsed:.2f} s"
    for u in (0, 1234, 2999):  # Y^T C^u Y with the diagonal applied as row weights, in float64
        c, p, Y64 = confidence(r[u].double(), 40.0), preference(r[u].double()), Y.double()
        A = Y64.T @ (c[:, None] * Y64) + 0.1 * torch.eye(32, dtype=F64)
        torch.testing.assert_close(X[u].double(), torch.linalg.solve(A, Y64.T @ (c * p)), rtol=1e-3, atol=1e-4)


def test_no_item_by_item_matrix() -> None:
    # With 10 million items an (I, I) matrix would need 4e14 bytes, more than a 64-bit process can address.
    I, f = 10_000_000, 2
    g = torch.Generator().manual_seed(12)
    Y = torch.zeros(I, f)  # (I, f), 80 MB: random rows for the observed items and a thousand others
    rows = torch.cat([torch.randint(0, I, (1000,), generator=g), torch.tensor([5, 7, 17, 42, 123_456, I - 1])])
    Y[rows] = torch.randn(len(rows), f, generator=g)
    items = torch.tensor([[0, 0, 1, 1, 2, 2], [5, 9_999_999, 17, 42, 123_456, 7]])
    r = torch.sparse_coo_tensor(items, torch.tensor([1.0, 2.0, 3.0, 1.0, 0.5, 4.0]), (3, I), check_invariants=True)
    X = solve_users(r, Y, alpha=40.0, reg=0.1)
    Y_rows = Y[rows.unique()].double()  # the other rows are zero and add nothing to Y^T Y
    YtY = Y_rows.T @ Y_rows
    r = r.coalesce()
    for u in range(3):
        cols, vals = r.indices()[1, 2 * u : 2 * u + 2], r.values()[2 * u : 2 * u + 2].double()
        y, c = Y[cols].double(), 1 + 40 * vals
        A = YtY + 0.1 * torch.eye(f, dtype=F64) + y.T @ ((c - 1)[:, None] * y)
        torch.testing.assert_close(X[u].double(), torch.linalg.solve(A, y.T @ c), rtol=1e-4, atol=1e-6)


def test_cost_grows_with_observations_not_with_items() -> None:
    # 2000 users with 10 items each among 200,000: the dense-diagonal form would cost 2000 * 16^2 * 2e5 = 1e11.
    torch.set_num_threads(1)
    U, I, f = 2000, 200_000, 16
    g = torch.Generator().manual_seed(13)
    users = torch.arange(U).repeat_interleave(10)
    items = torch.randint(0, I, (U * 10,), generator=g)
    r = torch.sparse_coo_tensor(torch.stack([users, items]), torch.ones(U * 10), (U, I), check_invariants=True)
    Y = torch.randn(I, f, generator=g)
    start = time.thread_time()
    X = solve_users(r, Y, alpha=40.0, reg=0.1)
    assert time.thread_time() - start < 3.0
    assert torch.isfinite(X).all()


# --- §6: expected percentile rank, popularity, synthetic data --------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(U=st.integers(1, 4), I=st.integers(2, 9), seed=st.integers(0, 2**31 - 1))
def test_percentile_ranks_are_a_permutation_with_the_best_at_zero(U: int, I: int, seed: int) -> None:
    scores = torch.randn(U, I, generator=torch.Generator().manual_seed(seed))
    ranks = percentile_ranks(scores)
    expected = torch.arange(I, dtype=scores.dtype) / (I - 1)
    torch.testing.assert_close(ranks.sort(dim=1).values, expected.expand(U, I))
    assert torch.all(ranks.gather(1, scores.argmax(dim=1, keepdim=True)) == 0)


def test_popularity_counts_users() -> None:
    r = torch.tensor([[0.0, 3.0, 1.0], [0.0, 0.5, 0.0], [0.0, 2.0, 0.0]])
    assert popularity_scores(r).tolist() == [0.0, 3.0, 1.0]
    assert popularity_scores(r.to_sparse()).tolist() == [0.0, 3.0, 1.0]


def test_synthetic_data() -> None:
    r_train, r_test = synthetic_implicit_feedback(50, 40, seed=3)
    assert r_train.shape == r_test.shape == (50, 40) and r_train.dtype == torch.float32
    assert set(r_train.unique().tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(r_test.unique().tolist()) == {0.0, 1.0}
    assert not torch.any((r_train > 0) & (r_test > 0))  # shows watched in training are not in the test week
    again, _ = synthetic_implicit_feedback(50, 40, seed=3)
    assert torch.equal(r_train, again)


@pytest.mark.parametrize("seed", [0, 1])
def test_als_beats_popularity_on_synthetic_data(seed: int) -> None:
    r_train, r_test = synthetic_implicit_feedback(seed=seed)
    U, I = r_train.shape
    seen = r_train > 0
    model = ImplicitALS(U, I, factors=8, alpha=40.0, reg=0.1).fit(r_train, iterations=10)
    als = (model.user_factors @ model.item_factors.T).masked_fill(seen, -math.inf)
    popular = popularity_scores(r_train).expand(U, I).masked_fill(seen, -math.inf)
    random = torch.rand(U, I, generator=torch.Generator().manual_seed(seed)).masked_fill(seen, -math.inf)
    rank_als, rank_pop = expected_percentile_rank(als, r_test), expected_percentile_rank(popular, r_test)
    rank_random = expected_percentile_rank(random, r_test)
    assert rank_als < 0.7 * rank_pop < 0.7 * 0.35, (rank_als, rank_pop)
    # Seen items are pushed to the bottom, so a random order of the rest lands near 0.5 * (unseen share).
    assert rank_random == pytest.approx(0.5 * (1 - seen.float().mean().item()), abs=0.03)


def test_recommend_ranks_by_score_and_skips_seen_items() -> None:
    r = torch.tensor([[2.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]])
    model = ImplicitALS(2, 4, 2, dtype=F64).fit(r, iterations=0)
    model.user_factors = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=F64)
    model.item_factors = torch.tensor([[4.0, 0.0], [3.0, 1.0], [2.0, 2.0], [1.0, 3.0]], dtype=F64)
    assert model.recommend(0, n=4, exclude_seen=False).tolist() == [0, 1, 2, 3]
    assert model.recommend(0, n=4).tolist() == [1, 2]  # items 0 and 3 were seen
    assert model.recommend(1, n=2).tolist() == [3, 2]


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "message"),
    [
        (torch.ones(3), r"r: expected a float tensor of shape \(U, I\), dense or sparse COO, got \(3,\)"),
        (torch.ones(2, 3, dtype=torch.int64), r"r: .* dtype torch.int64"),
        ([[1.0]], r"r: .* got list"),
        (torch.tensor([[1.0, -2.0, 0.0]]), r"r: expected non-negative values \(counts or durations\), got -2.0"),
        (torch.tensor([[1.0, math.nan, 0.0]]), r"r: expected finite values, got nan"),
        (torch.tensor([[1.0, -1.0, 0.0]]).to_sparse(), r"r: expected non-negative values"),
    ],
)
def test_bad_r(r: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        solve_users(r, torch.randn(3, 2))  # type: ignore[arg-type]


def test_bad_observations_for_preference_and_confidence() -> None:
    with pytest.raises(ValueError, match=r"r: expected a dense float tensor, got \(2,\), dtype torch.int64"):
        preference(torch.ones(2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"r: expected a dense float tensor, got .*layout torch.sparse_coo"):
        preference(torch.ones(2, 2).to_sparse())
    with pytest.raises(ValueError, match=r"r: expected non-negative values \(counts or durations\), got -1.0"):
        confidence(torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"alpha: expected a finite number >= 0, got -1.0"):
        confidence(torch.ones(2), alpha=-1.0)
    with pytest.raises(ValueError, match=r"eps: expected a finite number > 0, got -0.1"):
        confidence(torch.ones(2), scaling="log", eps=-0.1)


@pytest.mark.parametrize(
    ("Y", "message"),
    [
        (torch.randn(4, 2), r"item_factors: expected a float tensor of shape \(I, f\) with I = 3, got \(4, 2\)"),
        (torch.randn(3), r"item_factors: .* got \(3,\)"),
        (torch.ones(3, 2, dtype=torch.int64), r"item_factors: .* dtype torch.int64"),
        (torch.randn(3, 0), r"item_factors: .* got \(3, 0\)"),
    ],
)
def test_bad_item_factors(Y: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        solve_users(torch.ones(2, 3), Y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": -1.0}, r"alpha: expected a finite number >= 0, got -1.0"),
        ({"reg": math.inf}, r"reg: expected a finite number >= 0, got inf"),
        ({"scaling": "sqrt"}, r"scaling: expected one of \('linear', 'log'\), got 'sqrt'"),
        ({"scaling": "log", "eps": 0.0}, r"eps: expected a finite number > 0, got 0.0"),
    ],
)
def test_bad_hyperparameters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        solve_users(torch.ones(2, 3), torch.randn(3, 2), **kwargs)  # type: ignore[arg-type]


def test_zero_reg_with_rank_deficient_factors_names_the_row() -> None:
    Y = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])  # rank 1: Y^T C^u Y is singular
    with pytest.raises(ValueError, match=r"reg: the normal equations of row 0 are not positive definite"):
        solve_users(torch.tensor([[1.0, 0.0, 0.0]]), Y, alpha=40.0, reg=0.0)


def test_model_errors() -> None:
    with pytest.raises(ValueError, match=r"factors: expected a positive integer, got 0"):
        ImplicitALS(3, 4, 0)
    with pytest.raises(ValueError, match=r"num_items: expected a positive integer, got 2.5"):
        ImplicitALS(3, 2.5, 2)  # type: ignore[arg-type]
    model = ImplicitALS(3, 4, 2)
    with pytest.raises(RuntimeError, match=r"the model is not fitted"):
        model.explain(0, 0)
    with pytest.raises(ValueError, match=r"r: expected a float tensor of shape \(U, I\) = \(3, 4\), got \(4, 3\)"):
        model.fit(torch.ones(4, 3))
    model.fit(torch.ones(3, 4), iterations=1)
    with pytest.raises(ValueError, match=r"user: expected an integer in 0..2, got 3"):
        model.recommend(3)
    with pytest.raises(ValueError, match=r"item: expected an integer in 0..3, got -1"):
        model.explain(0, -1)
    with pytest.raises(ValueError, match=r"n: expected a positive integer, got 0"):
        model.recommend(0, n=0)


def test_rank_errors() -> None:
    with pytest.raises(
        ValueError, match=r"scores: expected a float tensor of shape \(U, I\) with I >= 2, got \(3, 1\)"
    ):
        percentile_ranks(torch.randn(3, 1))
    with pytest.raises(ValueError, match=r"r_test: expected a dense float tensor of shape \(U, I\) = \(2, 3\)"):
        expected_percentile_rank(torch.randn(2, 3), torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"r_test: expected at least one positive entry"):
        expected_percentile_rank(torch.randn(2, 3), torch.zeros(2, 3))
