"""Fixtures shared by every test suite."""

from __future__ import annotations

import os

# Tiny tensors: one BLAS/OpenMP thread is faster and keeps the reference libraries quiet (implicit warns when
# OpenBLAS runs its own thread pool). Set before numpy or torch load their BLAS, as `make test` also does.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from tests.helpers import ROOT, Build, build_site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The site as ``mkdocs build --strict`` makes it, built once per test session."""
    return build_site(ROOT, tmp_path_factory.mktemp("site"))


# The checker's corpus is data (a miniature project), not tests to collect.
collect_ignore_glob = ["kbsite/corpus/*"]
