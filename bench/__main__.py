"""``python -m bench``: run the benchmarks, write bench/results.json, redraw the figures and the page's blocks.

Usage: ``python -m bench [--quick] [--only PART,...] [--no-page | --page-only]``, with the parts of
:data:`bench.PARTS` (all by default).

* ``--quick``: few repeats and small sizes, for a smoke run (the page then says the numbers are not real);
* ``--only``: run the named parts and keep the other parts' results from the existing results.json;
* ``--no-page``: write the JSON only;
* ``--page-only``: run nothing; re-evaluate the targets and redraw the figures and the page from results.json.

Torch runs single-threaded (``torch.set_num_threads(1)``) so that the numbers do not depend on how many cores the
other processes of the machine leave free, and glibc keeps freed memory for reuse (``timing.keep_freed_memory``).
A part that cannot run here is recorded as skipped with the reason, a part that fails as an error; the other
parts still run, and the exit status is 1 if any part failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from typing import Any

from bench import PARTS, RESULTS, ROOT, page, plots, targets
from bench.timing import Skip, keep_freed_memory, load, machine, release_memory


def _run_part(name: str, quick: bool) -> tuple[dict[str, Any], bool]:
    """A part's results and whether it failed."""
    start = time.perf_counter()
    failed = False
    try:
        module = importlib.import_module(f"bench.{name}")
        result = module.run(quick=quick)
    except Skip as exc:
        result = {"skipped": str(exc)}
    except Exception as exc:  # noqa: BLE001 - recorded on the page; the other parts still run
        failed = True
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result, failed


def save(results: dict[str, Any]) -> None:
    """Evaluate the targets into ``results`` and write results.json."""
    results["targets"] = targets.evaluate(results, PARTS)
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"bench: wrote {RESULTS.relative_to(ROOT)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts among {','.join(PARTS)}")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--no-page", action="store_true", help="write results.json only")
    group.add_argument("--page-only", action="store_true", help="run nothing; redraw from results.json")
    args = parser.parse_args(argv)

    failed = False
    if args.page_only:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    else:
        only = [p for p in args.only.split(",") if p]
        unknown = set(only) - set(PARTS)
        if unknown:
            parser.error(f"--only: unknown parts {sorted(unknown)}; choose from {PARTS}")
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
        results = {}
        if set(only) != set(PARTS) and RESULTS.is_file():
            results = json.loads(RESULTS.read_text(encoding="utf-8"))
        results["keep_freed_memory"] = keep_freed_memory()
        start = time.perf_counter()
        results.update(machine=machine(), quick=args.quick, load_start=load())
        for name in (p for p in PARTS if p in only):
            print(f"bench: {name} ...", flush=True)
            results[name], part_failed = _run_part(name, args.quick)
            results[name]["date"] = results["machine"]["date"]
            failed |= part_failed
            release_memory()
            print(f"bench: {name} done in {results[name]['seconds']} s", flush=True)
        results.update(load_end=load(), duration_s=round(time.perf_counter() - start, 1))

    save(results)
    if not args.no_page:
        for path in [*plots.draw(results, PARTS, ROOT), page.write(results, PARTS, ROOT)]:
            print(f"bench: wrote {path.relative_to(ROOT)}", flush=True)
    for t in results["targets"]:
        print(f"  {t['status']:>5}  {t['what']}: {t['measured']} (target {t['target']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
