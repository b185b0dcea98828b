"""Helpers shared by the test suites: build the site, copy the project, list pages, share one build per session."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["mkdocs.yml", "bibliography.bib", "README.md", "CONTRIBUTING.md", "docs", "snippets", "kbsite"]
BUILD_TIMEOUT_S = 600


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    site: Path


def _build_command(site: Path, env: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    base = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    base.pop("SITE_URL", None)
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    return command, {**base, **(env or {})}


def build_site(project: Path, site: Path, env: Mapping[str, str] | None = None) -> Build:
    """Run ``mkdocs build --strict`` for the project at ``project`` into ``site``.

    ``SITE_URL`` from the caller's environment is ignored; pass it in ``env`` (extra variables for the build).
    """
    command, full_env = _build_command(site, env)
    proc = subprocess.run(
        command, cwd=project, env=full_env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
    )
    return Build(proc.returncode, proc.stdout + proc.stderr, site)


def copy_project(dest: Path) -> Path:
    """A throw-away copy of what the site build reads, for tests that break it on purpose."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with 1 <= K <= N; ``ValueError`` otherwise."""
    k, _, n = spec.partition("/")
    try:
        shard = int(k), int(n)
    except ValueError:
        shard = (0, 0)
    if not 1 <= shard[0] <= shard[1]:
        raise ValueError(f"a shard is K/N with 1 <= K <= N, got {spec!r}")
    return shard


def in_shard(index: int, k: int, n: int) -> bool:
    """Whether the test at ``index`` of the collection belongs to shard ``k`` of ``n``: tests are dealt out in turn,
    so every shard gets an even share of each kind of test (the browser tests are collected together)."""
    return index % n == k - 1


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.parts)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    block_on_close = False  # never wait on a browser's idle keep-alive connection at shutdown
    daemon_threads = True


class SiteServer:
    """Serve a folder on 127.0.0.1 from a thread. The port is reserved on creation, so the site can be built for
    its address (``site_url``) before it exists; requests made before then get 404."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._server = _Server(("127.0.0.1", 0), handler)  # port 0: a free port, reserved from now on
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="kb-site-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class SharedBuild:
    """One ``mkdocs build --strict`` of the project per test session, shared by every process of the session.

    ``folder`` is the session's shared folder and ``url`` the address the site is served from (its ``site_url``:
    Material's instant navigation needs it to match). The first process to call :meth:`start` claims the build (an
    exclusively created file, so two pytest-xdist workers never both build) and runs it in a background thread, so
    that process goes on with other tests; :meth:`result` waits for the outcome, in any process.
    """

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url
        self.site = folder / "site"
        self._claim = folder / "build.claimed"
        self._result = folder / "build.json"
        self._proc: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the build unless some process of the session already has."""
        if self._thread is not None:
            return
        try:
            os.close(os.open(self._claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        command, env = _build_command(self.site, {"SITE_URL": self.url})
        self._proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._thread = threading.Thread(target=self._finish, name="kb-site-build", daemon=True)
        self._thread.start()

    def _finish(self) -> None:
        assert self._proc is not None
        try:
            output, _ = self._proc.communicate(timeout=BUILD_TIMEOUT_S)
            outcome = {"returncode": self._proc.returncode, "output": output}
        except subprocess.TimeoutExpired:
            self._proc.kill()
            outcome = {"returncode": -1, "output": f"mkdocs build did not finish in {BUILD_TIMEOUT_S} s"}
        partial = self._result.with_suffix(".partial")
        partial.write_text(json.dumps(outcome), encoding="utf-8")
        partial.replace(self._result)  # atomic: a reader sees the whole outcome or none

    def result(self) -> Build:
        """The build's outcome, starting it if no process has, waiting for it if it is running."""
        self.start()
        deadline = time.monotonic() + BUILD_TIMEOUT_S + 30
        while not self._result.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the shared site build ({self.folder}) gave no result in {BUILD_TIMEOUT_S} s")
            time.sleep(0.05)
        outcome = json.loads(self._result.read_text(encoding="utf-8"))
        return Build(outcome["returncode"], outcome["output"], self.site)

    def stop(self, wait: bool = True) -> None:
        """End this process's part: wait for the build it started (other processes may need it), or kill it."""
        if self._proc is not None and not wait:
            self._proc.kill()
        if self._thread is not None:
            self._thread.join()
