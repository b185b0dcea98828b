"""TODO one line on what this module implements.

Paper: TODO authors, "title", venue year (BibTeX key ``{key}``).
Review: ``docs/reviews/{slug}.md``.
Implements: TODO the equations or sections, e.g. Eq. (1).
"""

from __future__ import annotations

__all__ = ["example"]


# --8<-- [start:example]
def example(x: int) -> int:
    """TODO replace with the paper's code.

    Args:
        x: TODO what it is (shape, for a tensor).

    Returns:
        TODO what it returns (shape, for a tensor).
    """
    if not isinstance(x, int):
        raise ValueError(f"x: expected an int, got {type(x).__name__}")
    return x * x
# --8<-- [end:example]
