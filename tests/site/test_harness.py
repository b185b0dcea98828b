"""The test harness itself: CI's shards split the suite exactly, the browser sample is fixed, one build is shared."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from kbsite.reviews import Review, read_front_matter
from tests.browser.accessibility import JudgedPaths
from tests.browser.support import sample_of
from tests.conftest import group_scheduler, marked_groups
from tests.helpers import SharedBuild, in_shard, parse_shard


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_run_every_test_exactly_once_and_evenly(n: int) -> None:
    count = 23
    shards = [[i for i in range(count) if in_shard(i, k, n)] for k in range(1, n + 1)]
    assert sorted(i for shard in shards for i in shard) == list(range(count))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


@pytest.mark.parametrize("spec", ["0/3", "4/3", "2", "a/b", "1/0", ""])
def test_a_bad_shard_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(spec)


def _review(slug: str, topic: str) -> Review:
    text = f"---\ntitle: {slug}\ntopic: {topic}\n---\n"
    return Review(slug, Path(f"docs/reviews/{slug}.md"), f"docs/reviews/{slug}.md", text, read_front_matter(text, slug))


def test_the_sample_is_the_first_of_each_topic_and_the_last_by_slug() -> None:
    reviews = [_review(f"r{i:02d}", topic) for i, topic in enumerate("aaaabbbaaacaaa")]
    assert [r.slug for r in sample_of(reviews)] == ["r00", "r04", "r10", "r13"]
    assert [r.slug for r in sample_of(reviews[:3])] == ["r00", "r02"]
    assert [r.slug for r in sample_of(reviews[:1])] == ["r00"]
    assert sample_of([]) == []


def test_only_the_first_process_to_start_the_build_runs_it(tmp_path: Path) -> None:
    first, second = SharedBuild(tmp_path, "http://127.0.0.1:1/"), SharedBuild(tmp_path, "http://127.0.0.1:1/")
    (tmp_path / "build.claimed").touch()  # another process claimed the build: neither instance may start one
    first.start()
    second.start()
    assert first._proc is None and second._proc is None
    (tmp_path / "build.json").write_text('{"returncode": 0, "output": "built"}', encoding="utf-8")
    assert second.result().output == "built" and second.result().site == tmp_path / "site"


class _Worker:
    """What xdist's scheduler sees of a worker: the tests it is sent, and whether it was told to shut down."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices

    def shutdown(self) -> None:
        self.shutting_down = True


class _Config:
    option = SimpleNamespace(loadscopereorder=True)

    def getvalue(self, name: str) -> object:
        return {"tx": ["2*popen"], "dist": "loadgroup", "loadscopereorder": True}[name]


def test_loadgroup_deals_each_marked_group_to_one_worker(tmp_path: Path) -> None:
    # What two workers wrote as they collected: the marked tests and their group (each saw the same tests).
    marked = {"t/a.py::x": "@heavy", "t/b.py::y[1]": "@heavy", "t/b.py::y[2]": "@heavy", "t/c.py::z": "@other"}
    (tmp_path / "xdist-groups-gw0.json").write_text(json.dumps(marked), encoding="utf-8")
    (tmp_path / "xdist-groups-gw1.json").write_text(json.dumps(marked), encoding="utf-8")
    assert marked_groups(tmp_path) == marked
    collection = ["t/a.py::x", "t/a.py::free1", "t/b.py::y[1]", "t/b.py::y[2]", "t/c.py::z", "t/c.py::free2"]
    scheduler = group_scheduler(_Config(), None, tmp_path)
    workers = [_Worker("gw0"), _Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    while scheduler.workqueue:  # each worker asks for more as it finishes what it has
        for worker in workers:
            for index in list(worker.sent):
                scheduler.mark_test_complete(worker, index)
    dealt = {w.gateway.id: {collection[i] for i in w.sent} for w in workers}
    assert dealt["gw0"] | dealt["gw1"] == set(collection) and not dealt["gw0"] & dealt["gw1"]
    heavy = {"t/a.py::x", "t/b.py::y[1]", "t/b.py::y[2]"}
    assert heavy <= dealt["gw0"] or heavy <= dealt["gw1"]  # the group stayed together
    assert scheduler._split_scope("t/a.py::free1") == "t/a.py::free1"  # unmarked: a unit of its own


def test_this_run_groups_the_tests_that_compare_with_transformers(request: pytest.FixtureRequest) -> None:
    """In make test (pytest-xdist, --dist loadgroup), the worker wrote the group of every test of the modules marked
    xdist_group("transformers"), and of no other test."""
    config = request.config
    if getattr(config, "workerinput", None) is None or not config.getvalue("loadgroup"):
        pytest.skip("runs under pytest-xdist with --dist loadgroup (make test)")
    folder = Path(config.workerinput["kb_folder"])
    groups = json.loads((folder / f"xdist-groups-{config.workerinput['workerid']}.json").read_text(encoding="utf-8"))
    expected = {
        item.nodeid: "@transformers"
        for item in request.session.items
        if any(m.args == ("transformers",) for m in item.iter_markers("xdist_group"))
    }
    assert groups == expected
    assert request.node.nodeid not in groups
    albert = [
        item.nodeid for item in request.session.items if item.nodeid.startswith("tests/snippets/test_albert.py::")
    ]
    assert all(groups[n] == "@transformers" for n in albert)
    # The reviews' code blocks that import transformers (pytest-codeblocks items) are in the group too.
    blocks = [
        item.nodeid
        for item in request.session.items
        if "from transformers import" in str(getattr(getattr(item, "obj", None), "code", ""))
    ]
    assert any(n.startswith("docs/reviews/bert.md::") for n in blocks)
    assert all(groups.get(n) == "@transformers" for n in blocks)


def test_processes_share_the_styling_paths_they_have_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path one worker's accessibility check has judged counts as judged in the others, per scheme, once its
    record is complete; a record still being written is not read."""
    workers = {}
    for name in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", name)
        workers[name] = JudgedPaths()
        workers[name].share(tmp_path / "judged")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    workers["gw0"].add("light", ["text body>P", "link body>P>A"])
    workers["gw0"].add("dark", ["text body>H1"])
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert workers["gw1"].paths("light") == {"text body>P", "link body>P>A"}
    assert workers["gw1"].paths("dark") == {"text body>H1"}
    with (tmp_path / "judged" / "gw0.light.jsonl").open("a", encoding="utf-8") as out:
        out.write('["text body>UL>LI"')  # gw0 in the middle of a write
    assert workers["gw1"].paths("light") == {"text body>P", "link body>P>A"}
    assert JudgedPaths().paths("light") == set()  # a process that shares nothing sees only its own
