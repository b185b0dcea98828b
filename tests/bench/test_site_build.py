"""The site-build benchmark's reference configuration: Material with the project's mkdocstrings, on the same API
pages as files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench import page, site_build
from tests.helpers import ROOT


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml's own keys, its tags (``!ENV``, ``!relative``) as plain values and ``INHERIT`` unfollowed."""


def _tag_as_plain_value(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)


_Loader.add_multi_constructor("!", _tag_as_plain_value)


def yaml_load(text: str) -> dict:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def _plugins(text: str) -> dict:
    """Plugin name -> its options (None for a plugin listed without any)."""
    plugins = {}
    for item in yaml_load(text)["plugins"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        plugins[name] = options
    return plugins


def test_the_reference_runs_search_and_mkdocstrings_exactly_as_the_project_configures_it() -> None:
    project = _plugins((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    reference_text = site_build.mkdocstrings_config(ROOT)
    reference = _plugins(reference_text)
    assert list(reference) == ["search", "mkdocstrings"]
    assert reference["mkdocstrings"] == project["mkdocstrings"]
    assert yaml_load(reference_text)["docs_dir"] == site_build.MKDOCSTRINGS_DOCS


def test_a_plugin_without_a_block_of_its_own_is_an_error() -> None:
    with pytest.raises(ValueError, match="no plugin 'mkdocstrings'"):
        site_build.plugin_block("plugins:\n  - search\n  - mkdocstrings\n", "mkdocstrings")


def test_the_plugin_block_ends_where_its_indentation_does() -> None:
    text = "plugins:\n  - a:\n      x: 1\n\n      y: [2]\n  - b:\n      z: 3\nnav: []\n"
    assert site_build.plugin_block(text, "a") == "  - a:\n      x: 1\n\n      y: [2]\n"
    assert site_build.plugin_block(text, "b") == "  - b:\n      z: 3\n"


def test_the_reference_docs_hold_the_docs_and_one_api_page_per_module(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "reviews").mkdir(parents=True)
    (docs / "api").mkdir()
    (docs / "index.md").write_text("# Home\n", encoding="utf-8")
    (docs / "api" / "index.md").write_text("# API\n", encoding="utf-8")
    (docs / "reviews" / "index.md").write_text("# Reviews\n", encoding="utf-8")
    for slug, front in (("one", "snippet: snippets.one\n"), ("two", ""), ("three", "snippet: snippets.one\n")):
        (docs / "reviews" / f"{slug}.md").write_text(f"---\ntitle: {slug}\n{front}---\n# {slug}\n", encoding="utf-8")

    assert site_build.write_api_docs(tmp_path) == 2
    target = tmp_path / site_build.MKDOCSTRINGS_DOCS
    assert sorted(p.name for p in (target / "api").iterdir()) == ["index.md", "one.md", "two.md"]
    assert (target / "api" / "one.md").read_text(encoding="utf-8") == "::: snippets.one\n"
    assert (target / "index.md").read_text(encoding="utf-8") == "# Home\n"
    (docs / "reviews" / "four.md").write_text("---\ntitle: four\n---\n# four\n", encoding="utf-8")
    assert (target / "reviews" / "four.md").exists()  # the docs are linked, not copied
    assert site_build.write_api_docs(tmp_path) == 3  # and a second call starts afresh
    assert not (docs / "api" / "one.md").exists()  # the project's own docs are left alone


def _config(cpu: float, pages: int) -> dict:
    return {
        "cpu_s": cpu,
        "wall_s": cpu,
        "pages": pages,
        "cpu_ms_per_page": cpu / pages * 1e3,
        "ms_per_page": cpu / pages * 1e3,
        "missing_link_notices": 0,
    }


def _row(n: int, with_reference: bool) -> dict:
    row = {
        "reviews": n,
        "project": _config(3.0 * n, 2 * n),
        "bare": _config(1.0 * n, n),
        "ratio": 3.0,
        "cpu_ratio": 3.0,
    }
    if with_reference:
        row["mkdocstrings"] = _config(2.4 * n, 2 * n)
        row["mkdocstrings_cpu_ratio"] = 1.25
    return row


def test_the_page_shows_the_reference_only_when_every_size_measured_it() -> None:
    site = {"rows": [_row(100, True), _row(1000, True)], "builds_per_size": {"100": 1, "1000": 1}}
    text = page._site_build(site)
    assert "project ÷ Material + mkdocstrings (CPU)" in text and "| 1.25× |" in text
    site["rows"][0] = _row(100, False)
    assert "mkdocstrings" not in page._site_build(site)


def test_copies_that_share_a_module_replace_every_synthetic_review_and_module(tmp_path: Path) -> None:
    (tmp_path / "docs" / "reviews").mkdir(parents=True)
    (tmp_path / "snippets").mkdir()
    site_build.write_reviews(tmp_path, 3)
    assert sorted(p.name for p in (tmp_path / "snippets").iterdir()) == [f"synth_000{i}.py" for i in (1, 2, 3)]
    assert "snippet: snippets.synth_0002\n" in (tmp_path / "docs" / "reviews" / "synth_0002.md").read_text("utf-8")

    site_build.write_reviews(tmp_path, 2, shared_module=True)
    assert sorted(p.name for p in (tmp_path / "docs" / "reviews").iterdir()) == ["synth_0001.md", "synth_0002.md"]
    assert list((tmp_path / "snippets").iterdir()) == []
    text = (tmp_path / "docs" / "reviews" / "synth_0002.md").read_text("utf-8")
    assert "snippet: snippets.fm\n" in text and "synth_0002" not in text.replace("Synthetic review 0002", "")
    assert "from snippets.fm import fm_interaction" in text


def test_the_page_and_the_targets_show_the_copies_that_share_a_module() -> None:
    from bench import targets

    shared = [
        {"reviews": n, "project": _config(0.025 * n, n + 50), "bare": _config(0.01 * n, n + 20), "cpu_ratio": 2.5}
        for n in (100, 1000)
    ]
    site = {"rows": [_row(100, True), _row(1000, True)], "builds_per_size": {"100": 1, "1000": 1}}
    assert "snippets.fm" not in page._site_build(site)
    site["shared_module"] = shared
    assert "| 1000 | 1050, 1020 | 25 s | 10 s | 2.50× |" in page._site_build(site)
    rows = {r["what"]: r for r in targets.evaluate({"site_build": site}, ["site_build"])}
    row = rows[
        "Site build at 1000 copies that all name `snippets.fm` (no API page of their own), project ÷ bare "
        "Material, CPU time"
    ]
    assert (row["measured"], row["status"]) == ("2.50×", "MISS")


def test_distinct_math_gives_each_review_formulas_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "docs" / "reviews").mkdir(parents=True)
    (tmp_path / "snippets").mkdir()
    site_build.write_reviews(tmp_path, 2, distinct=True)
    pages = [(tmp_path / "docs" / "reviews" / f"synth_000{i}.md").read_text("utf-8") for i in (1, 2)]
    formulas = [set(re.findall(r"\$\$\n.*?\n\$\$|\$[^$\n]+\$", page, re.DOTALL)) for page in pages]
    assert len(formulas[0]) >= 5 and not formulas[0] & formulas[1]
    assert "w_{i,j}\\,{}^{0002}$" in pages[1] and "(4) \\quad 0002\n$$" in pages[1]
    site_build.write_reviews(tmp_path, 2)
    plain = [(tmp_path / "docs" / "reviews" / f"synth_000{i}.md").read_text("utf-8") for i in (1, 2)]
    assert {f for f in re.findall(r"\$[^$\n]+\$", plain[0])} == {f for f in re.findall(r"\$[^$\n]+\$", plain[1])}


def test_the_page_compares_distinct_formulas_with_repeated_ones() -> None:
    site = {"rows": [_row(100, False), _row(1000, False)], "builds_per_size": {"100": 1, "1000": 1}}
    site["distinct_math"] = {"reviews": 1000, "project": _config(3600.0, 2000)}
    text = page._site_build(site)
    assert "against 3,000 s and 3,000 s with the copies' repeated formulas (+20.0% CPU, +20.0% wall clock)" in text


def test_the_synthetic_review_embeds_a_section_of_its_snippet_module(tmp_path: Path) -> None:
    import markdown

    (tmp_path / "docs" / "reviews").mkdir(parents=True)
    (tmp_path / "snippets").mkdir()
    site_build.write_reviews(tmp_path, 1)
    text = (tmp_path / "docs" / "reviews" / "synth_0001.md").read_text("utf-8")
    html = markdown.markdown(
        text.split("\n---\n", 1)[1],
        extensions=["pymdownx.snippets", "pymdownx.superfences"],
        extension_configs={"pymdownx.snippets": {"base_path": [str(tmp_path)], "check_paths": True}},
    )
    code = re.sub(r"<[^>]+>", "", html)
    assert "def fm_interaction(" in code and "--8&lt;--" not in code


def test_without_a_plugin_leaves_the_others_as_the_project_configures_them() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    project = _plugins(text)
    for name in ("tags", "mkdocstrings", "kb"):
        variant = _plugins(site_build.without_plugin(text, name))
        assert name not in variant
        assert variant == {k: v for k, v in project.items() if k != name}
    with pytest.raises(ValueError, match="no plugin 'nowhere'"):
        site_build.without_plugin(text, "nowhere")
    # Only the plugins list is touched: an item of the same name elsewhere stays.
    other = "markdown_extensions:\n  - tags\nplugins:\n  - search\n  - tags\nnav: []\n"
    assert site_build.without_plugin(other, "tags") == "markdown_extensions:\n  - tags\nplugins:\n  - search\nnav: []\n"


def test_the_page_says_what_each_part_costs() -> None:
    shared = [
        {"reviews": n, "project": _config(0.025 * n, n + 50), "bare": _config(0.01 * n, n + 20), "cpu_ratio": 2.5}
        for n in (100, 1000)
    ]
    shared[-1]["without"] = [
        {"without": "paper card", "what": "the card", "cpu_s": 20.0, "saved_cpu_s": 5.0},
        {"without": "allowlist", "what": "the HTML allowlist", "cpu_s": 25.5, "saved_cpu_s": -0.5},
        {"without": "all of the above", "what": "every part", "cpu_s": 12.0, "saved_cpu_s": 13.0},
    ]
    site = {
        "rows": [_row(100, True), _row(1000, True)],
        "builds_per_size": {"100": 1, "1000": 1},
        "shared_module": shared,
    }
    text = page._site_build(site)
    assert "The full build took 25 s of CPU, bare Material 10 s" in text
    assert "| without paper card | the card | 20 s | 5 s (20% of the full build) | 2.00× |" in text
    assert "| without allowlist | the HTML allowlist | 25.5 s | -500 ms (-2% of the full build) | 2.55× |" in text
    assert "| without all of the above | every part | 12 s | 13 s (52% of the full build) | 1.20× |" in text
