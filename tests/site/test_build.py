"""The strict site build: no warnings, API pages, citations that land, math typeset, no third-party requests."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

from tests.helpers import ROOT, Build, build_site, copy_project, html_pages

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# (tag, attribute) pairs a browser fetches when the page loads.
FETCHED = {
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("audio", "src"),
    ("video", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("track", "src"),
}
FETCHED_LINK_RELS = {"stylesheet", "icon", "preload", "modulepreload", "preconnect", "dns-prefetch", "manifest"}


class _Requests(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("src", "data", "href"):
            if name in a and (
                (tag, name) in FETCHED
                or (tag == "link" and name == "href" and set(a.get("rel", "").split()) & FETCHED_LINK_RELS)
            ):
                self.urls.append(a[name])
        if "srcset" in a:
            self.urls += [part.strip().split()[0] for part in a["srcset"].split(",") if part.strip()]
        if "style" in a:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])


def _third_party(url: str) -> bool:
    parsed = urlparse(url)
    return bool(parsed.scheme in {"http", "https"} or url.startswith("//")) and parsed.hostname not in LOCAL_HOSTS


def test_strict_build_passes_without_warnings(built_site: Build) -> None:
    assert built_site.returncode == 0, built_site.output
    assert "WARNING" not in built_site.output, built_site.output


def test_no_page_or_stylesheet_requests_another_host(built_site: Build) -> None:
    offenders = []
    for page in html_pages(built_site.site):
        parser = _Requests()
        parser.feed(page.read_text(encoding="utf-8"))
        offenders += [f"{page.relative_to(built_site.site)}: {u}" for u in parser.urls if _third_party(u)]
    for css in built_site.site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if _third_party(url):
                offenders.append(f"{css.relative_to(built_site.site)}: {url}")
    assert offenders == []


def test_every_script_is_deferred_so_the_text_paints_first(built_site: Build) -> None:
    """kbsite/theme/main.html defers Material's bundle and the site's scripts: parsing and the first paint never
    wait for them (bench/lighthouse.py measures the difference)."""
    blocking, bundles = [], 0
    for page in html_pages(built_site.site):
        for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page.read_text(encoding="utf-8")):
            bundles += "/bundle." in tag
            if not re.search(r"\s(defer|async)[\s>=]", tag):
                blocking.append(f"{page.relative_to(built_site.site)}: {tag}")
    assert blocking == []
    assert bundles == len(html_pages(built_site.site))  # Material's bundle on every page, deferred


def test_api_page_renders_the_docstrings(built_site: Build) -> None:
    page = (built_site.site / "api" / "fm" / "index.html").read_text(encoding="utf-8")
    for name in ("fm_interaction", "fm_interaction_naive", "FactorizationMachine"):
        assert f'id="snippets.fm.{name}"' in page, name
    assert "Lemma 3.1" in page and "bi-interaction" in page
    # No copy of the source on the page: a link to the module, published byte for byte, and to its review.
    assert "mkdocstrings-source" not in page
    assert '<a href="../../snippets/fm.py"><code>snippets/fm.py</code></a>' in page
    assert '<a href="../../reviews/fm/">Factorization Machines</a>' in page
    note = page.split('<p class="kb-source-note">', 1)[1].split("</p>", 1)[0]
    assert note.count('href="../../reviews/') == 1  # only the review of this module, not every review
    for module in (ROOT / "snippets").glob("[!_]*.py"):
        assert (built_site.site / "snippets" / module.name).read_bytes() == module.read_bytes(), module.name


def test_every_citation_lands_on_a_reference_of_its_page(built_site: Build) -> None:
    checked = 0
    for page in html_pages(built_site.site):
        html = page.read_text(encoding="utf-8")
        for target in re.findall(r'class="kb-cite" href="#([^"]+)"', html):
            assert f'id="{target}"' in html, f"{page}: #{target}"
            checked += 1
    assert checked > 0


def test_math_is_typeset_by_the_build_and_styled_by_the_site(built_site: Build) -> None:
    site = built_site.site
    assert (site / "assets" / "katex" / "katex.css").is_file()
    assert not list(site.rglob("*katex*.js")) and not (site / "assets" / "javascripts" / "katex-init.js").exists()
    # KaTeX's own CSS and whole fonts stay in docs/ (the split fonts are made from them) and are not published.
    assert (
        not (site / "assets" / "katex" / "katex.min.css").exists()
        and not (site / "assets" / "katex" / "fonts").exists()
    )
    review = (site / "reviews" / "fm" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../assets/katex/katex.css"' in review
    assert "katex" not in " ".join(re.findall(r"<script[^>]*>", review))
    assert review.count('class="arithmatex"') > 10
    assert review.count('class="arithmatex"><span class="katex') == review.count('class="arithmatex"')
    assert "\\(" not in review and "\\[" not in review
    preloads = re.findall(r'<link rel="preload" href="\.\./\.\./([^"]+\.woff2)" as="font"', review)
    assert preloads and all((site / font).is_file() for font in preloads), preloads
    fonts_css = (site / "assets" / "katex" / "katex.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\(([^)]+\.woff2)\)", fonts_css)
    assert len(fonts) > 20
    for font in fonts:
        assert (site / "assets" / "katex" / font).is_file(), font


def test_review_embeds_the_tested_source(built_site: Build) -> None:
    review = (built_site.site / "reviews" / "fm" / "index.html").read_text(encoding="utf-8")
    assert "--8&lt;--" not in review and "--8<--" not in review  # markers stripped, includes expanded
    assert "square_of_sum" in review and "sum_of_squares" in review


def test_bibliography_page_and_download(built_site: Build) -> None:
    page = (built_site.site / "bibliography" / "index.html").read_text(encoding="utf-8")
    ids = re.findall(r'<h3 id="([^"]+)"', page)
    assert {"rendle2010fm", "peters2018elmo", "clark2020electra"} <= set(ids)
    assert (built_site.site / "bibliography.bib").read_bytes() == (ROOT / "bibliography.bib").read_bytes()


def _sidebar(html: str) -> str:
    """The primary navigation of a page (the sidebar), without the page's own table of contents."""
    start = html.index('<nav class="md-nav md-nav--primary')
    return html[start : html.index('<div class="md-content"', start)]


def test_navigation_lists_topics_and_the_own_topics_reviews_only(built_site: Build) -> None:
    site = built_site.site
    electra = _sidebar((site / "reviews" / "electra" / "index.html").read_text(encoding="utf-8"))
    assert 'href="../elmo/"' in electra and 'href="../roberta/"' in electra  # same topic: listed
    assert 'href="../fm/"' not in electra  # another topic: only the topic's section link
    assert 'href="../../topics/recommender-systems/"' in electra
    topic = (site / "topics" / "recommender-systems" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../reviews/fm/"' in topic and "Recommender systems" in topic
    api = _sidebar((site / "api" / "fm" / "index.html").read_text(encoding="utf-8"))
    assert 'href="./"' in api and "snippets.fm" in api


def test_reviews_index_lists_every_review_with_its_topic(built_site: Build) -> None:
    index = (built_site.site / "reviews" / "index.html").read_text(encoding="utf-8")
    table = index[index.index('class="kb-reviews-index"') :]
    for review in sorted((ROOT / "docs" / "reviews").glob("*.md")):
        if review.name != "index.md":
            assert f'href="{review.stem}/"' in table, review.stem
    assert "<th>Topic</th>" in table and "recommender systems" in table


def test_tags_page_lists_review_tags(built_site: Build) -> None:
    tags = (built_site.site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "factorization" in tags and "reviews/fm/" in tags


def test_strict_build_of_a_broken_copy_reports_exactly_its_problems_and_generates_api_pages(tmp_path: Path) -> None:
    """One build of a copy of the project with four edits, of the two reviews it concerns only (``only_reviews``,
    as make test-review builds, plus a slug that names no review, which fails the build): an unknown citation key
    in a review and an <iframe> in a docstring, which the strict build must name with file and line and fail on;
    code that looks like a citation (``@torch.no_grad()``), which must not be read as one; and a new review given
    as its review and module only, whose API page and navigation entries the build generates. The build must warn
    about the bad slug and the first two edits, and nothing else."""
    project = copy_project(tmp_path / "project")
    page = project / "docs" / "reviews" / "fm.md"
    review = page.read_text(encoding="utf-8")
    # A new review is three files: the review, its module and its test. The build generates the API page.
    (project / "docs" / "reviews" / "fm2.md").write_text(
        review.replace("snippets.fm", "snippets.fm2").replace(
            "title: Factorization Machines", "title: Factorization Machines again"
        ),
        encoding="utf-8",
    )
    (project / "snippets" / "fm2.py").write_text(
        '"""A second module."""\n\n\ndef twice(x: int) -> int:\n    """Two times x."""\n    return 2 * x\n',
        encoding="utf-8",
    )
    page.write_text(review.replace("## TL;DR\n", "## TL;DR\n\nSee [@ghost2099nope].\n"), encoding="utf-8")
    line = page.read_text(encoding="utf-8").splitlines().index("See [@ghost2099nope].") + 1
    # A docstring is rendered as Markdown on the API page: the build applies the HTML allowlist there too.
    module = project / "snippets" / "fm.py"
    source = module.read_text(encoding="utf-8")
    module.write_text(source.replace('"""', '"""<iframe src="https://x.invalid/"></iframe>\n', 1), encoding="utf-8")
    extra = (
        "\n<!--pytest.mark.skip-->\n```python\n@torch.no_grad()\ndef f(): ...\n```\n\nInline `@torch.no_grad()` too.\n"
    )
    api_index = project / "docs" / "api" / "index.md"
    api_index.write_text(api_index.read_text(encoding="utf-8") + extra, encoding="utf-8")

    result = build_site(project, tmp_path / "site", {"KB_ONLY_REVIEWS": "fm,fm2,nosuchreview"})
    assert result.returncode != 0
    warnings = [w for w in result.output.splitlines() if w.startswith("WARNING")]
    expected = [
        f"docs/reviews/fm.md:{line}: unknown citation key 'ghost2099nope'",
        "snippets/fm.py:1: raw HTML <iframe> is not allowed",
        "mkdocs.yml:1: only_reviews: no review nosuchreview — one of: albert, als,",
    ]
    assert len(warnings) == len(expected) and all(any(e in w for w in warnings) for e in expected), result.output
    # The pages are written before --strict aborts: the generated ones are there.
    assert not (project / "docs" / "api" / "fm2.md").exists()
    api = (tmp_path / "site" / "api" / "fm2" / "index.html").read_text(encoding="utf-8")
    assert 'id="snippets.fm2.twice"' in api
    sidebar = _sidebar((tmp_path / "site" / "reviews" / "fm" / "index.html").read_text(encoding="utf-8"))
    assert 'href="../fm2/"' in sidebar  # the new review is listed in its topic, next to FM
    # only_reviews: the named reviews and their API pages, no other; links to the others are not warnings.
    site = tmp_path / "site"
    assert sorted(p.parent.name for p in (site / "reviews").glob("*/index.html")) == ["fm", "fm2"]
    assert sorted(p.parent.name for p in (site / "api").glob("*/index.html")) == ["fm", "fm2"]
    assert (site / "index.html").is_file() and (site / "bibliography" / "index.html").is_file()
