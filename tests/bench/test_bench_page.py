"""The Benchmarks page generator: blocks between markers only, and any part in the generic shape rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import PARTS, RESULTS, ROOT, page, plots, targets

HAND = """# Benchmarks

Hand-written introduction with <!-- a comment --> and a [link](reviews/fm.md).

<!-- bench:start summary -->
old summary
<!-- bench:end summary -->

Prose between the blocks, kept as written.

<!-- lighthouse:start -->
| another tool's block | 1 |
<!-- lighthouse:end -->

<!-- bench:start retired -->
a block no part writes any more
<!-- bench:end retired -->

<!-- bench:start other -->
<!-- bench:end other -->

Closing hand-written text without a final newline"""

DEMO = {
    "what": "Demo kernel against its reference",
    "rows": [
        {"case": "small", "mode": "forward", "ours_s": 1e-3, "reference_s": 2e-3, "ratio": 0.5},
        {"case": "large", "mode": "forward", "ours_s": 3e-3, "reference_s": 2e-3, "ratio": 1.5},
    ],
    "target": 1.05,
}


def _outside(text: str) -> str:
    """The page with the text between each block's markers removed (the markers stay)."""
    return re.sub(r"(?s)(<!-- bench:start (\S+) -->).*?(<!-- bench:end \2 -->)", r"\1\3", text)


def test_update_changes_only_the_text_between_markers() -> None:
    new = page.update(HAND, {"summary": ("Targets", "| new | table |"), "fm": ("fm", "FM numbers")})
    assert _outside(new) == _outside(HAND)
    assert "old summary" not in new and "| new | table |" in new
    # A block without markers of its own goes, under its heading, into the `other` block.
    assert re.search(r"<!-- bench:start other -->\s+## fm\s+FM numbers\s+<!-- bench:end other -->", new)
    # Blocks that were not generated, and other tools' blocks, are left as they are.
    assert "a block no part writes any more" in new and "| another tool's block | 1 |" in new
    assert new.endswith("Closing hand-written text without a final newline")
    # Regenerating from the same data changes nothing.
    assert page.update(new, {"summary": ("Targets", "| new | table |"), "fm": ("fm", "FM numbers")}) == new


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- bench:start a -->\nno end", "has no end marker"),
        ("<!-- bench:end a -->", "without its start marker"),
        ("<!-- bench:start a -->\n<!-- bench:start b -->\n<!-- bench:end b -->\n<!-- bench:end a -->", "inside"),
        ("<!-- bench:start a -->\n<!-- bench:end a -->\n<!-- bench:start a -->\n<!-- bench:end a -->", "two blocks"),
        ("<!-- bench:start a -->\n<!-- bench:end a -->", "no markers for b"),
    ],
)
def test_update_refuses_a_page_it_cannot_update_safely(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        page.update(text, {"a": ("A", "x"), "b": ("B", "y")})


def test_a_part_in_the_generic_shape_gets_targets_a_table_and_a_figure(tmp_path: Path) -> None:
    results = {"demo": DEMO, "skipped_demo": {"skipped": "the snippet has not landed"}}
    rows = targets.evaluate(results, ["demo", "skipped_demo"])
    assert [(r["what"], r["status"]) for r in rows] == [
        ("Demo kernel against its reference: small, forward", "PASS"),
        ("Demo kernel against its reference: large, forward", "MISS"),
    ]
    blocks = page.blocks({**results, "targets": rows}, ["demo", "skipped_demo"])
    title, body = blocks["demo"]
    assert title == DEMO["what"]
    assert "| small | forward | 1 ms | 2 ms | 0.50 |" in body
    assert "![Demo kernel against its reference](assets/benchmarks/demo.svg)" in body
    assert blocks["skipped_demo"][1] == "Not measured in this run (skipped: the snippet has not landed)."
    assert (
        "| Demo kernel against its reference: large, forward | time ratio ≤ 1.05 | 1.500 | **MISS** |"
        in (blocks["summary"][1])
    )

    first = plots.draw(results, ["demo", "skipped_demo"], tmp_path)
    assert first == [tmp_path / plots.ASSETS / "demo.svg"]
    svg = first[0].read_bytes()
    plots.draw(results, ["demo"], tmp_path)
    assert first[0].read_bytes() == svg  # the figure style makes reruns byte-identical
    assert b"<dc:date>" not in svg


def _site_row(n: int, project_ms: float, bare_ms: float, pages: int) -> dict:
    def config(ms: float) -> dict:
        return {
            "cpu_ms_per_page": ms,
            "ms_per_page": ms,
            "cpu_s": ms * pages / 1000,
            "wall_s": ms * pages / 1000,
            "pages": pages,
        }

    row = {"reviews": n, "project": config(project_ms), "bare": config(bare_ms)}
    row["cpu_ratio"] = row["ratio"] = project_ms / bare_ms
    return row


def test_site_build_targets_compare_the_largest_size_with_bare_material_and_the_smallest() -> None:
    site = {"rows": [_site_row(100, 20.0, 18.0, 200), _site_row(1000, 26.0, 20.0, 2000)]}
    rows = {r["what"]: r for r in targets.evaluate({"site_build": site}, ["site_build"])}
    ratio = rows["Site build at 1000 synthetic reviews, project ÷ bare Material, CPU time"]
    growth = rows["Site build, project, CPU ms per page at 1000 ÷ at 100 reviews"]
    assert (ratio["measured"], ratio["status"]) == ("1.30×", "MISS")
    assert growth["measured"].startswith("1.30×") and growth["status"] == "MISS"
    site = {"rows": [_site_row(100, 20.0, 18.0, 200), _site_row(1000, 21.0, 19.0, 2000)]}
    assert {r["status"] for r in targets.evaluate({"site_build": site}, ["site_build"])} == {"PASS"}


def test_make_test_targets_are_wall_clock_limits_and_a_failed_suite_misses() -> None:
    def runs(full_s: float, one_s: float, rc: int = 0) -> dict:
        review = {"wall_s": one_s, "returncode": 0, "cores": 2}
        return {"make_test": {"wall_s": full_s, "returncode": rc, "cores": 2, "test_review": review}}

    rows = targets.evaluate(runs(59.0, 12.0), ["make_test"])
    assert [(r["what"], r["measured"], r["status"]) for r in rows] == [
        ("Warm `make test`, wall clock on 2 cores", "59.0 s", "PASS"),
        ("`make test-review SLUG=fm`, wall clock on 2 cores", "12.0 s", "PASS"),
    ]
    assert [r["status"] for r in targets.evaluate(runs(61.0, 21.0), ["make_test"])] == ["MISS", "MISS"]
    failed = targets.evaluate(runs(30.0, 12.0, rc=1), ["make_test"])[0]
    assert (failed["measured"], failed["status"]) == ("30.0 s (the suite failed)", "MISS")
    assert {r["status"] for r in targets.evaluate({"make_test": {"skipped": "quick run"}}, ["make_test"])} != {"PASS"}


def test_math_build_targets_judge_wall_clock_and_cpu_time_apart() -> None:
    def part(wall: float, cpu: float) -> dict:
        return {"math_build": {"overhead_wall": wall, "overhead_cpu": cpu}}

    rows = targets.evaluate(part(0.015, 0.125), ["math_build"])
    assert [(r["measured"], r["status"]) for r in rows] == [("+1.5%", "PASS"), ("+12.5%", "MISS")]
    assert [r["status"] for r in targets.evaluate(part(0.1, 0.1), ["math_build"])] == ["PASS", "PASS"]
    assert [r["status"] for r in targets.evaluate(part(0.11, 0.02), ["math_build"])] == ["MISS", "PASS"]
    assert {r["status"] for r in targets.evaluate({"math_build": {"skipped": "x"}}, ["math_build"])} != {"PASS"}


def test_make_test_reports_the_median_run_and_any_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import make_test

    walls = iter([62.0, 58.0, 70.0, 9.0, 11.0, 10.0])
    codes = iter([0, 0, 1, 0, 0, 0])

    def fake_run(command: list[str], extra_env: dict[str, str]) -> dict:
        wall, code = next(walls), next(codes)
        summary = f"{'1 failed' if code else '9 passed'} in {wall}s"
        return {
            "command": " ".join(command),
            "wall_s": wall,
            "busy_core_s": 2 * wall,
            "cores": 2,
            "returncode": code,
            "summary": summary,
            "failed": ["FAILED t.py::x"] if code else [],
            "load": [[0, 0, 0], [0, 0, 0]],
            "lines": [f"{wall}s call     tests/snippets/test_fm.py::t"],
        }

    monkeypatch.setattr(make_test, "_run", fake_run)
    out = make_test.run(runs=3)
    assert (out["wall_s"], out["walls"], out["busy"]) == (62.0, [62.0, 58.0, 70.0], [124.0, 116.0, 140.0])
    assert out["returncode"] == 1 and out["failed"] == ["FAILED t.py::x"]  # the third run failed
    assert out["by_review_s"]["fm"] == 62.0  # the durations of the median run
    assert (out["test_review"]["wall_s"], out["test_review"]["returncode"]) == (10.0, 0)
    rows = targets.evaluate({"make_test": out}, ["make_test"])
    assert rows[0]["status"] == "MISS" and "the median of 3 runs (62.0, 58.0, 70.0 s)" in rows[0]["measured"]
    assert rows[1]["status"] == "PASS"


def test_the_committed_page_shows_the_committed_results() -> None:
    """``python -m bench --page-only`` would not change docs/benchmarks.md."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert results["targets"] == targets.evaluate(results, PARTS)
    text = (ROOT / page.PAGE).read_text(encoding="utf-8")
    assert page.update(text, page.blocks(results, PARTS)) == text


def test_lighthouse_pages_asked_for_with_a_leading_slash_are_still_reviews() -> None:
    from bench import lighthouse

    assert lighthouse.page_paths(["/reviews/fm/", "reviews/als/", "/"], ["fm"]) == ["reviews/fm/", "reviews/als/", ""]
    assert lighthouse.page_paths(None, ["als", "fm"]) == ["", "reviews/als/", "reviews/fm/"]


def test_the_math_table_shows_the_builds_with_cached_formulas_when_measured() -> None:
    def build(wall: float, cpu: float) -> dict:
        return {"wall_s": wall, "cpu_s": cpu, "walls": [wall], "cpus": [cpu]}

    mb = {
        "builds_per_mode": 1,
        "math": build(3.9, 4.3),
        "no_math": build(3.8, 3.8),
        "overhead_wall": 0.026,
        "overhead_cpu": 0.132,
        "render_math": {
            "handed_over": 578,
            "pages_with_math": 13,
            "worker_cpu_s": 0.43,
            "main_thread_wall_s": 0.03,
            "cpu_s": 0.5,
        },
        "overhead_main_thread": 0.008,
        "overhead_in_process": 0.13,
        "engines": {"engines": [], "missing": []},
    }
    assert "kept by an earlier build" not in page._math_build(mb)
    mb.update(math_cached=build(3.85, 3.9), overhead_cached_wall=0.013, overhead_cached_cpu=0.026)
    text = page._math_build(mb)
    assert "| with math, the formulas kept by an earlier build | 3.85 s | 3.9 s | 3.85 |" in text
    assert "| difference from the build without math | +1.3% | +2.6% |  |" in text
