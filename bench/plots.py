"""The figures of the Benchmarks page, one SVG per part, drawn from ``results.json`` in the shared figure style.

:func:`draw` writes ``docs/assets/benchmarks/<part>.svg`` for every part that has measurements (a part in the
generic shape gets a bar chart of ours against the reference) and removes the figure of a part that has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.targets import is_generic, unavailable
from kbsite.figure_style import pyplot, save_svg

__all__ = ["ASSETS", "draw"]

ASSETS = Path("docs/assets/benchmarks")
SALT = "kb-benchmarks"


def _fm(fm: dict[str, Any], path: Path) -> None:
    plt = pyplot(SALT)
    fig, axes = plt.subplots(2, 2, figsize=(8, 6), sharex=True)
    styles = {"ours": ("C0", "o"), "torchfm": ("C1", "s")}
    for row, mode in enumerate(("forward", "forward+backward")):
        for col, k in enumerate((16, 64)):
            ax = axes[row][col]
            cells = [c for c in fm["cells"] if c["k"] == k and c["mode"] == mode]
            Fs = [c["F"] for c in cells]
            for name, (color, marker) in styles.items():
                points = [(c["F"], c["times"][name]["median"] * 1e3) for c in cells if name in c["times"]]
                if points:
                    ax.plot(*zip(*points, strict=True), color=color, marker=marker, label=name)
            measured = [(c["F"], c["naive"]["seconds"] * 1e3) for c in cells if c["naive"]["how"] == "measured"]
            bounded = [(c["F"], c["naive"]["seconds"] * 1e3) for c in cells if c["naive"]["how"] != "measured"]
            if measured:
                ax.plot(*zip(*measured, strict=True), color="C3", marker="^", label="naive (measured)")
            if bounded:
                label = "naive (lower bound)" if mode != "forward" else "naive (extrapolated)"
                ax.plot(
                    *zip(*bounded, strict=True), color="C3", marker="^", linestyle="none", fillstyle="none", label=label
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(Fs, [str(F) for F in Fs])
            ax.minorticks_off()
            ax.set_title(f"{mode}, k={k}")
            ax.grid(True, alpha=0.3)
            if col == 0:
                ax.set_ylabel("CPU ms per call (B=4096)")
            if row == 1:
                ax.set_xlabel("fields F")
    axes[0][0].legend(frameon=False)
    axes[1][0].legend(frameon=False)
    fig.tight_layout()
    save_svg(fig, path, bbox_inches="tight")
    plt.close(fig)


def _bars(groups: list[str], series: dict[str, list[float]], ylabel: str, title: str, path: Path) -> None:
    plt = pyplot(SALT)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        pos = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(pos, values, width=width, label=name, color=f"C{i}")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    save_svg(fig, path, bbox_inches="tight")
    plt.close(fig)


def _scalarmix(sm: dict[str, Any], path: Path) -> None:
    cells = sm["cells"]
    series = {
        "ours (ScalarMix)": [c["times"]["ours"]["median"] * 1e3 for c in cells],
        "loop baseline": [c["times"]["loop"]["median"] * 1e3 for c in cells],
    }
    if all("fused" in c["times"] for c in cells):
        series["fused (addcmul)"] = [c["times"]["fused"]["median"] * 1e3 for c in cells]
    groups = [f"{'norm' if c['norm'] else 'no norm'}\n{c['mode']}" for c in cells]
    _bars(groups, series, "CPU ms per call", "ScalarMix, 3 layers of " + " × ".join(map(str, sm["shape"])), path)


def _electra(el: dict[str, Any], path: Path) -> None:
    loss = el.get("loss") or {}
    if not loss or unavailable(loss):
        return
    cells = loss["cells"]
    _bars(
        [c["mode"] for c in cells],
        {
            "rtd_loss": [c["times"]["rtd_loss"]["median"] * 1e6 for c in cells],
            "transformers loss path": [c["times"]["hf"]["median"] * 1e6 for c in cells],
        },
        "CPU µs per call",
        "Replaced-token-detection loss, logits " + " × ".join(map(str, loss["shape"])),
        path,
    )


def has_reference(rows: list[dict[str, Any]]) -> bool:
    """Whether every size of a site-build result has the Material + mkdocstrings build (older results have none)."""
    return all("mkdocstrings" in r for r in rows)


def _site_build(site: dict[str, Any], path: Path) -> None:
    """CPU time per page built, and per build against a line through the smallest size (linear growth)."""
    plt = pyplot(SALT)
    fig, (per_page, whole) = plt.subplots(1, 2, figsize=(8, 3.4))
    rows = site["rows"]
    ns = [r["reviews"] for r in rows]
    configs = [("project", "project"), ("bare", "bare Material, same docs")]
    if has_reference(rows):
        configs.append(("mkdocstrings", "Material + mkdocstrings, same API pages"))
    for i, (name, label) in enumerate(configs):
        per_page.plot(ns, [r[name]["cpu_ms_per_page"] for r in rows], color=f"C{i}", marker="o", label=label)
        whole.plot(ns, [r[name]["cpu_s"] for r in rows], color=f"C{i}", marker="o", label=label)
        first = rows[0][name]["cpu_s"]
        whole.plot(ns, [first * n / ns[0] for n in ns], color=f"C{i}", linestyle=":", linewidth=1)
    per_page.set_ylim(bottom=0)
    per_page.set_ylabel("CPU ms per page built")
    per_page.legend(frameon=False)
    whole.set_yscale("log")
    whole.set_ylabel("CPU s per build (dotted: linear)")
    for ax in (per_page, whole):
        ax.set_xscale("log")
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.minorticks_off()
        ax.set_xlabel("synthetic reviews N")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    save_svg(fig, path, bbox_inches="tight")
    plt.close(fig)


def _generic(part: dict[str, Any], path: Path) -> None:
    rows = part["rows"]
    groups = [r["case"] + (f"\n{r['mode']}" if r.get("mode") else "") for r in rows]
    _bars(
        groups,
        {"ours": [r["ours_s"] * 1e3 for r in rows], "reference": [r["reference_s"] * 1e3 for r in rows]},
        "CPU ms per call",
        part["what"],
        path,
    )


SPECIFIC: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "fm": _fm,
    "scalarmix": _scalarmix,
    "electra": _electra,
    "site_build": _site_build,
}


def figure(name: str) -> str:
    """The figure's path relative to ``docs/``, as the page links it."""
    return f"{ASSETS.relative_to('docs').as_posix()}/{name}.svg"


def draw(results: dict[str, Any], parts: Iterable[str], root: Path) -> list[Path]:
    """Draw the figure of every named part that has measurements; return the paths written."""
    assets = root / ASSETS
    written = []
    for name in parts:
        part = results.get(name) or {"skipped": "not run"}
        path = assets / f"{name}.svg"
        draw_part = SPECIFIC.get(name) or (_generic if is_generic(part) else None)
        path.unlink(missing_ok=True)  # a figure of an earlier run would not match the page
        if draw_part is None or unavailable(part):
            continue
        draw_part(part, path)
        if path.is_file():
            written.append(path)
    return written
