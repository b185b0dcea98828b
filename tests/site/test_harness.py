"""The test harness itself: CI's shards split the suite exactly, the browser sample is fixed, one build is shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.reviews import Review, read_front_matter
from tests.browser.support import sample_of
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
