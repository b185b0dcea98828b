"""Tests of kbsite.math: formulas typeset by the vendored KaTeX at build time, errors with file, line and message."""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

from kbsite import math as kb_math
from kbsite.math import has_math, math_problem, render_math
from tests.helpers import build_site

ROOT = Path(__file__).resolve().parents[2]
KATEX_JS = ROOT / "docs" / "assets" / "katex" / "katex.min.js"


def inline(tex: str) -> str:
    """What pymdownx.arithmatex (generic) writes for ``$tex$``."""
    return f'<span class="arithmatex">\\({html.escape(tex, quote=False)}\\)</span>'


def display(tex: str) -> str:
    """What pymdownx.arithmatex (generic) writes for ``$$tex$$``."""
    return f'<div class="arithmatex">\\[\n{html.escape(tex, quote=False)}\n\\]</div>'


def annotations(page: str) -> list[str]:
    """The TeX source KaTeX keeps in each formula's MathML, in page order."""
    return [html.unescape(t) for t in re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', page)]


def test_inline_and_display_math_become_katex_html() -> None:
    page = "<p>Let " + inline("x_i") + " be</p>\n" + display(r"\sum_{i=1}^{n} x_i")
    out, errors = render_math(page, "docs/p.md")
    assert errors == []
    assert "\\(" not in out and "\\[" not in out and 'class="arithmatex"' in out
    assert annotations(out) == ["x_i", r"\sum_{i=1}^{n} x_i"]
    assert re.search(r'<span class="arithmatex"><span class="katex">', out)  # inline
    assert re.search(r'<div class="arithmatex"><span class="katex-display">', out)  # display mode
    assert out.count('class="katex-display"') == 1


def test_escaped_tex_reaches_katex_unescaped() -> None:
    # Markdown escapes <, > and & in the arithmatex element; KaTeX must see the TeX the author wrote.
    tex = r"\begin{aligned} a &< b \\ c &> d \end{aligned}"
    out, errors = render_math(display(tex), "docs/p.md")
    assert errors == [] and annotations(out) == [tex]
    assert 'class="mrel">&lt;</span>' in out and 'class="mrel">&gt;</span>' in out


def test_attributes_of_the_element_are_kept_and_other_markup_is_untouched() -> None:
    page = (
        '<div id="eq-1" class="arithmatex eq">\\[E=mc^2\\]</div>'
        '<span class="arithmatex">not arithmatex output</span><code>\\(x\\)</code>'
    )
    out, errors = render_math(page, "docs/p.md")
    assert errors == []
    assert out.startswith('<div id="eq-1" class="arithmatex eq"><span class="katex-display">')
    assert '<span class="arithmatex">not arithmatex output</span><code>\\(x\\)</code>' in out


def test_page_without_math_never_starts_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_engine(*args: object) -> None:
        raise AssertionError("the engine was started for a page without math")

    monkeypatch.setattr(kb_math, "engine", no_engine)
    page = "<p>No math here, only $5 and a \\ backslash.</p>"
    assert not has_math(page)
    assert render_math(page, "docs/p.md") == (page, [])


def test_engine_is_started_once_and_reused() -> None:
    first = kb_math.engine(KATEX_JS)
    render_math(inline("a"), "docs/a.md", katex_js=KATEX_JS)
    render_math(inline("b"), "docs/b.md", katex_js=KATEX_JS)
    assert kb_math.engine(KATEX_JS) is first
    assert first.version == re.search(r'version:"([0-9.]+)"', KATEX_JS.read_text(encoding="utf-8")).group(1)


def test_prerendered_formulas_come_from_the_background_thread() -> None:
    # Formulas of this test only (the background results live as long as the process).
    page = "<p>" + inline(r"q_{7301} + r") + "</p>" + display(r"\int_0^{7301} f") + inline(r"q_{7301} + r")
    expected = render_math(page.replace("7301", "7302"), "docs/p.md", katex_js=KATEX_JS)[0].replace("7302", "7301")
    outcome: dict[str, object] = {}

    def build_thread() -> None:  # a fresh thread, so that an engine started here would show
        outcome["new"] = [kb_math.prerender(page, KATEX_JS), kb_math.prerender(page, KATEX_JS)]
        outcome["out"] = render_math(page, "docs/p.md", katex_js=KATEX_JS)
        outcome["engine here"] = getattr(kb_math._engines, "by_key", None)

    thread = threading.Thread(target=build_thread)
    thread.start()
    thread.join()
    assert outcome["new"] == [2, 0]  # two distinct formulas, handed over once
    assert outcome["out"] == (expected, [])
    assert outcome["engine here"] is None  # typeset on the worker, not in the thread that built the page
    assert kb_math.prerender("<p>no math, $5</p>", KATEX_JS) == 0


def test_prerendered_bad_formula_is_still_reported_with_its_line() -> None:
    source = "# T\n\nBroken $\\frac{7303}{$ here.\n"
    page = "<p>Broken " + inline(r"\frac{7303}{") + " here.</p>"
    assert kb_math.prerender(page, KATEX_JS) == 1
    out, errors = render_math(page, "docs/t.md", source, KATEX_JS)
    assert out == page and [(e.path, e.line) for e in errors] == [("docs/t.md", 3)]
    assert "Unexpected end of input" in errors[0].message


def test_parse_error_names_file_line_and_katex_message() -> None:
    source = textwrap.dedent("""\
        ---
        title: t
        ---
        # T

        Fine $a+b$ and broken $\\frac{1}{$ here.

        $$
        \\foo x
        $$
        """)
    page = "<p>Fine " + inline("a+b") + " and broken " + inline(r"\frac{1}{") + " here.</p>\n" + display(r"\foo x")
    out, errors = render_math(page, "docs/reviews/t.md", source)
    assert [(e.path, e.line) for e in errors] == [("docs/reviews/t.md", 6), ("docs/reviews/t.md", 9)]
    assert repr(r"\frac{1}{") in errors[0].message and repr(r"\foo x") in errors[1].message
    assert "Unexpected end of input" in errors[0].message
    assert "Undefined control sequence: \\foo" in errors[1].message
    assert str(errors[1]).startswith(
        "docs/reviews/t.md:9: KaTeX cannot render the formula '\\\\foo x': KaTeX parse error"
    )
    # The failing formulas are left as they were; the good one is typeset.
    assert inline(r"\frac{1}{") in out and display(r"\foo x") in out and annotations(out) == ["a+b"]


def test_repeated_bad_formula_is_reported_at_each_line() -> None:
    source = "# T\n\nOne $\\bad$.\n\nTwo $\\bad$ again.\n"
    page = "<p>One " + inline(r"\bad") + ".</p><p>Two " + inline(r"\bad") + " again.</p>"
    _, errors = render_math(page, "p.md", source)
    assert [e.line for e in errors] == [3, 5]


def test_formula_not_in_the_source_is_reported_on_the_first_line() -> None:
    error = render_math(inline(r"\nope"), "docs/p.md", "# T\n\nnothing here\n")[1][0]
    assert error.line == 1 and str(error).startswith("docs/p.md:1: KaTeX cannot render")


def test_strict_mode_complaint_is_an_error() -> None:
    # KaTeX renders it, but warns that LaTeX would not: the build reports it like a parse error.
    errors = render_math(inline("é"), "docs/p.md", "x $é$\n")[1]
    assert [(e.line, "unicodeTextInMathMode" in e.message) for e in errors] == [(1, True)]


def test_math_error_message_shortens_long_formulas() -> None:
    problem = math_problem("a.md", 3, "x" * 100, "boom")
    assert str(problem).startswith("a.md:3: ") and "x" * 57 + "..." in problem.message
    assert problem.message.endswith(": boom") and problem.hint


def _review_formulas() -> list[tuple[str, bool]]:
    formulas = []
    for md in sorted((ROOT / "docs" / "reviews").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        formulas += [
            (m.group(1).strip(), True) for m in re.finditer(r"^\$\$\n(.*?)\n\$\$$", text, re.MULTILINE | re.DOTALL)
        ]
        formulas += [(m.group(1), False) for m in re.finditer(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)", text)]
    return sorted(set(formulas))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed: KaTeX's reference run needs it")
def test_output_is_katex_own_output_under_node() -> None:
    """The embedded engine gives, byte for byte, what the same katex.min.js gives under Node."""
    formulas = _review_formulas()
    assert len(formulas) > 50
    script = (
        "const katex = require(process.argv[1]); let data = ''; process.stdin.on('data', d => data += d);"
        "process.stdin.on('end', () => process.stdout.write(JSON.stringify(JSON.parse(data).map(([t, d]) => {"
        "try { return katex.renderToString(t, {displayMode: d, throwOnError: true}); }"
        "catch (e) { return null; } }))));"
    )
    node = subprocess.run(
        ["node", "-e", script, str(KATEX_JS)],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = json.loads(node.stdout)
    engine = kb_math.engine(KATEX_JS)
    got = [engine.render(tex, disp)[0] for tex, disp in formulas]
    mismatched = [tex for (tex, _), a, b in zip(formulas, got, expected, strict=True) if a != b]
    assert mismatched == []
    assert None not in expected


def test_strict_build_fails_on_bad_math_naming_file_line_and_message(tmp_path: Path) -> None:
    """The plugin logs each error as a warning, so ``mkdocs build --strict`` fails on it."""
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    shutil.copy2(ROOT / "bibliography.bib", project / "bibliography.bib")
    katex = project / "docs" / "assets" / "katex"
    katex.mkdir(parents=True)
    shutil.copy2(KATEX_JS, katex / "katex.min.js")
    (project / "mkdocs.yml").write_text(
        textwrap.dedent("""\
        site_name: t
        plugins:
          - kb
        markdown_extensions:
          - pymdownx.arithmatex:
              generic: true
        exclude_docs: |
          /assets/katex/katex.min.js
        """),
        encoding="utf-8",
    )
    (project / "docs" / "index.md").write_text("# T\n\nGood $x^2$.\n\nBad $\\frac{1}{$.\n", encoding="utf-8")
    (project / "docs" / "plain.md").write_text("# Plain\n\nNo math.\n", encoding="utf-8")
    build = build_site(project, tmp_path / "site")
    assert build.returncode != 0
    assert re.search(
        r"WARNING .*docs/index\.md:5: KaTeX cannot render the formula '\\\\frac\{1\}\{': "
        r"KaTeX parse error: Unexpected end of input",
        build.output,
    ), build.output
    assert build.output.count("KaTeX cannot render") == 1
    # The formulas KaTeX typeset are kept for the next build (math_cache, .cache/kb by default), not the one it
    # rejected: the next build reports it again.
    (cache,) = (project / ".cache" / "kb").glob("katex-*.sqlite3")
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT display, tex FROM formula").fetchall() == [(0, "x^2")]


def test_fonts_used_names_the_split_font_parts_of_the_glyphs() -> None:
    engine = kb_math.engine(KATEX_JS)
    fonts = kb_math.fonts_used(engine.render(r"\mathbf x \in \mathbb R^{n}", False)[0])
    assert set(fonts) == {
        "Main-Bold.ascii.woff2",
        "Main-Regular.more.woff2",
        "AMS-Regular.ascii.woff2",
        "Math-Italic.ascii.woff2",
    }
    assert kb_math.fonts_used(engine.render(r"\alpha", False)[0]) == ["Math-Italic.more.woff2"]
    split = ROOT / "docs" / "assets" / "katex" / "split"
    display = engine.render(r"\sum_{i=1}^{n} \Big( \mathcal L_i \Big)", True)[0]
    assert {"Size2-Regular.more.woff2", "Caligraphic-Regular.ascii.woff2"} <= set(kb_math.fonts_used(display))
    assert all((split / font).is_file() for font in kb_math.fonts_used(display))


def test_fonts_of_the_first_formulas_are_preloaded_next_to_katex_css() -> None:
    head = '<head><link rel="stylesheet" href="../../assets/katex/katex.css"></head>'
    formulas = ["x"] * kb_math.PRELOAD_FORMULAS + [r"\mathbb R"]  # the last one is too far down the page
    body = "<p>" + " ".join(inline(t) for t in formulas) + "</p>"
    out, errors = render_math(head + body, "docs/p.md")
    assert errors == []
    preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin>', out)
    assert preloads == ["../../assets/katex/split/Math-Italic.ascii.woff2"]
    assert out.index('rel="preload"') < out.index("katex.css")
    # Without KaTeX's stylesheet on the page there is nothing to preload for.
    assert "preload" not in render_math(body, "docs/p.md")[0]


def test_formulas_typeset_once_are_taken_from_the_cache_folder_by_a_later_engine(tmp_path: Path) -> None:
    items = [("x^2 + y_{8311}", False), (r"\frac{1}{", False), (r"\sum_{i=1}^{8311} i", True)]
    first = kb_math.Katex(KATEX_JS, tmp_path).render_many(items)
    assert first[0][0] and first[2][0] and first[1][0] is None and "parse error" in first[1][1]
    later = kb_math.Katex(KATEX_JS, tmp_path)
    assert later.render_many([items[2], items[0]]) == [first[2], first[0]]
    assert not later.started  # every formula came from the cache: the engine never started
    assert later.render(*items[1]) == first[1]  # a rejected formula is not kept: typeset, and reported, again
    assert later.started


def test_another_katex_keeps_its_formulas_apart(tmp_path: Path) -> None:
    changed = tmp_path / "katex.min.js"
    changed.write_text(KATEX_JS.read_text(encoding="utf-8") + "\n// another build\n", encoding="utf-8")
    folder = tmp_path / "cache"
    kb_math.Katex(KATEX_JS, folder).render("z_{8312}", False)
    other = kb_math.Katex(changed, folder)
    assert other.disk is not None and other.disk.path != kb_math.Katex(KATEX_JS, folder).disk.path
    assert other.render("z_{8312}", False)[0] is not None and other.started


@pytest.mark.parametrize("broken", ["a file where the folder should be", "a file that is not a database"])
def test_a_cache_that_cannot_be_used_is_turned_off_and_every_formula_typeset(tmp_path: Path, broken: str) -> None:
    if broken.startswith("a file where"):
        folder = tmp_path / "not-a-folder"
        folder.write_text("x", encoding="utf-8")
    else:
        folder = tmp_path / "cache"
        folder.mkdir()
        digest = kb_math.Katex(KATEX_JS, folder).disk.path.name
        (folder / digest).write_bytes(b"this is not an SQLite file" * 100)
    katex = kb_math.Katex(KATEX_JS, folder)
    html_, message = katex.render("w_{8313}", False)
    assert message is None and "katex" in html_
    assert katex.disk is not None and katex.disk.off


def test_engines_use_the_cache_folder_the_plugin_sets(tmp_path: Path) -> None:
    try:
        kb_math.use_cache(tmp_path)
        assert kb_math.engine(KATEX_JS).disk.path.parent == tmp_path
        kb_math.use_cache(None)
        assert kb_math.engine(KATEX_JS).disk is None
    finally:
        kb_math.use_cache(None)


@pytest.mark.parametrize(
    ("value", "folder"),
    [(".cache/kb", ".cache/kb"), ("/tmp/kb-cache", "/tmp/kb-cache"), (True, ".cache/kb"), (False, None), ("  ", None)],
)
def test_the_plugin_option_names_a_cache_folder_or_none(value: object, folder: str | None) -> None:
    from kbsite.plugin.config import KbConfig

    config = KbConfig()
    config.load_dict({"math_cache": value})
    errors, _ = config.validate()
    assert errors == [] and config.math_cache_folder == folder


@pytest.mark.parametrize(("env", "folder"), [(None, ".cache/kb"), ("off", None), ("/tmp/kb-cache", "/tmp/kb-cache")])
def test_kb_math_cache_in_the_environment_sets_the_sites_cache(
    monkeypatch: pytest.MonkeyPatch, env: str | None, folder: str | None
) -> None:
    """mkdocs.yml reads the option from KB_MATH_CACHE; ``off`` (YAML's false) keeps no formula, as make bench needs."""
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.utils.yaml import get_yaml_loader, yaml_load

    from kbsite.plugin.config import KbConfig

    if env is None:
        monkeypatch.delenv("KB_MATH_CACHE", raising=False)
    else:
        monkeypatch.setenv("KB_MATH_CACHE", env)
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as f:
        site = yaml_load(f, get_yaml_loader(config=MkDocsConfig(config_file_path=str(ROOT / "mkdocs.yml"))))
    (kb,) = [p["kb"] for p in site["plugins"] if isinstance(p, dict) and "kb" in p]
    config = KbConfig()
    config.load_dict({"math_cache": kb["math_cache"]})
    assert config.validate()[0] == [] and config.math_cache_folder == folder
