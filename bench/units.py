"""How the page and the targets write durations and ratios."""

from __future__ import annotations

__all__ = ["duration", "factor"]


def duration(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits (``—`` for None)."""
    if seconds is None:
        return "—"
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def factor(r: float | None) -> str:
    """A ratio written as a factor, ``1.60×`` (``—`` for None)."""
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}×"
    return f"{r:.3g}×" if r >= 10 else f"{r:.2f}×"
