"""Implicit-feedback matrix factorisation by alternating least squares (ALS), its explanations and its evaluation.

Paper: Yifan Hu, Yehuda Koren, Chris Volinsky, "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008
(BibTeX key ``hu2008collaborative``).
Review: ``docs/reviews/als.md``.
Implements: the preference p_ui, Eq. (1); the confidence c_ui = 1 + alpha r_ui, Eq. (2), and the log-scaled
confidence of §6; the cost, Eq. (3); the closed-form user and item updates, Eqs. (4) and (5), with the speed-up of §4,
Y^T C^u Y = Y^T Y + Y^T (C^u - I) Y; the explanation of a recommendation by the user's past items, §5; the expected
percentile rank of §6, a popularity ranking to compare with, and a synthetic data set to run both on.

The cost (3) sums over all U x I user-item pairs, observed or not. C^u - I is zero wherever r_ui = 0, so the normal
equations of user u need Y^T Y (the same for every user) plus the n_u items u consumed: O(f^2 n_u + f^3) per user,
and no (I, I) matrix is ever formed. ``r`` may be a dense tensor or a sparse COO tensor; only its non-zeros are used.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "ImplicitALS",
    "confidence",
    "expected_percentile_rank",
    "normal_equations",
    "percentile_ranks",
    "popularity_scores",
    "preference",
    "solve_users",
    "synthetic_implicit_feedback",
]

SCALINGS = ("linear", "log")
# Users are processed in groups of at most about this many padded numbers (G x n x f).
_CHUNK_ELEMENTS = 1 << 22


def _describe(x: object) -> str:
    """How an argument looks in an error message: a tensor's shape, dtype and layout (when not dense), or the type of
    anything else."""
    if not isinstance(x, Tensor):
        return type(x).__name__
    layout = "" if x.layout == torch.strided else f", layout {x.layout}"
    return f"{tuple(x.shape)}, dtype {x.dtype}{layout}"


def _check_values(values: Tensor, name: str) -> None:
    """Observations are finite and non-negative (counts, durations)."""
    if values.numel() and not bool(torch.isfinite(values).all()):
        raise ValueError(f"{name}: expected finite values, got {values[~torch.isfinite(values)][0].item()}")
    if values.numel() and bool((values < 0).any()):
        raise ValueError(f"{name}: expected non-negative values (counts or durations), got {values.min().item()}")


def _check_observations(r: object) -> None:
    """``r`` of ``preference`` and ``confidence``: a dense float tensor of any shape."""
    if not isinstance(r, Tensor) or r.layout != torch.strided or not r.is_floating_point():
        raise ValueError(f"r: expected a dense float tensor, got {_describe(r)}")
    _check_values(r, "r")


def _check_r(r: object, name: str = "r") -> None:
    """``r``: a float (U, I) tensor, dense or sparse COO, with finite non-negative values."""
    ok_layout = isinstance(r, Tensor) and r.layout in (torch.strided, torch.sparse_coo)
    if not ok_layout or r.dim() != 2 or not r.is_floating_point():  # type: ignore[union-attr]
        raise ValueError(f"{name}: expected a float tensor of shape (U, I), dense or sparse COO, got {_describe(r)}")
    _check_values(r.coalesce().values() if r.is_sparse else r, name)  # type: ignore[union-attr]


def _check_factors(factors: object, rows: int, name: str, letter: str) -> None:
    if (
        not isinstance(factors, Tensor)
        or factors.dim() != 2
        or not factors.is_floating_point()
        or factors.shape[0] != rows
        or factors.shape[1] < 1
    ):
        raise ValueError(
            f"{name}: expected a float tensor of shape ({letter}, f) with {letter} = {rows}, got {_describe(factors)}"
        )


def _check_number(value: object, name: str, positive: bool = False) -> float:
    bound = "> 0" if positive else ">= 0"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):  # type: ignore[operator]
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _check_scaling(scaling: object, eps: object) -> None:
    if scaling not in SCALINGS:
        raise ValueError(f"scaling: expected one of {SCALINGS}, got {scaling!r}")
    _check_number(eps, "eps", positive=True)


def _nonzeros(r: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Rows, columns and values of the non-zero entries of a dense or sparse COO (U, I) tensor, row by row."""
    if r.is_sparse:
        r = r.coalesce()  # sorted by row, duplicates summed
        rows, cols = r.indices()  # (N,) each
        values = r.values()  # (N,)
        keep = values != 0  # stored zeros are not observations
        return rows[keep], cols[keep], values[keep]
    rows, cols = torch.nonzero(r, as_tuple=True)  # (N,) each
    return rows, cols, r[rows, cols]


# --8<-- [start:preference_confidence]
def preference(r: Tensor) -> Tensor:
    """The binary preference p_ui of Eq. (1): 1 where u consumed i (r_ui > 0), else 0.

    Args:
        r: non-negative observations r_ui (watching time, play counts, purchases), any shape, dense.

    Returns:
        Tensor of 0.0 and 1.0 of the shape and dtype of ``r``.
    """
    _check_observations(r)
    return (r > 0).to(r.dtype)


def confidence(r: Tensor, alpha: float = 40.0, *, scaling: str = "linear", eps: float = 1e-8) -> Tensor:
    """The confidence c_ui in p_ui: 1 + alpha r_ui, Eq. (2), or 1 + alpha log(1 + r_ui / eps), the log scaling of §6.

    Both give exactly 1 where r_ui = 0, which is what makes C^u - I sparse.

    Args:
        r: non-negative observations r_ui, any shape, dense.
        alpha: the rate at which confidence grows with r_ui (the paper found 40 to work well, §4).
        scaling: "linear" for Eq. (2) or "log" for the log-scaled variant.
        eps: the scale inside the logarithm (log scaling only).

    Returns:
        Tensor of the shape and dtype of ``r``, every entry >= 1.
    """
    _check_observations(r)
    _check_number(alpha, "alpha")
    _check_scaling(scaling, eps)
    if scaling == "log":
        return 1 + alpha * torch.log1p(r / eps)
    return 1 + alpha * r


# --8<-- [end:preference_confidence]


def _check_inputs(r: Tensor, item_factors: Tensor, alpha: float, reg: float, scaling: str, eps: float) -> None:
    _check_r(r)
    _check_factors(item_factors, r.shape[1], "item_factors", "I")
    _check_number(alpha, "alpha")
    _check_number(reg, "reg")
    _check_scaling(scaling, eps)


def _groups(n_u: Tensor, f: int) -> list[Tensor]:
    """Users with n_u > 0 in groups whose n_u share a power-of-two band, so padding a group to its largest n_u at most
    doubles its work; each group holds at most about _CHUNK_ELEMENTS padded numbers."""
    groups = []
    band = torch.where(n_u > 0, torch.log2(n_u.clamp(min=1).double()).floor(), -1.0)  # (U,)
    for level in band.unique().tolist():
        if level < 0:
            continue  # users with no observations keep A_u = Y^T Y + lambda I and b_u = 0
        members = torch.nonzero(band == level).squeeze(1)  # (G,)
        width = 2 ** (int(level) + 1)  # an upper bound on n_u in this band
        groups += list(members.split(max(1, _CHUNK_ELEMENTS // (width * f))))
    return groups


def _padded_pairs(n_u: Tensor, group: Tensor) -> tuple[Tensor, Tensor]:
    """For the users in ``group``: (G, n) indices of their k-th observed pair (pairs listed user by user) and a
    (G, n) mask that is False in the padding, n being the group's largest n_u."""
    first = n_u.cumsum(0) - n_u  # (U,) where each user's pairs start
    slot = torch.arange(int(n_u[group].max()))  # (n,)
    pair = (first[group, None] + slot).clamp(max=int(n_u.sum()) - 1)  # (G, n)
    return pair, slot < n_u[group, None]


# --8<-- [start:normal_equations]
def normal_equations(
    r: Tensor,
    item_factors: Tensor,
    alpha: float = 40.0,
    reg: float = 0.1,
    *,
    scaling: str = "linear",
    eps: float = 1e-8,
) -> tuple[Tensor, Tensor]:
    """A_u = Y^T C^u Y + lambda I and b_u = Y^T C^u p(u) of Eq. (4) for every user, by the speed-up of §4.

    Args:
        r: (U, I) non-negative observations, dense or sparse COO; only the non-zeros are read.
        item_factors: (I, f) item factors Y, one row y_i per item.
        alpha: the confidence rate of Eq. (2).
        reg: lambda of Eq. (3).
        scaling: "linear" (Eq. 2) or "log" confidence.
        eps: the scale inside the logarithm (log scaling only).

    Returns:
        The (U, f, f) A_u, symmetric positive definite when reg > 0, and the (U, f) b_u.
    """
    _check_inputs(r, item_factors, alpha, reg, scaling, eps)
    U, f, Y = r.shape[0], item_factors.shape[1], item_factors
    users, items, r_obs = _nonzeros(r)  # (N,) each: the N observed pairs, user by user
    c = confidence(r_obs.to(Y.dtype), alpha, scaling=scaling, eps=eps)  # (N,) c_ui of the observed pairs
    n_u = torch.bincount(users, minlength=U)  # (U,) items per user
    A = (Y.T @ Y + reg * torch.eye(f, dtype=Y.dtype, device=Y.device)).repeat(U, 1, 1)  # (U, f, f), once
    b = Y.new_zeros(U, f)  # (U, f)
    for group in _groups(n_u, f):  # users with similar n_u
        pair, real = _padded_pairs(n_u, group)  # (G, n) each: the user's k-th observed pair; False in the padding
        y = Y[items[pair]] * real[..., None]  # (G, n, f): y_i of the user's n_u items, then zero rows
        c_g = c[pair] * real  # (G, n)
        A[group] += y.mT @ ((c_g - 1)[..., None] * y)  # + Y^T (C^u - I) Y: O(f^2 n_u), not O(f^2 I)
        b[group] = (c_g[..., None] * y).sum(1)  # Y^T C^u p(u): p_ui = 0 off the observed items
    return A, b


# --8<-- [end:normal_equations]


# --8<-- [start:solve_users]
def solve_users(
    r: Tensor,
    item_factors: Tensor,
    alpha: float = 40.0,
    reg: float = 0.1,
    *,
    scaling: str = "linear",
    eps: float = 1e-8,
) -> Tensor:
    """x_u = (Y^T C^u Y + lambda I)^-1 Y^T C^u p(u), Eq. (4), for every user at once.

    The item update, Eq. (5), is the same function on the transpose: ``solve_users(r.T, user_factors, ...)``.

    Args:
        r: (U, I) non-negative observations r_ui, dense or sparse COO.
        item_factors: (I, f) item factors Y.
        alpha: the confidence rate of Eq. (2).
        reg: lambda of Eqs. (3) and (4).
        scaling: "linear" (Eq. 2) or "log" confidence.
        eps: the scale inside the logarithm (log scaling only).

    Returns:
        (U, f) user factors X; a user with no observations gets 0 (then b_u = 0).
    """
    A, b = normal_equations(r, item_factors, alpha, reg, scaling=scaling, eps=eps)  # (U, f, f), (U, f)
    L, info = torch.linalg.cholesky_ex(A)  # (U, f, f): A_u = L_u L_u^T
    if bool((info > 0).any()):
        u = int(torch.nonzero(info)[0, 0])
        raise ValueError(f"reg: the normal equations of row {u} are not positive definite; use reg > 0")
    return torch.cholesky_solve(b.unsqueeze(-1), L).squeeze(-1)  # (U, f)


# --8<-- [end:solve_users]


class ImplicitALS:
    """The factor model of §4: p_ui is predicted by x_u^T y_i, fitted by alternating Eqs. (4) and (5).

    Args:
        num_users: U.
        num_items: I.
        factors: f, the number of latent factors.
        alpha: the confidence rate of Eq. (2).
        reg: lambda of Eq. (3).
        scaling: "linear" (Eq. 2) or "log" confidence; see ``confidence``.
        eps: the scale inside the logarithm (log scaling only).
        dtype: of the factors.
        seed: of the generator that draws their initial values.

    Attributes:
        user_factors: (U, f) X, drawn from N(0, 0.01^2) until the first ``fit``.
        item_factors: (I, f) Y, drawn likewise; overwrite it before ``fit`` to choose the starting point (a sweep
            solves the users first, so the initial X does not matter).
        r: the (U, I) observations of the last ``fit``, which ``recommend`` and ``explain`` read.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        factors: int,
        alpha: float = 40.0,
        reg: float = 0.1,
        *,
        scaling: str = "linear",
        eps: float = 1e-8,
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
    ) -> None:
        for name, value in (("num_users", num_users), ("num_items", num_items), ("factors", factors)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        self.alpha, self.reg = _check_number(alpha, "alpha"), _check_number(reg, "reg")
        _check_scaling(scaling, eps)
        self.scaling, self.eps = scaling, float(eps)
        g = torch.Generator().manual_seed(seed)
        self.user_factors = 0.01 * torch.randn(num_users, factors, generator=g, dtype=dtype)  # (U, f)
        self.item_factors = 0.01 * torch.randn(num_items, factors, generator=g, dtype=dtype)  # (I, f)
        self.r: Tensor | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.user_factors.shape[0], self.item_factors.shape[0]

    def _check_fitted_r(self, r: object) -> None:
        _check_r(r)
        if tuple(r.shape) != self.shape:  # type: ignore[union-attr]
            raise ValueError(f"r: expected a float tensor of shape (U, I) = {self.shape}, got {_describe(r)}")

    # --8<-- [start:fit]
    def fit(self, r: Tensor, iterations: int = 15) -> ImplicitALS:
        """Alternate Eq. (4) (all users) and Eq. (5) (all items) ``iterations`` times.

        Args:
            r: (U, I) non-negative observations, dense or sparse COO.
            iterations: full sweeps, each solving the users and then the items.

        Returns:
            self, with ``user_factors``, ``item_factors`` and ``r`` set.
        """
        self._check_fitted_r(r)
        if not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"iterations: expected a non-negative integer, got {iterations!r}")
        hyper = {"alpha": self.alpha, "reg": self.reg, "scaling": self.scaling, "eps": self.eps}
        r_t = r.t().coalesce() if r.is_sparse else r.T  # (I, U): the items' view of the same data
        for _ in range(iterations):
            self.user_factors = solve_users(r, self.item_factors, **hyper)  # (U, f), Eq. (4)
            self.item_factors = solve_users(r_t, self.user_factors, **hyper)  # (I, f), Eq. (5)
        self.r = r
        return self

    # --8<-- [end:fit]

    def loss(self, r: Tensor) -> float:
        """The cost of Eq. (3) over all U x I pairs (dense, O(U I f); for tests and small demos).

        Args:
            r: (U, I) non-negative observations.

        Returns:
            sum_ui c_ui (p_ui - x_u^T y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2).
        """
        self._check_fitted_r(r)
        dense = (r.to_dense() if r.is_sparse else r).to(self.user_factors.dtype)  # (U, I)
        X, Y = self.user_factors, self.item_factors
        error = preference(dense) - X @ Y.T  # (U, I)
        c = confidence(dense, self.alpha, scaling=self.scaling, eps=self.eps)  # (U, I)
        return float((c * error.pow(2)).sum() + self.reg * (X.pow(2).sum() + Y.pow(2).sum()))

    def _user_row(self, user: int) -> Tensor:
        if self.r is None:
            raise RuntimeError("ImplicitALS: the model is not fitted; call fit(r) first")
        U = self.shape[0]
        if not isinstance(user, int) or isinstance(user, bool) or not 0 <= user < U:
            raise ValueError(f"user: expected an integer in 0..{U - 1}, got {user!r}")
        return self.r.index_select(0, torch.tensor([user]))  # (1, I), dense or sparse

    def recommend(self, user: int, n: int = 10, exclude_seen: bool = True) -> Tensor:
        """The ``n`` items with the highest predicted preference x_u^T y_i.

        Args:
            user: the user's row in ``r``.
            n: how many items.
            exclude_seen: leave out the items the user consumed in the fitted ``r``.

        Returns:
            (n,) int64 item ids, best first (fewer if fewer items are left).
        """
        row = self._user_row(user)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n: expected a positive integer, got {n!r}")
        scores = self.item_factors @ self.user_factors[user]  # (I,)
        if exclude_seen:
            _, seen, _ = _nonzeros(row)
            scores[seen] = -math.inf
        k = min(n, int(torch.isfinite(scores).sum()))
        return scores.topk(k).indices

    # --8<-- [start:explain]
    def explain(self, user: int, item: int) -> tuple[Tensor, Tensor]:
        """Which past items drive the prediction of ``item`` for ``user`` (§5).

        With W^u = (Y^T C^u Y + lambda I)^-1, Eq. (4) gives x_u = W^u sum_j c_uj y_j over the items j that u
        consumed, so p_ui = y_i^T x_u = sum_j s^u_ij c_uj with the user-specific similarity s^u_ij = y_i^T W^u y_j.

        Args:
            user: the user's row in ``r``.
            item: the item to explain.

        Returns:
            The (n_u,) int64 ids j of the user's past items and their (n_u,) contributions s^u_ij c_uj, largest
            first. They sum to y_i^T x_u with x_u solved by Eq. (4) against the current item factors.
        """
        row = self._user_row(user)
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item < self.shape[1]:
            raise ValueError(f"item: expected an integer in 0..{self.shape[1] - 1}, got {item!r}")
        Y, hyper = self.item_factors, {"scaling": self.scaling, "eps": self.eps}
        A, _ = normal_equations(row, Y, self.alpha, self.reg, **hyper)  # (1, f, f): (W^u)^-1
        _, past, r_past = _nonzeros(row)  # (n_u,) each
        c = confidence(r_past.to(Y.dtype), self.alpha, **hyper)  # (n_u,) c_uj
        weighted = torch.linalg.solve(A[0], Y[item])  # (f,): W^u y_i (W^u is symmetric)
        contributions = (Y[past] @ weighted) * c  # (n_u,): s^u_ij c_uj
        order = contributions.argsort(descending=True)
        return past[order], contributions[order]

    # --8<-- [end:explain]


def _check_scores(scores: object) -> None:
    if not isinstance(scores, Tensor) or scores.dim() != 2 or not scores.is_floating_point() or scores.shape[1] < 2:
        raise ValueError(f"scores: expected a float tensor of shape (U, I) with I >= 2, got {_describe(scores)}")


def _check_test(scores: Tensor, r_test: object) -> None:
    _check_r(r_test, "r_test")
    if r_test.is_sparse or r_test.shape != scores.shape:  # type: ignore[union-attr]
        raise ValueError(
            f"r_test: expected a dense float tensor of shape (U, I) = {tuple(scores.shape)}, got {_describe(r_test)}"
        )
    if not bool((r_test > 0).any()):  # type: ignore[operator]
        raise ValueError("r_test: expected at least one positive entry, got none")


# --8<-- [start:rank_bar]
def percentile_ranks(scores: Tensor) -> Tensor:
    """rank_ui of §6: where item i stands in user u's list sorted by score, 0 at the top and 1 at the bottom.

    Args:
        scores: (U, I) predicted preferences, I >= 2. Ties keep the order of the item ids.

    Returns:
        (U, I) percentile ranks in [0, 1]: position / (I - 1).
    """
    _check_scores(scores)
    U, I = scores.shape
    order = scores.argsort(dim=1, descending=True, stable=True)  # (U, I): item ids, best first
    position = torch.empty_like(order).scatter_(1, order, torch.arange(I).expand(U, I))  # (U, I)
    return position.to(scores.dtype) / (I - 1)


def expected_percentile_rank(scores: Tensor, r_test: Tensor) -> float:
    """rank-bar of §6: sum_ui r^t_ui rank_ui / sum_ui r^t_ui. Lower is better; a random order expects 0.5.

    Args:
        scores: (U, I) predicted preferences.
        r_test: (U, I) non-negative test observations r^t_ui, the weights.

    Returns:
        rank-bar, a number in [0, 1].
    """
    _check_scores(scores)
    _check_test(scores, r_test)
    return float((r_test * percentile_ranks(scores)).sum() / r_test.sum())


# --8<-- [end:rank_bar]


def popularity_scores(r: Tensor) -> Tensor:
    """The non-personalised baseline: every user gets the items ranked by how many users consumed them.

    Args:
        r: (U, I) non-negative training observations, dense or sparse COO.

    Returns:
        (I,) the number of users with r_ui > 0, in the dtype of ``r``; expand to (U, I) to rank.
    """
    _check_r(r)
    _, items, _ = _nonzeros(r)
    return torch.bincount(items, minlength=r.shape[1]).to(r.dtype)


# --8<-- [start:synthetic]
def synthetic_implicit_feedback(
    num_users: int = 500,
    num_items: int = 400,
    taste_dims: int = 5,
    seed: int = 0,
    *,
    weeks: int = 4,
    sharpness: float = 2.5,
    base_logit: float = -6.0,
) -> tuple[Tensor, Tensor]:
    """Television-like data: r_ui counts the episodes of weekly show i that u watched; §6's train/test split.

    u watches an episode of i with probability sigmoid(base_logit + popularity_i + sharpness * affinity_ui), the
    affinity being a scaled dot product of hidden tastes. The test is the week after training and, as in §6, keeps
    only shows the user did not watch in training.

    Args:
        num_users: U.
        num_items: I.
        taste_dims: the rank of the hidden tastes.
        seed: of the generator.
        weeks: training weeks.
        sharpness: the weight of taste against popularity.
        base_logit: sets the density.

    Returns:
        r_train, (U, I) float32 counts in 0..weeks, and r_test, (U, I) float32 counts 0 or 1.
    """
    g = torch.Generator().manual_seed(seed)
    taste_u = torch.randn(num_users, taste_dims, generator=g)  # (U, k)
    taste_i = torch.randn(num_items, taste_dims, generator=g)  # (I, k)
    popularity = 1.5 * torch.randn(num_items, generator=g)  # (I,)
    affinity = taste_u @ taste_i.T / math.sqrt(taste_dims)  # (U, I), about N(0, 1)
    watch = torch.sigmoid(base_logit + popularity + sharpness * affinity)  # (U, I) per-episode probability
    r_train = torch.binomial(torch.full_like(watch, weeks), watch, generator=g)  # (U, I)
    r_test = torch.bernoulli(watch, generator=g) * (r_train == 0)  # (U, I): only shows new to the user
    return r_train, r_test


# --8<-- [end:synthetic]
