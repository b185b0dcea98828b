"""Tests of snippets.{slug}: shapes, a reference, the paper's properties, test vectors, errors."""

from __future__ import annotations

import pytest

from snippets.{slug} import example


def test_example_against_reference() -> None:
    # TODO compare with an independent reference (a naive loop, a PyTorch built-in or a library).
    assert [example(x) for x in range(5)] == [x**2 for x in range(5)]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="x: expected an int"):
        example("2")  # type: ignore[arg-type]
