"""Fixtures of the browser tests: the site built for and served on 127.0.0.1, one Chromium, a recorded context per test.

The tests need Debian's Chromium at /usr/bin/chromium, or the build ``KB_CHROMIUM`` names (Playwright never downloads
a browser here). Without it they are skipped, except where ``CI`` is set: there a missing browser fails the run.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.support import (
    CHROMIUM,
    INSTALL_HINT,
    LAUNCH_ARGS,
    VIEWPORT,
    NetLog,
    Report,
    Served,
    in_ci,
)
from tests.helpers import ROOT, build_site


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    block_on_close = False  # never wait on a browser's idle keep-alive connection at shutdown


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        message = f"the browser tests need Chromium at {CHROMIUM}; install it, as root, with `{INSTALL_HINT}`"
        if in_ci():
            pytest.fail(f"CI is set, so {message}", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def served(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Pick a free port, build the site (strict) for that address into a temp dir, serve it from a thread."""
    site = tmp_path_factory.mktemp("browser-site")
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)  # binding port 0 reserves a free port for the build below
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    build = build_site(ROOT, site, env={"SITE_URL": url})
    if build.returncode != 0:
        server.server_close()
        pytest.fail(f"mkdocs build --strict failed:\n{build.output}", pytrace=False)
    thread = threading.Thread(target=server.serve_forever, name="kb-site-server", daemon=True)
    thread.start()
    yield Served(url, site)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    """One Chromium for the whole session."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def report(served: Served) -> Iterator[Report]:
    rep = Report()
    yield rep
    rep.write()


@pytest.fixture
def net(served: Served, report: Report) -> Iterator[NetLog]:
    """What the test's browser context requested and what went wrong (console errors included)."""
    log = NetLog(served.origin)
    yield log
    report.add(log)


@pytest.fixture
def context(browser: Browser, served: Served, net: NetLog) -> Iterator[BrowserContext]:
    """A fresh context (empty cache and storage) whose every request is recorded; other hosts are aborted."""
    ctx = browser.new_context(base_url=served.url, viewport=VIEWPORT, color_scheme="light")
    ctx.set_default_timeout(10_000)
    log = net
    # Nothing leaves the machine: any URL outside the served origin is aborted before it is sent.
    ctx.route(re.compile(r"^(?!" + re.escape(served.origin) + r"(/|$))"), lambda route: route.abort("blockedbyclient"))
    ctx.on("request", log.on_request)
    ctx.on("requestfinished", log.on_request_finished)
    ctx.on("requestfailed", log.on_request_failed)
    ctx.on("response", log.on_response)
    ctx.on("console", log.on_console)
    ctx.on("weberror", lambda error: log.on_page_error(error.error))
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
