"""Squares a number (demo module of the checker's corpus)."""

__all__ = ["square"]


# --8<-- [start:square]
def square(x: int) -> int:
    """Return x squared."""
    return x * x
# --8<-- [end:square]
