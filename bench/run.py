"""Entry point of ``make bench``: run every benchmark, write bench/results.json, regenerate docs/benchmarks.md.

Usage: ``python bench/run.py [--quick] [--only PART,...] [--no-page | --page-only]``, with the parts
fm, scalarmix, electra, site_build and make_test (all by default).

* ``--quick``: few repeats and small sizes, for a smoke run (the page then says the numbers are not real);
* ``--only``: run the named parts and keep the other parts' results from the existing results.json;
* ``--no-page``: write the JSON only;
* ``--page-only``: run nothing, regenerate the page and plots from the existing results.json.

Torch runs single-threaded (``torch.set_num_threads(1)``) so that the numbers do not depend on how many cores the
other processes of the machine leave free, and glibc keeps freed memory for reuse (``timing.keep_freed_memory``).
A part whose snippet is missing is recorded as skipped with the reason, a part that fails as an error; the other
parts still run, and the exit status is 1 if any part failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(1, str(ROOT))  # after bench/ itself, so `import fm` is bench/fm.py and `snippets.fm` the snippet

import torch  # noqa: E402

import report  # noqa: E402
from timing import Skip, keep_freed_memory, load, machine, release_memory  # noqa: E402

PARTS = ["fm", "scalarmix", "electra", "site_build", "make_test"]
RESULTS = BENCH / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--no-page", action="store_true")
    parser.add_argument("--page-only", action="store_true")
    args = parser.parse_args(argv)
    if args.page_only:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        results["targets"] = report.targets(results)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        for path in report.write(results, ROOT):
            print(f"bench: wrote {path.relative_to(ROOT)}", flush=True)
        return 0
    only = [p for p in args.only.split(",") if p]
    unknown = set(only) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown parts {sorted(unknown)}; choose from {PARTS}")

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    results: dict[str, object] = {}
    if set(only) != set(PARTS) and RESULTS.is_file():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["keep_freed_memory"] = keep_freed_memory()
    start = time.perf_counter()
    results["machine"] = machine()
    results["quick"] = args.quick
    results["load_start"] = load()
    failed = False
    for name in PARTS:
        if name not in only:
            continue
        print(f"bench: {name} ...", flush=True)
        part_start = time.perf_counter()
        try:
            results[name] = importlib.import_module(name).run(quick=args.quick)
        except Skip as exc:
            results[name] = {"skipped": str(exc)}
        except Exception as exc:  # recorded on the page; the other parts still run
            failed = True
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}
        results[name]["seconds"] = round(time.perf_counter() - part_start, 1)
        release_memory()
        print(f"bench: {name} done in {results[name]['seconds']} s", flush=True)
    results["load_end"] = load()
    results["duration_s"] = round(time.perf_counter() - start, 1)
    results["targets"] = report.targets(results)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"bench: wrote {RESULTS.relative_to(ROOT)}", flush=True)
    if not args.no_page:
        for path in report.write(results, ROOT):
            print(f"bench: wrote {path.relative_to(ROOT)}", flush=True)
    for t in results["targets"]:
        print(f"  {t['status']:>4}  {t['what']}: {t['measured']} (target {t['target']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
