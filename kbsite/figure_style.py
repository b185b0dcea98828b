"""One style for every figure the project draws (``scripts/*_figures.py`` and ``bench/plots.py``).

The figures are committed, so a rerun on the same data must rewrite the same bytes. :func:`pyplot` configures
matplotlib for that and :func:`save_svg` writes a figure:

- the Agg backend (no display needed);
- a fixed ``svg.hashsalt``, so the ids matplotlib gives clip paths and glyphs do not change from run to run;
- no date in the SVG metadata (``save_svg`` passes ``metadata={"Date": None}``);
- one font, DejaVu Sans, the font matplotlib ships, drawn as paths (``svg.fonttype: path``): the figure looks the
  same for every reader and the site requests no font.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["STYLE", "pyplot", "save_svg"]

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def pyplot(salt: str) -> ModuleType:
    """``matplotlib.pyplot`` set up for reproducible SVGs; ``salt`` names the figure (the ``svg.hashsalt``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({**STYLE, "svg.hashsalt": salt})
    return plt


def save_svg(fig: Any, path: Path, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` as SVG without a date; extra keyword arguments go to ``savefig``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None}, **kwargs)
    return path
