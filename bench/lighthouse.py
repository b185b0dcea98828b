"""Entry point of ``make lighthouse``: Lighthouse 12 on every review page, served as a static host serves the site.

Usage: ``python bench/lighthouse.py [--runs N] [--page PATH ...] [--no-page]``.

1. Builds the site strictly (``mkdocs build --strict``) into ``build/lighthouse/site`` for the address it is served
   from, and serves it on 127.0.0.1 from a thread: files as they are, ``index.html`` for a directory, ``404.html``
   with status 404 for anything missing, and text formats (HTML, CSS, JS, JSON, SVG, XML) gzip-compressed when the
   browser accepts it, with ``Vary: Accept-Encoding`` and a ten-minute ``Cache-Control``, as GitHub Pages does.
2. Installs Lighthouse (``lighthouse@12.8.2`` from the npm registry) into ``build/node/`` (git-ignored) unless that
   version is already there, and runs it on the home page and on every review with Debian's Chromium
   (``CHROME_PATH``, ``/usr/bin/chromium`` by default; ``--headless=new --no-sandbox``) and Lighthouse's default
   configuration: the mobile preset, with simulated throttling (slow 4G, 4x CPU slowdown).
3. Writes the table (scores, total blocking time, cumulative layout shift, largest contentful paint and page weight)
   with the date and the tool versions between ``<!-- lighthouse:start -->`` and ``<!-- lighthouse:end -->`` in
   ``docs/benchmarks.md`` (appended as a section the first time), and the raw reports to ``build/lighthouse/``.

With ``--runs N`` every page is measured N times and the run with the median performance score is reported. The exit
status is 1 when a review misses a target: accessibility, best practices and SEO 100; performance at least 90 on
every review and a median of at least 95; cumulative layout shift at most 0.02; total blocking time at most 150 ms;
page weight at most 200 kB (gzip, first view, the search index and its worker aside). Not part of ``make test``: it
needs Node.js 18.16 or later, npm and the npm registry the first time, and takes minutes.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import mimetypes
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

from kbsite.reviews import load_reviews  # noqa: E402
from tests.helpers import build_site  # noqa: E402

LIGHTHOUSE = "12.8.2"
NODE_DIR = ROOT / "build" / "node"
OUT = ROOT / "build" / "lighthouse"
PAGE = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"
CHROME = os.environ.get("CHROME_PATH") or os.environ.get("KB_CHROMIUM") or "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Targets for every review page; the home page is measured for reference.
PERFORMANCE_MIN, PERFORMANCE_MEDIAN, CLS_MAX, TBT_MAX_MS, WEIGHT_MAX = 90, 95, 0.02, 150.0, 200_000
# Left out of the page weight, as in the browser tests: search loads these in a worker, off the first view's path.
WEIGHT_EXCLUDED = re.compile(r"/search/search_index\.json$|/assets/javascripts/workers/search\.[^/]*\.js$")
COMPRESSIBLE = {
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "text/plain",
}


class StaticHandler(BaseHTTPRequestHandler):
    """A static host: GET and HEAD of files under ``directory``, gzip for text when the client accepts it."""

    directory: Path
    protocol_version = "HTTP/1.1"  # keep-alive, as every static host does
    _gzipped: ClassVar[dict[Path, bytes]] = {}
    _lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _resolve(self) -> tuple[int, Path | None]:
        path = unquote(urlsplit(self.path).path)
        target = (self.directory / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.directory):
            return 404, None
        if target.is_dir():
            if not path.endswith("/"):
                return 301, target
            target = target / "index.html"
        if target.is_file():
            return 200, target
        missing = self.directory / "404.html"
        return 404, missing if missing.is_file() else None

    def _send(self, head_only: bool) -> None:
        status, target = self._resolve()
        if status == 301:
            self.send_response(301)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if target is None:
            body, ctype = b"Not found", "text/plain"
        else:
            body = target.read_bytes()
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(status)
        if target is not None and target.suffix == ".woff2":
            ctype = "font/woff2"
        self.send_header("Content-Type", ctype + ("; charset=utf-8" if ctype.startswith("text/") else ""))
        if ctype in COMPRESSIBLE:
            self.send_header("Vary", "Accept-Encoding")
            if "gzip" in self.headers.get("Accept-Encoding", "") and target is not None:
                with self._lock:
                    if target not in self._gzipped:
                        self._gzipped[target] = gzip.compress(body, compresslevel=6, mtime=0)
                    body = self._gzipped[target]
                self.send_header("Content-Encoding", "gzip")
        self.send_header("Cache-Control", "max-age=600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def serve(site: Path) -> tuple[_Server, str]:
    """Serve ``site`` from a thread on a free port of 127.0.0.1; returns the server and its URL."""
    handler = type("Handler", (StaticHandler,), {"directory": site.resolve(), "_gzipped": {}})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="lighthouse-site", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def lighthouse_bin() -> Path:
    """Lighthouse from ``build/node/``, installed there from the npm registry if that version is missing."""
    package = NODE_DIR / "node_modules" / "lighthouse" / "package.json"
    if not package.is_file() or json.loads(package.read_text(encoding="utf-8")).get("version") != LIGHTHOUSE:
        npm = shutil.which("npm")
        if npm is None:
            sys.exit(
                "make lighthouse needs Node.js (18.16 or later) and npm: install them, e.g. "
                "`apt-get install -y nodejs npm`"
            )
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing lighthouse@{LIGHTHOUSE} into {NODE_DIR.relative_to(ROOT)}/ ...", flush=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(NODE_DIR),
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                f"lighthouse@{LIGHTHOUSE}",
            ],
            check=True,
        )
    return NODE_DIR / "node_modules" / ".bin" / "lighthouse"


@dataclass
class Result:
    page: str
    scores: dict[str, int]
    tbt_ms: float
    cls: float
    lcp_ms: float
    weight: int  # bytes transferred, search index and worker aside
    weight_all: int  # Lighthouse's total byte weight
    runs: list[int]  # performance score of every run
    lhr: dict[str, Any]


def _result(page: str, lhr: dict[str, Any], runs: list[int]) -> Result:
    audits = lhr["audits"]
    requests = audits["network-requests"]["details"]["items"]
    weight = sum(
        int(r.get("transferSize") or 0) for r in requests if not WEIGHT_EXCLUDED.search(urlsplit(r["url"]).path)
    )
    return Result(
        page=page,
        scores={c: round(100 * (lhr["categories"][c]["score"] or 0)) for c in CATEGORIES},
        tbt_ms=audits["total-blocking-time"]["numericValue"],
        cls=audits["cumulative-layout-shift"]["numericValue"],
        lcp_ms=audits["largest-contentful-paint"]["numericValue"],
        weight=weight,
        weight_all=int(audits["total-byte-weight"]["numericValue"]),
        runs=runs,
        lhr=lhr,
    )


def run_lighthouse(binary: Path, url: str, page: str, runs: int) -> Result:
    """Lighthouse ``runs`` times on ``url``; the run with the median performance score."""
    reports = []
    for i in range(runs):
        out = OUT / f"{page.strip('/').replace('/', '-') or 'home'}-{i + 1}.json"
        cmd = [
            str(binary),
            url,
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            f"--only-categories={','.join(CATEGORIES)}",
        ]
        proc = subprocess.run(
            cmd, env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True, text=True, timeout=300, check=False
        )
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"lighthouse failed on {url}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        lhr = json.loads(out.read_text(encoding="utf-8"))
        if lhr.get("runtimeError"):
            raise RuntimeError(f"lighthouse: {lhr['runtimeError']}")
        reports.append(lhr)
    perf = [round(100 * (r["categories"]["performance"]["score"] or 0)) for r in reports]
    median_run = sorted(range(runs), key=lambda i: perf[i])[(runs - 1) // 2]
    return _result(page, reports[median_run], perf)


def misses(results: list[Result]) -> list[str]:
    """Every target a review misses, as a readable line."""
    reviews = [r for r in results if r.page.startswith("reviews/")]
    found = []
    for r in reviews:
        for cat in CATEGORIES[1:]:
            if r.scores[cat] < 100:
                found.append(f"{r.page}: {cat} {r.scores[cat]} < 100")
        if r.scores["performance"] < PERFORMANCE_MIN:
            found.append(f"{r.page}: performance {r.scores['performance']} < {PERFORMANCE_MIN}")
        if r.cls > CLS_MAX:
            found.append(f"{r.page}: CLS {r.cls:.3f} > {CLS_MAX}")
        if r.tbt_ms > TBT_MAX_MS:
            found.append(f"{r.page}: TBT {r.tbt_ms:.0f} ms > {TBT_MAX_MS:.0f} ms")
        if r.weight > WEIGHT_MAX:
            found.append(f"{r.page}: page weight {r.weight / 1000:.1f} kB > {WEIGHT_MAX / 1000:.0f} kB")
    if reviews:
        median = statistics.median(r.scores["performance"] for r in reviews)
        if median < PERFORMANCE_MEDIAN:
            found.append(f"median performance of the reviews {median:g} < {PERFORMANCE_MEDIAN}")
    return found


def _versions(results: list[Result]) -> dict[str, str]:
    lhr = results[0].lhr
    agent = lhr.get("environment", {}).get("hostUserAgent", "")
    chrome = re.search(r"(?:Headless)?Chrome/([0-9.]+)", agent)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    katex = re.search(r'version:"([0-9.]+)"', (ROOT / "docs/assets/katex/katex.min.js").read_text(encoding="utf-8"))
    return {
        "lighthouse": lhr.get("lighthouseVersion", LIGHTHOUSE),
        "chromium": chrome.group(1) if chrome else agent,
        "node": node,
        "katex": katex.group(1) if katex else "?",
        "benchmark_index": str(round(lhr.get("environment", {}).get("benchmarkIndex", 0))),
    }


def table(results: list[Result], runs: int, date: str) -> str:
    """The Markdown block written between the markers."""
    v = _versions(results)
    titles = {r.slug: r.title for r in load_reviews(ROOT)}
    median_note = f"The run with the median performance score of {runs} runs per page. " if runs > 1 else ""
    intro = (
        f"Measured on {date} with Lighthouse {v['lighthouse']} (mobile preset: simulated slow 4G and 4x CPU "
        f"slowdown) in Chromium {v['chromium']} (headless), Node.js {v['node']}, KaTeX {v['katex']} (math typeset "
        f"at build time); the strict build served with gzip on 127.0.0.1 by `bench/lighthouse.py`. {median_note}"
        f"Lighthouse's CPU benchmark index of this machine: {v['benchmark_index']}, load average "
        f"{os.getloadavg()[2]:.1f} over 15 minutes at the end (Lighthouse's simulated CPU slowdown multiplies any "
        "time the page waited for a core). Page weight: bytes transferred "
        "on first view, the search index and its worker aside (in brackets: everything)."
    )
    lines = [
        START,
        intro,
        "",
        "| page | performance | accessibility | best practices | SEO | TBT | CLS | LCP | page weight |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        slug = r.page.strip("/").split("/")[-1]
        name = (
            f"[{titles[slug]}](reviews/{slug}.md)"
            if slug in titles
            else ("[home](index.md)" if not r.page else f"`/{r.page}`")
        )
        perf = f"{r.scores['performance']}" + (f" ({', '.join(map(str, r.runs))})" if len(r.runs) > 1 else "")
        lines.append(
            f"| {name} | {perf} | {r.scores['accessibility']} | {r.scores['best-practices']} | "
            f"{r.scores['seo']} | {r.tbt_ms:.0f} ms | {r.cls:.3f} | {r.lcp_ms / 1000:.1f} s | "
            f"{r.weight / 1000:.0f} kB ({r.weight_all / 1000:.0f} kB) |"
        )
    found = misses(results)
    reviews = [r for r in results if r.page.startswith("reviews/")]
    median = statistics.median(r.scores["performance"] for r in reviews) if reviews else 0
    lines += [
        "",
        f"Targets for every review: performance ≥ {PERFORMANCE_MIN} (median ≥ {PERFORMANCE_MEDIAN}; here {median:g}), "
        f"accessibility, best practices and SEO 100, CLS ≤ {CLS_MAX}, TBT ≤ {TBT_MAX_MS:.0f} ms, page weight ≤ "
        f"{WEIGHT_MAX / 1000:.0f} kB. " + ("All met." if not found else "Missed: " + "; ".join(found) + "."),
        END,
    ]
    return "\n".join(lines)


def write_block(block: str, page: Path = PAGE) -> None:
    """Replace the block between the markers, or append it as a section; the rest of the page is left alone."""
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Lighthouse\n\n" + block + "\n"
    page.write_text(text, encoding="utf-8")


def page_paths(asked: list[str] | None, slugs: list[str]) -> list[str]:
    """The paths to measure, relative to the site's root as the targets read them ("reviews/<slug>/"): the pages
    asked for, with any leading "/" dropped (a "/reviews/fm/" would otherwise escape the review targets), or the
    home page and every review."""
    if asked:
        return [page.lstrip("/") for page in asked]
    return [""] + [f"reviews/{slug}/" for slug in slugs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median is reported)")
    parser.add_argument(
        "--page", action="append", help="a URL path to measure, e.g. reviews/fm/ (default: home and every review)"
    )
    parser.add_argument("--no-page", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not Path(CHROME).is_file():
        sys.exit(f"Lighthouse needs Chromium at {CHROME} (apt-get install -y chromium) or CHROME_PATH set")
    binary = lighthouse_bin()
    OUT.mkdir(parents=True, exist_ok=True)
    site = OUT / "site"
    slugs = sorted(r.slug for r in load_reviews(ROOT))
    pages = page_paths(args.page, slugs)
    server, url = serve(site)
    try:
        if site.exists():
            shutil.rmtree(site)
        print(f"building the site (strict) for {url} ...", flush=True)
        build = build_site(ROOT, site, env={"SITE_URL": url})
        if build.returncode != 0:
            print(build.output, file=sys.stderr)
            return 1
        results = []
        for page in pages:
            result = run_lighthouse(binary, url + page, page, args.runs)
            print(
                f"/{page}: {result.scores} TBT {result.tbt_ms:.0f} ms CLS {result.cls:.3f} "
                f"LCP {result.lcp_ms / 1000:.1f} s weight {result.weight / 1000:.0f} kB "
                f"(runs: {result.runs})",
                flush=True,
            )
            results.append(result)
    finally:
        server.shutdown()
        server.server_close()
    date = datetime.datetime.now(datetime.UTC).date().isoformat()
    block = table(results, args.runs, date)
    summary = [{k: v for k, v in r.__dict__.items() if k != "lhr"} for r in results]
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if not args.no_page:
        write_block(block)
        print(f"wrote the table to {PAGE.relative_to(ROOT)}")
    print(block)
    found = misses(results)
    for line in found:
        print(f"MISS {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
