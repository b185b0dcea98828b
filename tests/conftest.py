"""Fixtures and hooks shared by every test suite: one strict site build per session, served from one address,
deterministic Hypothesis, site tests last, and ``--shard K/N`` for CI.

``make test`` runs the suite on every core with pytest-xdist. The controlling process (the only one without xdist)
creates a session folder and serves its ``site/`` on 127.0.0.1 from a thread; the workers learn folder and address
from it (``pytest_configure_node``). As soon as a process has collected a test that needs the site, the build
starts in the background (:class:`tests.helpers.SharedBuild`: the first process claims it, the others wait for its
result), and the tests that need the site are ordered last, so the snippet tests run while the site builds.
"""

from __future__ import annotations

import gc
import json
import os
import re

# Tiny tensors: one BLAS/OpenMP thread is faster and keeps the reference libraries quiet (implicit warns when
# OpenBLAS runs its own thread pool). Set before numpy or torch load their BLAS, as `make test` also does.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tests.helpers import ROOT, Build, SharedBuild, SiteServer, in_shard, parse_shard  # noqa: E402

# Hypothesis draws the same examples on every run and in every worker (no example database either), so a parallel
# or sharded run cannot fail on one machine and pass on another. HYPOTHESIS_PROFILE=random explores afresh.
settings.register_profile("kb", derandomize=True, database=None)
settings.register_profile("random", derandomize=False, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kb"))

# The checker's corpus is data (a miniature project), not tests to collect.
collect_ignore_glob = ["kbsite/corpus/*"]

SITE_FIXTURES = {"built_site", "served"}
_TRANSFORMERS_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+transformers\b", re.MULTILINE)
_SESSION = pytest.StashKey[dict[str, Any]]()  # {"folder": Path, "url": str, "server": SiteServer | None}
_BUILD = pytest.StashKey[SharedBuild]()
_REPORT = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kb").addoption(
        "--shard",
        default=os.environ.get("KB_SHARD", ""),
        metavar="K/N",
        help="run only the K-th of N interleaved shares of the collected tests (CI's parallel jobs; env KB_SHARD)",
    )


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker: the controller made the folder and serves it
        session = {"folder": Path(workerinput["kb_folder"]), "url": workerinput["kb_url"], "server": None}
    else:
        folder = Path(tempfile.mkdtemp(prefix="kb-test-session-"))
        server = SiteServer(folder / "site")
        session = {"folder": folder, "url": server.url, "server": server}
    config.stash[_SESSION] = session
    config.stash[_BUILD] = SharedBuild(session["folder"], session["url"])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: tell each worker the session folder and the site's address."""
    session = node.config.stash[_SESSION]
    node.workerinput["kb_folder"] = str(session["folder"])
    node.workerinput["kb_url"] = session["url"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("shard"):
        try:
            k, n = parse_shard(config.getoption("shard"))
        except ValueError as exc:
            raise pytest.UsageError(f"--shard (or KB_SHARD): {exc}") from exc
        config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if not in_shard(i, k, n)])
        items[:] = [item for i, item in enumerate(items) if in_shard(i, k, n)]
    # A code block of a review that imports transformers joins the modules marked xdist_group("transformers"), so
    # that one worker imports it (about 3 s of CPU), not both.
    for item in items:
        if _TRANSFORMERS_IMPORT.search(str(getattr(getattr(item, "obj", None), "code", ""))):
            item.add_marker(pytest.mark.xdist_group("transformers"))
    # Tests that need the built site last: the others run while the site builds in the background. Among them the
    # longest first and the shortest last, so that the workers are dealt short tests at the end and finish close
    # together rather than one waiting on the other's last long page.
    items.sort(key=lambda item: (bool(SITE_FIXTURES & set(getattr(item, "fixturenames", ()))), -_expected_cost(item)))
    if getattr(config, "workerinput", None) is not None and config.getvalue("loadgroup"):
        _write_groups(config, items)


# --dist loadgroup: the tests marked xdist_group("name") run together on one worker. pytest-xdist 3.8 groups them by
# a suffix it appends to each test's nodeid, which pytest 9.2 no longer lets a plugin change (Node.nodeid is derived
# from Node._id): every test became a group of its own, and each worker imported transformers. So each worker
# writes the groups of its marked tests into the session folder as it collects, and the controller's scheduler
# (pytest_xdist_make_scheduler) deals each group out as one unit.
def _write_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {}
    for item in items:
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if names:
            groups[item.nodeid] = "@" + "_".join(names)
    folder = config.stash[_SESSION]["folder"]
    partial = folder / f"xdist-groups-{config.workerinput['workerid']}.partial"
    partial.write_text(json.dumps(groups), encoding="utf-8")
    partial.replace(partial.with_suffix(".json"))


def marked_groups(folder: Path) -> dict[str, str]:
    """The group of every marked test, as the workers wrote them into the session ``folder`` (nodeid -> "@name")."""
    groups: dict[str, str] = {}
    for part in sorted(folder.glob("xdist-groups-*.json")):
        groups.update(json.loads(part.read_text(encoding="utf-8")))
    return groups


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup with the groups the workers wrote (see above); any other --dist is left to pytest-xdist."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return group_scheduler(config, log, config.stash[_SESSION]["folder"])


def group_scheduler(config: Any, log: Any, folder: Path) -> Any:
    """pytest-xdist's load-scope scheduler in which each group of marked tests (:func:`marked_groups` of ``folder``)
    is one unit of work and every other test a unit of its own. The scheduler asks for a test's unit only once
    every worker has collected, so every worker has written its groups by then."""
    from xdist.scheduler import LoadScopeScheduling

    class MarkedGroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = marked_groups(folder)
            return self.groups.get(nodeid, nodeid)

    return MarkedGroupScheduling(config, log)


def _expected_cost(item: pytest.Item) -> float:
    """A rough guess of a browser test's time, from the size of what its page is made of (only the order counts;
    a stable sort keeps the collection order among equal guesses)."""
    if "tests/browser/" not in item.nodeid:
        return 0.0
    param = getattr(item, "callspec", None)
    value = str(param.params.get("slug") or param.params.get("path") or "") if param else ""
    parts = value.strip("/").split("/")
    if "slug" in (param.params if param else {}):  # a review page
        source = ROOT / "docs" / "reviews" / f"{value}.md"
        return 2.0 + (source.stat().st_size / 20_000 if source.is_file() else 0.0)
    if len(parts) == 2 and parts[0] == "api":
        source = ROOT / "snippets" / f"{parts[1]}.py"
        return 1.0 + (source.stat().st_size / 40_000 if source.is_file() else 0.0)
    return 1.0 if param else 3.0  # another page; a test that tours several pages


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any(SITE_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items):
        session.config.stash[_BUILD].start()


@pytest.fixture(scope="session")
def built_site(request: pytest.FixtureRequest) -> Build:
    """The site as ``mkdocs build --strict`` makes it, built once per test session for every process, with
    ``site_url`` set to the address :func:`site_url` serves it from."""
    return request.config.stash[_BUILD].result()


@pytest.fixture(scope="session")
def site_url(request: pytest.FixtureRequest) -> str:
    """Where the session's site is served: ``http://127.0.0.1:PORT/``."""
    return request.config.stash[_SESSION]["url"]


@pytest.fixture(scope="session")
def session_folder(request: pytest.FixtureRequest) -> Path:
    """A folder every process of the session shares (removed at the end of the session)."""
    return request.config.stash[_SESSION]["folder"]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    config.stash[_BUILD].stop(wait=exitstatus != pytest.ExitCode.INTERRUPTED)
    if hasattr(config, "workerinput"):
        return
    # The controller: merge what each process's browser tests recorded into one report (build/browser/).
    parts = sorted((config.stash[_SESSION]["folder"] / "reports").glob("*.json"))
    if parts:
        from tests.browser.support import Report

        report = Report()
        for part in parts:
            report.absorb(json.loads(part.read_text(encoding="utf-8")))
        config.stash[_REPORT] = report.write()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT, [])
    if lines and config.getoption("capture") == "no":  # -s, as for every print of the suite
        terminalreporter.write_line("\n" + "\n".join(lines))


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None and session["server"] is not None:
        session["server"].close()
        shutil.rmtree(session["folder"], ignore_errors=True)
    # The run is over. Python's last garbage collection at exit would walk every object of torch, transformers and
    # the rest, about 1 s in a worker that imported transformers, which pytest-xdist waits for: objects alive now
    # are left out of it (what refcounting frees is still freed).
    gc.freeze()
