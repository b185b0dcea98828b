"""Site build time as the site grows: the project's configuration against bare Material on the same docs.

A temporary copy of the project (``tests.helpers.copy_project``) gets N synthetic reviews, each one the three
files a contributor adds: ``docs/reviews/synth_NNNN.md`` from ``bench/review_template.md`` (front matter with a
``topic`` cycling over :data:`kbsite.reviews.TOPICS`, ``key_terms`` and tags; math, citations, an embedded snippet
section, a table, admonitions) and ``snippets/synth_NNNN.py``, a copy of ``snippets/fm.py``, so that the API page
the kb plugin generates for every review renders a module of a real review's size. The same docs are built with

* ``project``: the project's ``mkdocs.yml``;
* ``bare``: :data:`BARE_CONFIG`, which inherits ``mkdocs.yml`` (theme, Markdown extensions, CSS and JavaScript,
  the hand-written nav) but runs ``plugins: [search]`` only. Without the kb plugin the reviews are outside the nav
  and the reviews' links to their API pages lead nowhere; the bare configuration reports both at info level and
  the benchmark counts them. Every other warning fails the build.
* ``mkdocstrings``: a reference, not a target: bare Material plus the project's mkdocstrings plugin, building the
  same docs and the same API pages, each written as the file the kb plugin generates (``api/<module>.md`` holding
  ``::: snippets.<module>``) in a copy of the docs folder (:func:`write_api_docs`). The project's build ÷ this one
  is what the project adds to Material and mkdocstrings: the kb plugin (citations, paper cards, math, HTML checks,
  topic pages and navigation) and the tags plugin.

All are ``mkdocs build --strict`` in a fresh process, alternating, timed by wall clock (start-up included) and by
the CPU time of the process. At the smallest and the largest N one more project build runs inside this process with a
timer around every hook of ``KbPlugin`` (the plugin's own time per hook) and a timer plugin that measures each page's
Markdown phase (``on_pre_page`` to ``on_page_content``) and template phase (``on_page_context`` to
``on_post_page``), summed by kind of page.

At the largest N, the project builds the reviews once more with every formula made distinct (the review's
number added to each): copies repeat their formulas, which the build typesets once per distinct formula, while real
reviews each bring formulas of their own. Last, at the smallest and the largest N, the reviews are written again as
plain copies that all name ``snippets.fm`` (no module, so no API page, of their own) and the project and bare
Material build them once each: the issue's "copies of an existing review" taken literally, which shows what the
project costs beyond the API pages. On the largest N of those copies, the project builds once more without each of
its parts in turn (:data:`WITHOUT`): a part of the kb plugin switched off by :mod:`bench.without`, or the tags or
mkdocstrings plugin left out of the configuration, then all of them at once.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench import ROOT
from bench.timing import load
from bench.without import PARTS, calls
from kbsite.reviews import TOPICS
from tests.helpers import copy_project

SIZES = (100, 300, 1000)
QUICK_SIZES = (10, 30)
# Builds per configuration and size, alternating; a 1000-review build takes minutes, so the large sizes get one.
BUILDS = {100: 3, 300: 1, 1000: 1}
TAGS = [
    "recommender systems",
    "factorization",
    "sparse data",
    "language models",
    "pre-training",
    "music",
    "generative models",
    "transfer learning",
    "attention",
    "contextual embeddings",
    "benchmarks",
    "synthetic",
]
SNIPPET = "snippets/fm.py"  # the module every synthetic review's snippet copies
BARE_CONFIG = """\
INHERIT: mkdocs.yml
plugins:
  - search
validation:
  nav:
    omitted_files: info
  links:
    not_found: info
"""
# Every build starts from nothing: no typeset formulas kept from an earlier build (kbsite/math.py, FormulaCache).
NO_CACHE = {"KB_MATH_CACHE": "off"}
# The docs folder of the ``mkdocstrings`` configuration: the docs, plus an API page file per module.
MKDOCSTRINGS_DOCS = "docs-mkdocstrings"
_NOT_FOUND = re.compile(r"^INFO\s+-\s+Doc file '[^']+' contains a link '[^']+', but the target '[^']+' is not found")


def slug(i: int) -> str:
    return f"synth_{i:04d}"


# Inline math ($...$, not $$) and display math ($$ on lines of their own) in the review template.
_INLINE_MATH = re.compile(r"(?<!\$)\$(?!\$)([^$]+?)\$(?!\$)")
_DISPLAY_MATH = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.DOTALL | re.MULTILINE)


def distinct_math(page: str, n: str) -> str:
    """``page`` with every formula made its own: the review's number added to each, so that no two reviews share a
    formula and the build typesets every one (copies share theirs, and the build typesets each distinct formula
    once)."""
    page = _DISPLAY_MATH.sub(lambda m: f"$$\n{m.group(1)} \\quad {n}\n$$", page)
    return _INLINE_MATH.sub(lambda m: f"${m.group(1)}\\,{{}}^{{{n}}}$", page)


def write_reviews(project: Path, n: int, shared_module: bool = False, distinct: bool = False) -> None:
    """Reviews 1..n, each with its own snippet module (files that exist already are rewritten unchanged); with
    ``shared_module``, the synthetic reviews and modules there are removed first, and reviews 1..n all name the
    module :data:`SNIPPET` copies (``snippets.fm``), so the build has no API page of their own for them; with
    ``distinct``, no two reviews share a formula (:func:`distinct_math`)."""
    template = (ROOT / "bench" / "review_template.md").read_text(encoding="utf-8")
    source = (ROOT / SNIPPET).read_text(encoding="utf-8")
    if shared_module:
        for old in [*(project / "docs" / "reviews").glob("synth_*.md"), *(project / "snippets").glob("synth_*.py")]:
            old.unlink()
    topics = list(TOPICS)
    for i in range(1, n + 1):
        tags = ", ".join(TAGS[(i + j) % len(TAGS)] for j in range(3))
        fields = {
            "n": f"{i:04d}",
            "module": Path(SNIPPET).stem if shared_module else slug(i),
            "year": str(2000 + i % 25),
            "tags": tags,
            "topic": topics[i % len(topics)],
        }
        page = template
        for name, value in fields.items():
            page = page.replace("{{" + name + "}}", value)
        if distinct:
            page = distinct_math(page, fields["n"])
        (project / "docs" / "reviews" / f"{slug(i)}.md").write_text(page, encoding="utf-8")
        if not shared_module:
            (project / "snippets" / f"{slug(i)}.py").write_text(source, encoding="utf-8")


def plugin_block(config_text: str, name: str) -> str:
    """The lines of ``config_text``'s ``plugins:`` list that configure plugin ``name`` (its item and everything
    indented under it), so that the reference configuration runs it exactly as the project does."""
    match = re.search(
        rf"^(?P<indent> *)- {re.escape(name)}:\n(?:(?P=indent) {{3,}}\S.*\n|[ \t]*\n)*", config_text, re.M
    )
    if match is None:
        raise ValueError(f"mkdocs.yml: no plugin '{name}' configured in a block of its own")
    return match.group().rstrip() + "\n"


def without_plugin(config_text: str, name: str) -> str:
    """The project's configuration ``config_text`` without plugin ``name``: its item in the ``plugins:`` list, alone
    on its line or with the block that configures it (a Markdown extension of the same name stays)."""
    plugins = re.search(r"^plugins:\n(?:[ \t]+\S.*\n|[ \t]*\n)*", config_text, re.M)
    if plugins is None:
        raise ValueError("mkdocs.yml: no 'plugins:' list")
    listed = plugins.group()
    alone = re.compile(rf"^ *- {re.escape(name)}\n", re.M)
    shorter = (
        alone.sub("", listed, count=1) if alone.search(listed) else listed.replace(plugin_block(listed, name), "", 1)
    )
    return config_text[: plugins.start()] + shorter + config_text[plugins.end() :]


def mkdocstrings_config(project: Path) -> str:
    """:data:`BARE_CONFIG` plus the project's mkdocstrings plugin, on the docs folder :func:`write_api_docs` fills."""
    block = plugin_block((project / "mkdocs.yml").read_text(encoding="utf-8"), "mkdocstrings")
    return BARE_CONFIG.replace("  - search\n", "  - search\n" + block, 1) + f"docs_dir: {MKDOCSTRINGS_DOCS}\n"


def write_api_docs(project: Path) -> int:
    """Fill ``<project>/docs-mkdocstrings`` with the docs (linked, so new reviews show up) and, in its ``api``
    folder, the API page of every module the reviews name, as the kb plugin generates it. Returns their number."""
    from kbsite.plugin.api_pages import api_modules
    from kbsite.reviews import load_reviews

    docs, target = project / "docs", project / MKDOCSTRINGS_DOCS
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for entry in docs.iterdir():
        if entry.name != "api":
            (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (target / "api").mkdir()
    for entry in (docs / "api").iterdir():
        (target / "api" / entry.name).symlink_to(entry)
    modules = api_modules(load_reviews(project))
    for module in modules:
        (target / "api" / f"{module}.md").write_text(f"::: snippets.{module}\n", encoding="utf-8")
    return len(modules)


# What the project's build costs without each of its parts (at the largest N, on the copies that all name
# snippets.fm): the kb plugin's parts (bench/without.py), then the two other plugins the project adds to Material,
# then all of them at once. (label, what it leaves out, kb parts switched off, plugins left out of the configuration).
WITHOUT: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    *((part, what, (part,), ()) for part, what in PARTS.items()),
    ("tags plugin", "Material's tags plugin (the tag pages)", (), ("tags",)),
    ("mkdocstrings", "the mkdocstrings plugin, which renders the API pages", (), ("mkdocstrings",)),
    ("all of the above", "every part above, and both plugins", tuple(PARTS), ("tags", "mkdocstrings")),
]


def feature_costs(project: Path, tmp: Path, full_cpu_s: float) -> list[dict[str, Any]]:
    """One build of the project without each entry of :data:`WITHOUT`: its CPU time and what it saves against the
    full project's ``full_cpu_s``."""
    text = (project / "mkdocs.yml").read_text(encoding="utf-8")
    rows = []
    for label, what, parts, plugins in WITHOUT:
        config = "mkdocs.yml"
        if plugins:
            variant = text
            for name in plugins:
                variant = without_plugin(variant, name)
            config = "mkdocs-without-" + "-".join(plugins) + ".yml"
            (project / config).write_text(variant, encoding="utf-8")
        build = _build(project, config, tmp / "site-without", without=parts)
        rows.append(
            {"without": label, "what": what, "cpu_s": build["cpu_s"], "saved_cpu_s": full_cpu_s - build["cpu_s"]}
        )
    return rows


def _html_pages(site: Path) -> int:
    return sum(1 for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts)


def _build(project: Path, config: str, site: Path, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """One ``mkdocs build`` in a fresh process: strict, or, with parts of the kb plugin switched off
    (``without``, :mod:`bench.without`), not strict (a build without its navigation leaves pages out of the nav)."""
    env = {**os.environ, **NO_CACHE, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SITE_URL", None)
    if site.exists():
        shutil.rmtree(site)
    args = ["build", "-f", config, "--site-dir", str(site)]
    command = (
        [sys.executable, "-m", "bench.without", ",".join(without), "--", *args]
        if without
        else [sys.executable, "-m", "mkdocs", *args, "--strict"]
    )
    if without:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=4 * 3600,
        check=False,
    )
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = (proc.stdout + proc.stderr).splitlines()
    if proc.returncode != 0:
        problems = [line for line in output if not line.startswith("INFO")]
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n" + "\n".join(problems[-40:]))
    result = {
        "wall_s": wall,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "pages": _html_pages(site),
        "missing_link_notices": sum(1 for line in output if _NOT_FOUND.match(line)),
    }
    if without:
        result["calls"] = calls(proc.stderr)
        unused = sorted(name for name, n in result["calls"].items() if n == 0)
        if unused:
            raise RuntimeError(
                f"{' '.join(command[1:])}: the build never called the replacement of {', '.join(unused)}; the kb "
                "plugin no longer reaches it through that name (bench/without.py, REPLACEMENTS)"
            )
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    wall = statistics.median(b["wall_s"] for b in runs)
    cpu = statistics.median(b["cpu_s"] for b in runs)
    pages = runs[0]["pages"]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "pages": pages,
        "ms_per_page": 1000 * wall / pages,
        "cpu_ms_per_page": 1000 * cpu / pages,
        "builds": len(runs),
        "walls": [round(b["wall_s"], 3) for b in runs],
        "cpus": [round(b["cpu_s"], 3) for b in runs],
        "missing_link_notices": runs[0]["missing_link_notices"],
    }


# ---------------------------------------------------------------- the kb plugin's own time, in process


def _kind(src_uri: str) -> str:
    if src_uri.startswith("reviews/synth_"):
        return "synthetic review"
    if src_uri.startswith("api/synth_"):
        return "synthetic API page"
    return "other page"


class _PageTimer:
    """A plugin object that brackets each page's two phases; added to the build's plugins by :func:`profile`."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self._start: dict[str, float] = {}

    def _begin(self, page: Any) -> None:
        self._start[page.file.src_uri] = time.thread_time()

    def _end(self, page: Any, phase: str) -> None:
        uri = page.file.src_uri
        self.seconds[(_kind(uri), phase)] += time.thread_time() - self._start.pop(uri)

    def on_pre_page(self, page: Any, **kwargs: Any) -> Any:
        self.count[_kind(page.file.src_uri)] += 1
        self._begin(page)
        return page

    def on_page_content(self, html: str, *, page: Any, **kwargs: Any) -> str:
        self._end(page, "markdown")
        return html

    def on_page_context(self, context: Any, *, page: Any, **kwargs: Any) -> Any:
        self._begin(page)
        return context

    def on_post_page(self, output: str, *, page: Any, **kwargs: Any) -> str:
        self._end(page, "template")
        return output

    # First in, last out: the timer brackets every other plugin's work on the page.
    on_pre_page.mkdocs_priority = on_page_context.mkdocs_priority = 1000  # type: ignore[attr-defined]
    on_page_content.mkdocs_priority = on_post_page.mkdocs_priority = -1000  # type: ignore[attr-defined]


@contextmanager
def _timed_hooks(cls: type) -> Iterator[dict[str, list[float]]]:
    """Wrap every ``on_*`` method defined on ``cls`` in a CPU timer for the duration of the block."""
    times: dict[str, list[float]] = defaultdict(list)
    originals = {name: fn for name, fn in vars(cls).items() if name.startswith("on_") and callable(fn)}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name].append(time.thread_time() - start)

        return wrapper

    for name, fn in originals.items():
        setattr(cls, name, timed(name, fn))
    try:
        yield times
    finally:
        for name, fn in originals.items():
            setattr(cls, name, fn)


def profile(project: Path, site: Path) -> dict[str, Any]:
    """One strict project build in this process: the kb plugin's CPU time per hook and each page phase by kind."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from kbsite.plugin import KbPlugin

    cwd = os.getcwd()
    os.chdir(project)
    try:
        with _timed_hooks(KbPlugin) as times, patch.dict(os.environ, NO_CACHE):
            start = time.thread_time()
            config = load_config(str(project / "mkdocs.yml"), strict=True, site_dir=str(site))
            timer = _PageTimer()
            config.plugins["bench-page-timer"] = timer  # type: ignore[assignment]
            build(config)
            total = time.thread_time() - start
    finally:
        os.chdir(cwd)
    return {
        "build_cpu_s": total,
        "hooks": [{"hook": name, "calls": len(ts), "cpu_s": sum(ts)} for name, ts in times.items()],
        "phases": [
            {"kind": kind, "phase": phase, "pages": timer.count[kind], "cpu_s": s}
            for (kind, phase), s in sorted(timer.seconds.items())
        ],
    }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK_SIZES if quick else SIZES
    rows, profiles = [], []
    with tempfile.TemporaryDirectory(prefix="kb-bench-site-") as tmp:
        project = copy_project(Path(tmp) / "project")
        configs = {"project": "mkdocs.yml", "bare": "mkdocs-bare.yml", "mkdocstrings": "mkdocs-mkdocstrings.yml"}
        (project / configs["bare"]).write_text(BARE_CONFIG, encoding="utf-8")
        (project / configs["mkdocstrings"]).write_text(mkdocstrings_config(project), encoding="utf-8")
        for n in sizes:
            write_reviews(project, n)
            write_api_docs(project)
            builds: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
            before = load()
            for r in range(1 if quick else BUILDS[n]):
                order = list(configs) if r % 2 == 0 else list(reversed(configs))
                for name in order:
                    builds[name].append(_build(project, configs[name], Path(tmp) / f"site-{name}"))
            row: dict[str, Any] = {"reviews": n, "load": [before, load()]}
            row.update({name: _summary(runs) for name, runs in builds.items()})
            row["ratio"] = row["project"]["wall_s"] / row["bare"]["wall_s"]
            row["cpu_ratio"] = row["project"]["cpu_s"] / row["bare"]["cpu_s"]
            row["mkdocstrings_cpu_ratio"] = row["project"]["cpu_s"] / row["mkdocstrings"]["cpu_s"]
            rows.append(row)
            if n in (sizes[0], sizes[-1]):
                profiles.append({"reviews": n, **profile(project, Path(tmp) / "site-profile")})
        n = sizes[-1]
        write_reviews(project, n, distinct=True)
        distinct = {
            "reviews": n,
            "project": _summary([_build(project, configs["project"], Path(tmp) / "site-project")]),
        }
        shared = []
        for n in (sizes[0], sizes[-1]):
            write_reviews(project, n, shared_module=True)
            builds = {name: _build(project, configs[name], Path(tmp) / f"site-{name}") for name in ("project", "bare")}
            shared.append(
                {
                    "reviews": n,
                    **{name: _summary([b]) for name, b in builds.items()},
                    "cpu_ratio": builds["project"]["cpu_s"] / builds["bare"]["cpu_s"],
                }
            )
        # The copies of the largest N are in place: what each part of the project costs on them.
        shared[-1]["without"] = feature_costs(project, Path(tmp), builds["project"]["cpu_s"])
    return {
        "sizes": list(sizes),
        "builds_per_size": {str(n): 1 if quick else BUILDS[n] for n in sizes},
        "snippet": SNIPPET,
        "rows": rows,
        "profiles": profiles,
        "shared_module": shared,
        "distinct_math": distinct,
    }
