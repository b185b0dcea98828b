"""The author's loop: how long ``make serve`` takes to show an edit of one review, on a site of N reviews.

In a temporary copy of the project, N synthetic reviews are added: copies of ``docs/reviews/fm.md`` under the
slugs ``synth_0001``... (each with its own tiny snippet module, since the build generates an API page per review),
spread over the topics. ``mkdocs serve --dirty`` (what ``make serve`` runs) is started on 127.0.0.1 and left to
finish its first, full build. Then, ``edits`` times, a sentence with a fresh token is appended to one review and
the served page is polled until the token appears: the time from the file write to the page that shows it is what
an author waits after saving. The server is stopped at the end; nothing outside the temporary folder is touched.

Run alone with ``python -m bench.serve_reload [N]``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from kbsite.reviews import TOPICS
from tests.helpers import copy_project

REVIEWS = 1000
EDITS = 5
POLL_S = 0.05
FIRST_BUILD_TIMEOUT_S = 900
EDIT_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_synthetic_reviews(project: Path, n: int) -> list[str]:
    """N copies of the FM review, each with its own module, cycling over the topics; returns the slugs."""
    template = (project / "docs" / "reviews" / "fm.md").read_text(encoding="utf-8")
    module = (
        '"""Synthetic module {i} of the build benchmarks."""\n\n\n'
        'def f(x: int) -> int:\n    """x + {i}."""\n    return x + {i}\n'
    )
    topics = list(TOPICS)
    slugs = []
    for i in range(1, n + 1):
        slug = f"synth_{i:04d}"
        text = template.replace("snippets.fm\n", f"snippets.{slug}\n", 1)
        text = text.replace("title: Factorization Machines", f"title: Synthetic review {i:04d}", 1)
        text = text.replace("topic: recommender systems", f"topic: {topics[i % len(topics)]}", 1)
        (project / "docs" / "reviews" / f"{slug}.md").write_text(text, encoding="utf-8")
        (project / "snippets" / f"{slug}.py").write_text(module.format(i=i), encoding="utf-8")
        slugs.append(slug)
    return slugs


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - 127.0.0.1 only
            return response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _wait_for(url: str, token: str, timeout: float) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        body = _get(url)
        if body is not None and token in body:
            return time.perf_counter() - start
        time.sleep(POLL_S)
    return None


def run(quick: bool = False, reviews: int | None = None) -> dict[str, object]:
    n = reviews or (50 if quick else REVIEWS)
    edits = 2 if quick else EDITS
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="kb-bench-serve-") as tmp:
        project = copy_project(Path(tmp) / "project")
        slugs = add_synthetic_reviews(project, n)
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"}
        log = open(Path(tmp) / "serve.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
        start = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-a", f"127.0.0.1:{port}"],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            target = slugs[len(slugs) // 2]
            url = f"http://127.0.0.1:{port}/reviews/{target}/"
            first = _wait_for(url, "Synthetic review", FIRST_BUILD_TIMEOUT_S)
            if first is None:
                raise RuntimeError(f"mkdocs serve did not serve {url} within {FIRST_BUILD_TIMEOUT_S} s")
            first_build_s = time.perf_counter() - start
            page = project / "docs" / "reviews" / f"{target}.md"
            times = []
            for k in range(edits):
                token = f"edit-token-{k}-{time.time_ns()}"
                time.sleep(1.0)  # a distinct modification time, and the server idle again
                with page.open("a", encoding="utf-8") as handle:
                    handle.write(f"\nAn edit by the author: {token}.\n")
                waited = _wait_for(url, token, EDIT_TIMEOUT_S)
                times.append(waited if waited is not None else float("inf"))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        tail = (Path(tmp) / "serve.log").read_text(encoding="utf-8")[-2000:]
    return {
        "reviews": n,
        "pages": None,
        "first_build_s": round(first_build_s, 1),
        "edit_to_page_s": [round(t, 2) for t in times],
        "median_s": round(statistics.median(times), 2),
        "max_s": round(max(times), 2),
        "target_s": 3.0,
        "log_tail": tail,
    }


if __name__ == "__main__":
    result = run(reviews=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print({k: v for k, v in result.items() if k != "log_tail"})
