"""Fixtures of the browser tests: the site served on 127.0.0.1, one Chromium per process, a recorded context per test.

The tests need Debian's Chromium headless shell (/usr/bin/chromium-headless-shell; /usr/bin/chromium is the fallback),
or the build ``KB_CHROMIUM`` names (Playwright never downloads a browser here). Without one they are skipped, except
where ``CI`` is set: there a missing browser fails the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.accessibility import share_judged_paths
from tests.browser.support import (
    CHROMIUM,
    INSTALL_HINT,
    LAUNCH_ARGS,
    NetLog,
    Relay,
    Report,
    Served,
    SharedTab,
    in_ci,
    recorded_context,
    use_small_search_index,
)
from tests.helpers import Build


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        message = f"the browser tests need Chromium at {CHROMIUM}; install it, as root, with `{INSTALL_HINT}`"
        if in_ci():
            pytest.fail(f"CI is set, so {message}", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def served(chromium: Path, built_site: Build, site_url: str) -> Served:
    """The session's one strict build, served on 127.0.0.1 at the address it was built for (tests/conftest.py)."""
    if built_site.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built_site.output}", pytrace=False)
    return Served(site_url, built_site.site)


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    """One Chromium per test process (with pytest-xdist, one per worker), for all of its tests."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def report(served: Served, session_folder: Path) -> Iterator[Report]:
    """What this process's tests record; tests/conftest.py merges every process's part into build/browser/. (The
    accessibility checks of the session's processes share the styling paths they have judged from here on.)"""
    share_judged_paths(session_folder / "axe-judged")
    rep = Report()
    yield rep
    parts = session_folder / "reports"
    parts.mkdir(exist_ok=True)
    (parts / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json").write_text(
        json.dumps(rep.to_json()), encoding="utf-8"
    )


@pytest.fixture
def net(served: Served, report: Report) -> Iterator[NetLog]:
    """What the test's browser context requested and what went wrong (console errors included)."""
    log = NetLog(served.origin)
    yield log
    report.add(log)


@pytest.fixture
def context(browser: Browser, served: Served, net: NetLog) -> Iterator[BrowserContext]:
    """A fresh context (empty cache and storage) whose every request is recorded; other hosts are aborted."""
    ctx = recorded_context(browser, served, net)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def _shared_context(browser: Browser, served: Served) -> Iterator[tuple[SharedTab, Relay]]:
    relay = Relay()
    ctx = recorded_context(browser, served, relay)
    use_small_search_index(ctx, served)  # every page it loads is checked, none searched
    yield SharedTab(ctx), relay
    ctx.close()


@pytest.fixture
def page_of_shared_context(_shared_context: tuple[SharedTab, Relay], net: NetLog) -> Iterator[Page]:
    """The one tab of the worker's one shared context (:class:`SharedTab`), for the tests that check one page load:
    the page checks and the review pages (whose clicks, on the sampled reviews, stay on the page). Its pages get
    a search index of no documents (:func:`tests.browser.support.use_small_search_index`). The page's
    requests and errors go to this test's NetLog, up to the tab's return to about:blank after the test."""
    tab, relay = _shared_context
    relay.log = net
    try:
        yield tab.page()
    finally:
        try:
            tab.reset()
        finally:
            relay.log = None  # later events (none are expected on about:blank) reach no test
