"""The generated blocks of ``docs/benchmarks.md``: numbers, tables and figures between markers, nothing else.

The page is written by hand; a run rewrites only what stands between ``<!-- bench:start NAME -->`` and
``<!-- bench:end NAME -->``. The blocks are ``summary`` (the targets), one per part (named as the part) and
``machine``. A block the page has no markers for goes, under a heading, into the ``other`` block, so a new part
shows up without an edit of the page; the explanation next to it is then written by hand. Text outside the
markers, other tools' blocks included, is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.plots import figure, has_reference
from bench.targets import is_generic, unavailable
from bench.units import duration, factor

__all__ = ["PAGE", "blocks", "update", "write"]

PAGE = Path("docs/benchmarks.md")
OTHER = "other"
_MARKER = re.compile(r"<!-- bench:(start|end) ([A-Za-z0-9_-]+) -->")

Block = tuple[str, str]  # (heading used when the block has no markers of its own, Markdown)


def _table(head: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _load(values: list[float] | None) -> str:
    return ", ".join(f"{v:.2f}" for v in values) if values else "unknown"


def _summary(results: dict[str, Any]) -> str:
    rows = results.get("targets", [])
    out = []
    if results.get("quick"):
        out.append(
            '!!! warning "Smoke run"\n\n    `python -m bench --quick`: few repeats, small sizes. Not real numbers.'
        )
    table = [
        (r["what"], r["target"], r["measured"], r["status"] if r["status"] == "PASS" else f"**{r['status']}**")
        for r in rows
    ]
    out.append(_table(["Target", "Goal", "Measured", "Status"], table))
    met = sum(r["status"] == "PASS" for r in rows)
    out.append(f"Targets met: {met} of {len(rows)}.")
    return "\n\n".join(out)


def _fm(fm: dict[str, Any]) -> str:
    rounds = (
        f"{fm['repeats']} (F = 1000: {fm['rounds_at'].get('1000', fm['repeats'])}; naive at F = 100: "
        f"{fm['naive_rounds_at'].get('100', fm['repeats'])}"
    )
    if fm.get("target_cell_rounds"):
        tc = fm["target_cell_rounds"]
        rounds += f"; F = {tc['F']}, k = {tc['k']}: {tc['rounds']}"
    facts = [
        ("Batch B", fm["B"]),
        ("Rounds (medians of)", rounds + ")"),
        (
            "All implementations agree (float64, F ≤ 100)",
            "yes" if all(all(c["agree"].values()) for c in fm["cells"]) else "**no**",
        ),
    ]
    for chk in fm.get("extrapolation_check", []):
        facts.append(
            (
                f"Naive forward at F = 1000, B = {chk['B']}, k = {chk['k']}: measured, extrapolated",
                f"{duration(chk['measured_s'])}, {duration(chk['predicted_s'])} ({chk['error'] * 100:+.0f} %)",
            )
        )
    aa = {c["mode"]: c["aa_control"] for c in fm["cells"] if (c["F"], c["k"]) == (39, 16) and "aa_control" in c}
    if aa:
        facts.append(
            ("A/A control (torchfm ÷ torchfm), F = 39, k = 16", ", ".join(f"{m} {v:.3f}" for m, v in aa.items()))
        )
    cells = []
    for c in fm["cells"]:
        naive, how = duration(c["naive"]["seconds"]), c["naive"]["how"]
        speed = factor(c["ours_vs_naive"])
        if how.startswith("lower"):
            naive, speed = f"≥ {naive}", f"≥ {speed}"
        elif how.startswith("extrapolated"):
            naive = f"{naive} (extrap.)"
        tf = c["times"].get("torchfm")
        cells.append(
            (
                c["F"],
                c["k"],
                c["mode"],
                duration(c["times"]["ours"]["median"]),
                duration(tf["median"]) if tf else "—",
                naive,
                f"{c['ours_vs_torchfm']:.2f}" if "ours_vs_torchfm" in c else "—",
                speed,
            )
        )
    return "\n\n".join(
        [
            _table(["Setting", "Value"], facts),
            _table(["F", "k", "mode", "ours", "torchfm", "naive", "ours ÷ torchfm", "naive ÷ ours"], cells),
            f"![FM pairwise term: CPU ms per call against the number of fields]({figure('fm')})",
        ]
    )


def _scalarmix(sm: dict[str, Any]) -> str:
    facts = [
        ("Layers × shape", f"{sm['layers']} × {' × '.join(map(str, sm['shape']))}"),
        ("Rounds (medians of)", sm["repeats"]),
        ("Largest absolute difference of the outputs", f"{max(c['max_abs_diff'] for c in sm['cells']):.1e}"),
    ]
    cells = []
    for c in sm["cells"]:
        fused = c["times"].get("fused")
        cells.append(
            (
                "yes" if c["norm"] else "no",
                c["mode"],
                duration(c["times"]["ours"]["median"]),
                duration(c["times"]["loop"]["median"]),
                f"{c['ratio']:.2f}",
                duration(fused["median"]) if fused else "—",
                f"{c['fused_ratio']:.2f}" if fused else "—",
            )
        )
    return "\n\n".join(
        [
            _table(["Setting", "Value"], facts),
            _table(["normalisation", "mode", "ours", "loop", "ours ÷ loop", "fused", "fused ÷ loop"], cells),
            f"![ScalarMix: ours against the loop]({figure('scalarmix')})",
        ]
    )


def _electra(el: dict[str, Any]) -> str:
    out = []
    step = el.get("step") or {}
    if unavailable(step):
        out.append(f"Pre-training step: not measured ({unavailable(step)}).")
    else:
        out.append(
            _table(
                ["Pre-training step", ""],
                [
                    ("Call", f"`{step['call']}`"),
                    ("Batch × tokens", f"{step['batch']} × {step['seq_len']}"),
                    ("Model", step["config"]),
                    ("Median per step", f"{duration(step['step_s']['median'])} over {step['step_s']['repeats']} steps"),
                    ("Tokens per second, one thread", f"{step['tokens_per_s']:,.0f}"),
                ],
            )
        )
    loss = el.get("loss") or {}
    if unavailable(loss):
        out.append(f"Loss comparison: not measured ({unavailable(loss)}).")
        return "\n\n".join(out)
    verified = loss.get("verification", {})
    out.append(
        _table(
            ["Loss comparison", ""],
            [
                ("Logits", f"{' × '.join(map(str, loss['shape']))}, {loss['padding'] * 100:.0f} % padding"),
                ("Rounds (medians of)", loss["repeats"]),
                ("Copied loss equals ElectraForPreTraining's loss", "yes" if verified.get("equal") else "**no**"),
                ("Absolute difference of the two losses", f"{loss['max_abs_diff']:.1e}"),
            ],
        )
    )
    out.append(
        _table(
            ["mode", "`rtd_loss`", "transformers' loss path", "ratio"],
            [
                (
                    c["mode"],
                    duration(c["times"]["rtd_loss"]["median"]),
                    duration(c["times"]["hf"]["median"]),
                    f"{c['ratio']:.2f}",
                )
                for c in loss["cells"]
            ],
        )
    )
    out.append(f"![rtd_loss against the transformers loss path]({figure('electra')})")
    return "\n\n".join(out)


def _site_build(site: dict[str, Any]) -> str:
    rows = []
    reference = has_reference(site["rows"])
    for r in site["rows"]:
        p, b = r["project"], r["bare"]
        row = [
            r["reviews"],
            p["pages"],
            b["pages"],
            f"{duration(p['cpu_s'])}, {duration(p['wall_s'])}",
            f"{duration(b['cpu_s'])}, {duration(b['wall_s'])}",
            f"{p['cpu_ms_per_page']:.1f}, {p['ms_per_page']:.1f}",
            f"{b['cpu_ms_per_page']:.1f}, {b['ms_per_page']:.1f}",
            f"{factor(r['cpu_ratio'])}, {factor(r['ratio'])}",
        ]
        if reference:
            m = r["mkdocstrings"]
            row += [f"{m['pages']}, {duration(m['cpu_s'])}", factor(r["mkdocstrings_cpu_ratio"])]
        rows.append(tuple(row))
    header = [
        "N",
        "pages (project)",
        "pages (bare)",
        "project (CPU, wall)",
        "bare (CPU, wall)",
        "project ms/page (CPU, wall)",
        "bare ms/page (CPU, wall)",
        "project ÷ bare (CPU, wall)",
    ]
    if reference:
        header += ["Material + mkdocstrings (pages, CPU)", "project ÷ Material + mkdocstrings (CPU)"]
    out = [
        _table(header, rows),
        "Builds per size and configuration: "
        + ", ".join(f"N = {n}: {b}" for n, b in site["builds_per_size"].items())
        + f". Links to API pages that bare Material reports missing at N = {site['rows'][-1]['reviews']}: "
        f"{site['rows'][-1]['bare']['missing_link_notices']}.",
        f"![Site build: ms per page against the number of reviews]({figure('site_build')})",
    ]
    if site.get("distinct_math"):
        out.append(_distinct_math(site["distinct_math"], site["rows"]))
    if site.get("shared_module"):
        out.append(_shared_module(site["shared_module"]))
    profiles = site.get("profiles") or []
    if profiles:
        out += [_hooks(profiles), _phases(profiles)]
    return "\n\n".join(out)


def _distinct_math(distinct: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The project's build with every formula distinct against the same size with the copies' repeated ones."""
    same = next(r["project"] for r in rows if r["reviews"] == distinct["reviews"])
    d = distinct["project"]
    return (
        f"With every formula distinct (N = {distinct['reviews']}, one build), the project's build took "
        f"{duration(d['cpu_s'])} of CPU and {duration(d['wall_s'])} of wall clock, against "
        f"{duration(same['cpu_s'])} and {duration(same['wall_s'])} with the copies' repeated formulas "
        f"({d['cpu_s'] / same['cpu_s'] - 1:+.1%} CPU, {d['wall_s'] / same['wall_s'] - 1:+.1%} wall clock)."
    )


def _shared_module(rows: list[dict[str, Any]]) -> str:
    """The builds of plain copies that all name ``snippets.fm``: no API page of their own."""
    table = _table(
        ["N (copies naming snippets.fm)", "pages (project, bare)", "project CPU", "bare CPU", "project ÷ bare (CPU)"],
        [
            (
                r["reviews"],
                f"{r['project']['pages']}, {r['bare']['pages']}",
                duration(r["project"]["cpu_s"]),
                duration(r["bare"]["cpu_s"]),
                factor(r["cpu_ratio"]),
            )
            for r in rows
        ],
    )
    out = (
        "The same reviews as plain copies that all name `snippets.fm`, so that the build has no API page of their "
        "own (one build each):\n\n" + table
    )
    last = rows[-1]
    if last.get("without"):
        out += "\n\n" + _without(last)
    return out


def _without(row: dict[str, Any]) -> str:
    """What the project's build of the copies costs without each of its parts, against the full build and bare
    Material (one build each)."""
    full, bare = row["project"]["cpu_s"], row["bare"]["cpu_s"]
    lines = [
        (
            f"without {w['without']}",
            w["what"],
            duration(w["cpu_s"]),
            ("-" if w["saved_cpu_s"] < 0 else "")
            + f"{duration(abs(w['saved_cpu_s']))} ({w['saved_cpu_s'] / full:.0%} of the full build)",
            factor(w["cpu_s"] / bare),
        )
        for w in row["without"]
    ]
    return (
        f"The same {row['reviews']} copies built by the project without one of its parts at a time (one build each, "
        "not strict; `bench/without.py` replaces the kb plugin's functions for a part by ones that leave the page "
        f"as it is). The full build took {duration(full)} of CPU, bare Material {duration(bare)}:\n\n"
        + _table(["build", "what is left out", "CPU", "saved", "÷ bare Material (CPU)"], lines)
    )


def _hooks(profiles: list[dict[str, Any]]) -> str:
    """The kb plugin's CPU time per hook (calls, time, share of the in-process build) at each profiled size."""
    by_hook = {h["hook"]: h for h in profiles[-1]["hooks"]}
    order = sorted(by_hook, key=lambda name: -by_hook[name]["cpu_s"])

    def cell(calls: object, cpu: float, total: float) -> str:
        prefix = f"{calls}, " if calls != "" else ""
        return f"{prefix}{duration(cpu)} ({100 * cpu / total:.1f} %)"

    rows = []
    for name in order:
        hooks = [next((h for h in p["hooks"] if h["hook"] == name), {"calls": 0, "cpu_s": 0.0}) for p in profiles]
        rows.append((f"`{name}`", *(cell(h["calls"], h["cpu_s"], p["build_cpu_s"]) for h, p in zip(hooks, profiles))))
    kb = [sum(h["cpu_s"] for h in p["hooks"]) for p in profiles]
    rows.append(("all kb hooks", *(cell("", t, p["build_cpu_s"]) for t, p in zip(kb, profiles))))
    rows.append(("the whole build", *(cell("", p["build_cpu_s"], p["build_cpu_s"]) for p in profiles)))
    head = ["kb hook", *(f"N = {p['reviews']}: calls, CPU (share of the build)" for p in profiles)]
    return _table(head, rows)


def _phases(profiles: list[dict[str, Any]]) -> str:
    """CPU per page of each kind of page and phase at each profiled size."""
    keys = list(dict.fromkeys((x["kind"], x["phase"]) for p in profiles for x in p["phases"]))
    rows = []
    for kind, phase in keys:
        cells = []
        for p in profiles:
            x = next((x for x in p["phases"] if (x["kind"], x["phase"]) == (kind, phase)), None)
            cells.append(f"{duration(x['cpu_s'] / x['pages'])} ({x['pages']} pages)" if x and x["pages"] else "—")
        rows.append((kind, phase, *cells))
    return _table(["pages", "phase", *(f"CPU per page, N = {p['reviews']}" for p in profiles)], rows)


def _build_row(label: str, build: dict[str, Any]) -> tuple[str, ...]:
    """One configuration of the math bench: its medians and the wall clock of each build."""
    walls = ", ".join(f"{w:.2f}" for w in build["walls"])
    return (label, duration(build["wall_s"]), duration(build["cpu_s"]), walls)


def _cached_rows(mb: dict[str, Any]) -> list[tuple[str, ...]]:
    """The rows of the builds that took their formulas from an earlier build's cache, when the results have them."""
    if "math_cached" not in mb:
        return []
    difference = f"{mb['overhead_cached_wall']:+.1%}", f"{mb['overhead_cached_cpu']:+.1%}"
    return [
        _build_row("with math, the formulas kept by an earlier build", mb["math_cached"]),
        ("difference from the build without math", *difference, ""),
    ]


def _math_build(mb: dict[str, Any]) -> str:
    with_math, without, inner = mb["math"], mb["no_math"], mb["render_math"]
    builds = _table(
        ["strict build", "wall clock (median)", "CPU time, all threads (median)", "wall clock of each build"],
        [
            _build_row("without math (the formulas left as TeX)", without),
            _build_row("with math, every formula typeset (a first build)", with_math),
            ("difference", f"{mb['overhead_wall']:+.1%}", f"{mb['overhead_cpu']:+.1%}", ""),
            *_cached_rows(mb),
        ],
    )
    split = (
        f"Builds per configuration: {mb['builds_per_mode']}, alternating. Inside the builds with math (the median "
        "of each figure, so they need not add up): "
        f"{inner['handed_over']} distinct formulas of {inner['pages_with_math']} pages handed to the background "
        f"thread, which spent {inner['worker_cpu_s'] * 1000:.0f} ms of CPU typesetting them (its engine's start "
        f"included); the build's own thread spent {inner['main_thread_wall_s'] * 1000:.0f} ms in the math's two "
        f"functions, waiting included ({mb['overhead_main_thread']:.1%} of the build without math). Together "
        f"{inner['cpu_s'] * 1000:.0f} ms of CPU, {mb['overhead_in_process']:.1%} of the build without math."
    )
    engines = mb.get("engines") or {}
    rows = [
        (
            name,
            e["version"],
            f"{e['installed_mb']:.1f} MB",
            f"{e['start_ms']:.0f} ms",
            f"{e['first_pass_ms_per_formula']:.2f} ms",
            f"{e['warm_ms_per_formula']:.2f} ms",
            "not compared (no Node)" if e["same_as_node"] is None else f"{e['same_as_node']} / {engines['formulas']}",
        )
        for name, e in engines.items()
        if isinstance(e, dict) and e.get("installed")
    ]
    missing = [name for name, e in engines.items() if isinstance(e, dict) and not e.get("installed")]
    out = [builds, split]
    if rows:
        out.append(
            _table(
                [
                    "engine",
                    "version",
                    "installed",
                    "start (load KaTeX)",
                    "per formula, first pass",
                    "warm",
                    "output = Node's KaTeX",
                ],
                rows,
            )
            + (f"\n\nNot installed here, so not timed: {', '.join(missing)}." if missing else "")
        )
    return "\n\n".join(out)


def _make_test(mt: dict[str, Any]) -> str:
    def status(run: dict[str, Any]) -> str:
        ok = "passed" if run["returncode"] == 0 else f"**exit status {run['returncode']}**"
        failed = "".join(f"<br>`{line}`" for line in run.get("failed", []))
        return ok + (f" (pytest: {run['summary']})" if run.get("summary") else "") + failed

    runs = [mt, mt["test_review"]] if "test_review" in mt else [mt]
    repeated = [r for r in runs if r.get("walls")]
    each = (
        [("Each run: wall clock", *(", ".join(duration(w) for w in r.get("walls", [r["wall_s"]])) for r in runs))]
        + [
            (
                "Each run: busy core-seconds",
                *(", ".join(f"{b:.0f}" for b in r.get("busy", [r["busy_core_s"]])) for r in runs),
            )
        ]
        if repeated
        else []
    )
    label = f" (the median of {repeated[0]['runs']} runs)" if repeated else ""
    table = _table(
        ["", *(f"`{r['command']}`" for r in runs)],
        [
            (f"Wall clock{label}", *(duration(r["wall_s"]) for r in runs)),
            *each,
            ("Busy core-seconds (all processes)", *(f"{r['busy_core_s']:.0f} of {r['cores']} cores" for r in runs)),
            ("Result", *(status(r) for r in runs)),
            ("Load average before / after", *(f"{_load(r['load'][0])} / {_load(r['load'][1])}" for r in runs)),
        ],
    )
    if "by_review_s" not in mt:
        return table
    costs = mt["by_review_s"]
    mean = sum(costs.values()) / len(costs)
    rows = [(slug, f"{t:.1f} s") for slug, t in sorted(costs.items(), key=lambda kv: -kv[1])]
    growth = (
        f"Test time put down to a review (its snippet tests, its code blocks, its review and API pages in Chromium; "
        f"summed over the workers): mean {mean:.1f} s over {len(costs)} reviews, from {min(costs.values()):.1f} s "
        f"to {max(costs.values()):.1f} s. The rest of the suite, whatever the number of reviews: "
        f"{mt['rest_s']:.0f} s. So each added review adds about {mean / mt['cores']:.1f} s of wall clock to "
        f"`make test` on {mt['cores']} cores."
    )
    return "\n\n".join([table, growth, _table(["review", "test time"], rows)])


def _generic(part: dict[str, Any], name: str) -> str:
    head = ["case", "mode", "ours", "reference", "ours ÷ reference"]
    rows = [
        (r["case"], r.get("mode", ""), duration(r["ours_s"]), duration(r["reference_s"]), f"{r['ratio']:.2f}")
        for r in part["rows"]
    ]
    if not any(r.get("mode") for r in part["rows"]):
        head, rows = head[:1] + head[2:], [r[:1] + r[2:] for r in rows]
    target = [f"Target: ours ÷ reference ≤ {part['target']} in every row."] if "target" in part else []
    return "\n\n".join([_table(head, rows), *target, f"![{part['what']}]({figure(name)})"])


def _machine(results: dict[str, Any], parts: list[str]) -> str:
    m = results.get("machine") or {}
    if not m:
        return "Not recorded."
    v = m.get("versions", {})
    rows = [
        ("CPU", f"{m['cpu']}, {m['cores']} cores, {m.get('memory_gib')} GiB memory"),
        ("GPU", m.get("gpu") or "none"),
        ("OS", m["os"]),
        ("Python", m["python"]),
        ("torch", f"{v.get('torch')} ({m['torch_threads']} thread)"),
        (
            "Allocator",
            "glibc malloc, keeping freed memory (mallopt)"
            if results.get("keep_freed_memory")
            else "glibc malloc, defaults",
        ),
    ]
    rows += [
        (name, v.get(name) or "not installed")
        for name in (
            "numpy",
            "torchfm",
            "transformers",
            "mkdocs",
            "mkdocs-material",
            "mkdocstrings-python",
            "pymdown-extensions",
            "matplotlib",
        )
    ]
    load_text = f"{_load(results.get('load_start'))} / {_load(results.get('load_end'))}"
    dates = "; ".join(f"{name}: {(results.get(name) or {}).get('date', 'an earlier run')}" for name in parts)
    rows += [
        ("Load average at the start / end of the last run", load_text),
        ("Last run", f"{m['date']}, {duration(results.get('duration_s'))}"),
        ("Parts measured on", dates),
    ]
    return _table(["Component", "Value"], rows)


SPECIFIC: dict[str, Callable[[dict[str, Any]], str]] = {
    "fm": _fm,
    "scalarmix": _scalarmix,
    "electra": _electra,
    "site_build": _site_build,
    "math_build": _math_build,
    "make_test": _make_test,
}


def blocks(results: dict[str, Any], parts: Iterable[str]) -> dict[str, Block]:
    """Every generated block: the summary, one per part (``Not measured`` when it did not run), the machine."""
    parts = list(parts)
    out: dict[str, Block] = {"summary": ("Targets", _summary(results))}
    for name in parts:
        part = results.get(name) or {"skipped": "not run"}
        title = str(part.get("what", name))
        why = unavailable(part)
        if why:
            body = f"Not measured in this run ({why})."
        elif name in SPECIFIC:
            body = SPECIFIC[name](part)
        elif is_generic(part):
            body = _generic(part, name)
        else:
            body = "The results of this part have no renderer (see `bench/page.py`); they are in `results.json`."
        out[name] = (title, body)
    out["machine"] = ("Machine", _machine(results, parts))
    return out


def _spans(text: str) -> dict[str, tuple[int, int]]:
    """Name -> (start, end) of the text between each block's two markers; malformed markers raise ValueError."""
    spans: dict[str, tuple[int, int]] = {}
    open_name, open_end = None, 0
    for m in _MARKER.finditer(text):
        kind, name = m.groups()
        if kind == "start":
            if open_name is not None:
                raise ValueError(f"{PAGE}: '{m.group(0)}' inside the block '{open_name}'")
            if name in spans:
                raise ValueError(f"{PAGE}: two blocks named '{name}'")
            open_name, open_end = name, m.end()
        elif name != open_name:
            raise ValueError(f"{PAGE}: '{m.group(0)}' without its start marker")
        else:
            spans[name] = (open_end, m.start())
            open_name = None
    if open_name is not None:
        raise ValueError(f"{PAGE}: the block '{open_name}' has no end marker")
    return spans


def update(text: str, generated: dict[str, Block]) -> str:
    """``text`` with each generated block between its markers; every character outside them is kept.

    Blocks without markers go, each under its heading, into the ``other`` block; a page without ``other``
    markers then raises ValueError naming the markers to add. Blocks of the page that were not generated are
    left as they are.
    """
    spans = _spans(text)
    bodies = {name: body for name, (_, body) in generated.items() if name in spans}
    homeless = [(title, body) for name, (title, body) in generated.items() if name not in spans]
    if OTHER in spans and OTHER not in generated:
        bodies[OTHER] = "\n\n".join(f"## {title}\n\n{body}" for title, body in homeless)
    elif homeless:
        names = ", ".join(name for name in generated if name not in spans)
        raise ValueError(
            f"{PAGE} has no markers for {names}: add '<!-- bench:start {OTHER} -->' and "
            f"'<!-- bench:end {OTHER} -->' (or the blocks' own markers)"
        )
    out, last = [], 0
    for name, (start, end) in sorted(spans.items(), key=lambda item: item[1]):
        if name not in bodies:
            continue
        out += [text[last:start], f"\n\n{bodies[name]}\n\n" if bodies[name] else "\n"]
        last = end
    out.append(text[last:])
    return "".join(out)


def write(results: dict[str, Any], parts: Iterable[str], root: Path) -> Path:
    """Rewrite the generated blocks of the page at ``root / PAGE``."""
    path = root / PAGE
    path.write_text(update(path.read_text(encoding="utf-8"), blocks(results, parts)), encoding="utf-8")
    return path
