"""Implicit-feedback ALS: ``snippets.als.solve_users`` vs implicit 0.7.3's exact CPU solver, one user sweep (Eq. 4).

Both sides solve x_u = (Y^T C^u Y + lambda I)^-1 Y^T C^u p(u) for every user with c_ui = 1 + alpha r_ui, given the
same float32 item factors Y, alpha = 40, lambda = 0.1, one thread:

* ours: ``solve_users(r, Y)`` in PyTorch, from a dense (U, I) float32 ``r`` (it finds the non-zeros itself) or from
  a sparse COO ``r``; Y^T Y once, then Y^T (C^u - I) Y as batched matrix products over each user's observed items
  (users grouped by n_u and zero-padded), and a batched Cholesky solve;
* implicit: ``implicit.cpu._als.least_squares``, what ``AlternatingLeastSquares(use_cg=False).fit`` runs for each
  half-sweep: a Cython loop over users on a CSR matrix whose stored values are the confidences 1 + alpha r_ui,
  accumulating A_u = Y^T Y + lambda I + sum (c - 1) y_i y_i^T with BLAS axpy calls, then LAPACK posv (Cholesky).
  Its CSR input is built before timing; its ``num_threads=1`` and BLAS is limited to one thread.

Each row also records the largest difference between the two results relative to the largest |x|.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse
import torch

from bench.timing import Skip, interleaved, load, paired_ratio, ratio
from snippets.als import confidence, solve_users

ALPHA, REG = 40.0, 0.1
# (users, items, factors, density): the 3000 x 3000 case of the tests, a larger and sparser one, a wide one.
CASES = [(3000, 3000, 32, 0.01), (10000, 5000, 64, 0.004), (3000, 3000, 128, 0.01)]
QUICK_CASES = [(1000, 1000, 16, 0.01)]


def _problem(U: int, I: int, f: int, density: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(U, I, generator=g) < density
    r = torch.randint(1, 6, (U, I), generator=g).float() * mask  # (U, I) counts 1..5 at the observed pairs
    Y = torch.randn(I, f, generator=g) * 0.1  # (I, f)
    return r, Y


def run(quick: bool = False) -> dict[str, object]:
    """One row per case and input layout; ``quick`` uses one small case and few repeats."""
    try:
        from implicit.cpu import _als
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise Skip(f"implicit is not installed ({exc})") from exc
    torch.set_num_threads(1)
    repeats = 5 if quick else 15
    rows = []
    with threadpool_limits(limits=1):
        for i, (U, I, f, density) in enumerate(QUICK_CASES if quick else CASES):
            r, Y = _problem(U, I, f, density, seed=i)
            r_sparse = r.to_sparse()
            users, items = r_sparse.indices().numpy()
            c = confidence(r_sparse.values(), ALPHA).numpy()  # 1 + alpha r at the observed pairs only
            stored = scipy.sparse.csr_matrix((c, (users, items)), shape=(U, I))
            Y_np = np.ascontiguousarray(Y.numpy())
            X_np = np.zeros((U, f), dtype=np.float32)

            def reference(
                stored: scipy.sparse.csr_matrix = stored, X_np: np.ndarray = X_np, Y_np: np.ndarray = Y_np
            ) -> np.ndarray:
                _als.least_squares(stored, X_np, Y_np, REG, num_threads=1)
                return X_np

            theirs = torch.from_numpy(reference().copy())
            cases: dict[str, Callable[[], object]] = {
                "ours, dense r": lambda r=r, Y=Y: solve_users(r, Y, ALPHA, REG),
                "ours, sparse COO r": lambda r=r_sparse, Y=Y: solve_users(r, Y, ALPHA, REG),
                "implicit": reference,
            }
            before = load()
            stats = interleaved(cases, repeats=repeats, warmup=2)
            nnz = int(stored.nnz)
            for name, layout_r in (("ours, dense r", r), ("ours, sparse COO r", r_sparse)):
                ours = solve_users(layout_r, Y, ALPHA, REG)
                difference = float((ours - theirs).abs().max() / theirs.abs().max())
                rows.append(
                    {
                        "case": f"{U} users x {I} items, f = {f}, {nnz} observations ({name.split(', ')[1]})",
                        "ours_s": stats[name].median,
                        "reference_s": stats["implicit"].median,
                        "ratio": ratio(stats[name], stats["implicit"]),
                        "paired_ratio": paired_ratio(stats[name], stats["implicit"]),
                        "max_relative_difference": difference,
                        "times": {n: stats[n].as_dict() for n in (name, "implicit")},
                        "load": [before, load()],
                    }
                )
    return {
        "what": (
            "One user half-sweep of implicit-feedback ALS, Eq. (4) with c = 1 + 40 r and lambda = 0.1, float32, one "
            "thread. Ours: snippets.als.solve_users in PyTorch, from a dense (U, I) tensor (it finds the non-zeros "
            "itself) or a sparse COO tensor; Y^T Y once, Y^T (C^u - I) Y as batched matrix products over each user's "
            "observed items (users grouped by item count, zero-padded), batched Cholesky. implicit 0.7.3: "
            "implicit.cpu._als.least_squares, the exact solver of AlternatingLeastSquares(use_cg=False), a Cython "
            "loop over the users of a prebuilt CSR matrix of confidences (BLAS axpy per observed item and factor, "
            "LAPACK posv per user), num_threads=1."
        ),
        "repeats": repeats,
        "rows": rows,
    }
