"""What the browser tests share: the Chromium launch, the pages to visit, a network recorder, in-page checks."""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kbsite.plugin.api_pages import api_modules, api_uri
from kbsite.plugin.topic_pages import topic_uri, topics_of
from kbsite.reviews import Review, load_reviews
from tests.helpers import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

# Debian's packages, never a downloaded browser. The headless shell is Chromium's own engine without the browser
# around it (what Playwright itself runs headless); on this suite it spends about a third less CPU than the full
# browser, which stays the fallback. KB_CHROMIUM names any other build.
HEADLESS_SHELL, FULL_CHROMIUM = Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium")
CHROMIUM = Path(
    os.environ.get("KB_CHROMIUM")
    or (HEADLESS_SHELL if HEADLESS_SHELL.is_file() or not FULL_CHROMIUM.is_file() else FULL_CHROMIUM)
)
INSTALL_HINT = "apt-get update && apt-get install -y chromium-headless-shell"  # as root
# Chromium flags for a headless run in a container: no sandbox, no GPU, and no traffic of the browser's own.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces for "nothing leaves the machine": every host name but the server's resolves to nothing, so
    # not even a DNS lookup (a link prefetch, say) can go out; the tests' route aborts the requests themselves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = ROOT / "screenshots"
# Full-page screenshots of the reviews, light and dark, cost about a second of CPU each: `make test-review` takes them
# (KB_SCREENSHOTS=1), `make test` does not unless asked.
TAKE_SCREENSHOTS = os.environ.get("KB_SCREENSHOTS", "").strip().lower() not in {"", "0", "false", "no"}
REPORTS = ROOT / "build" / "browser"  # /build/ is git-ignored

# Page weight: the gzip-compressed size of everything the first view of a review loads, search aside.
WEIGHT_BUDGET_BYTES = 200 * 1000
WEIGHT_EXCLUDED = (
    re.compile(r"/search/search_index\.json$"),
    re.compile(r"/assets/javascripts/workers/search\.[^/]*\.js$"),
)


def in_ci() -> bool:
    """``CI`` set to anything but an empty or false value makes the browser tests mandatory."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def reviews() -> list[Review]:
    """Every review that exists now, sorted by slug (the ids of the parametrized tests)."""
    return sorted(load_reviews(ROOT), key=lambda r: r.slug)


@functools.cache
def review_slugs() -> list[str]:
    return [r.slug for r in reviews()]


def sample_of(everything: list[Review]) -> list[Review]:
    """The fixed subset of ``everything`` (sorted by slug) that the expensive interactions run on, in slug order: the
    first review (by slug) of each topic, so every topic's navigation is visited, and the last review by slug, so
    instant navigation crosses the whole alphabet. Its size depends on the number of topics, not of reviews."""
    chosen = {everything[-1].slug} if everything else set()
    first_of_topic: dict[str, str] = {}
    for review in everything:
        first_of_topic.setdefault(review.topic, review.slug)
    chosen |= set(first_of_topic.values())
    return [r for r in everything if r.slug in chosen]


def sampled_reviews() -> list[Review]:
    """The reviews that instant navigation, search and the dark-scheme pass visit (:func:`sample_of`); every review
    still gets its own page check, light scheme, in test_browser_reviews.py."""
    return sample_of(reviews())


@functools.cache
def sampled_slugs() -> frozenset[str]:
    return frozenset(r.slug for r in sampled_reviews())


def is_sampled_page(path: str) -> bool:
    """Whether the page at URL ``path`` gets the interactions sampled for scale (the dark-scheme axe pass; on a
    review, clicking a citation and a copy button): every page
    the site has once, and the review and API pages of the sampled reviews. In a build of some reviews only
    (``KB_ONLY_REVIEWS``, make test-review) every page is sampled."""
    if os.environ.get("KB_ONLY_REVIEWS", "").strip():
        return True
    parts = path.split("/")
    if len(parts) == 3 and parts[0] in {"reviews", "api"} and parts[2] == "" and parts[1] in review_slugs():
        return parts[1] in sampled_slugs()
    return True


@functools.cache
def _small_search_index(site: Path) -> str:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    return json.dumps({**index, "docs": []})


def use_small_search_index(context, served: Served) -> None:
    """Answer the context's request for search/search_index.json with the site's search configuration and no
    documents. The request is made and recorded as on any page, but the search worker does not index the whole site
    again, which would cost each of N page loads time in proportion to N (about a second of CPU per load at 12
    reviews). Every browser test that loads a page uses this, except the search tests, which type queries and load
    the real index. The worker's shared context has it from the start (``page_of_shared_context``)."""
    body = _small_search_index(served.site)
    context.route(
        served("search/search_index.json"),
        lambda route: route.fulfill(status=200, body=body, content_type="application/json"),
    )


def _url_path(rel: Path) -> str:
    """``reviews/fm.md`` -> ``reviews/fm/``; ``index.md`` -> ``""`` (MkDocs' directory URLs)."""
    parts = rel.parent.parts if rel.name in {"index.md", "README.md"} else rel.with_suffix("").parts
    return "/".join(parts) + "/" if parts else ""


def page_paths(docs: Path = ROOT / "docs") -> list[str]:
    """The URL path (relative to the site root) of every page the build makes: one per Markdown file of ``docs/``,
    the pages the kb plugin generates (an API page per review, a page per topic), and the 404 page."""
    paths = [_url_path(md.relative_to(docs)) for md in docs.rglob("*.md") if md.relative_to(docs).parts[0] != "assets"]
    everything = reviews()
    generated = [api_uri(m) for m in api_modules(everything)] + [topic_uri(t) for t in topics_of(everything)]
    return sorted(set(paths + [_url_path(Path(uri)) for uri in generated])) + ["404.html"]


def built_page_paths(site: Path) -> list[str]:
    """The same URL paths read off a built site."""
    paths = []
    for html in site.rglob("*.html"):
        rel = html.relative_to(site)
        if "assets" in rel.parts:
            continue
        if rel.name == "index.html":
            paths.append("/".join(rel.parent.parts) + ("/" if rel.parent.parts else ""))
        else:
            paths.append(rel.as_posix())
    return sorted(paths)


def relative_href(from_path: str, to_path: str) -> str:
    """The relative link MkDocs writes from one directory-URL page to another (``reviews/a/`` -> ``../b/``)."""
    return posixpath.relpath(to_path.rstrip("/") or ".", from_path.rstrip("/") or ".") + "/"


@dataclass
class NetLog:
    """Everything one browser context asked for, and everything that went wrong, as readable lines."""

    origin: str
    requests: list[str] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    pending: set = field(default_factory=set)  # requests sent and not yet finished or failed
    since_load: list[str] = field(default_factory=list)  # the URLs requested since the last page load began

    def is_local(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme in {"data", "blob", "about"} or url == self.origin or url.startswith(self.origin + "/")

    def on_request(self, request) -> None:
        self.requests.append(request.url)
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self.since_load = []
        self.since_load.append(request.url)
        self.pending.add(request)
        if not self.is_local(request.url):
            self.third_party.append(request.url)

    def on_request_finished(self, request) -> None:
        self.pending.discard(request)

    def on_request_failed(self, request) -> None:
        self.pending.discard(request)
        self.failed.append(f"{request.url}: {request.failure}")

    def on_response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def on_console(self, message) -> None:
        if message.type == "error":
            loc = message.location or {}
            self.console_errors.append(f"{message.text} ({loc.get('url', '?')}:{loc.get('lineNumber', '?')})")

    def on_page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def problems(self) -> dict[str, list[str]]:
        found = {
            "requests to other hosts": self.third_party,
            "failed requests": self.failed,
            "console errors": self.console_errors,
            "uncaught page errors": self.page_errors,
        }
        return {k: v for k, v in found.items() if v}


class Served:
    """The site built with ``site_url`` set to the address it is served from (instant navigation needs it)."""

    def __init__(self, url: str, site: Path) -> None:
        self.url = url  # "http://127.0.0.1:PORT/"
        self.origin = url.rstrip("/")
        self.site = site

    def __call__(self, path: str = "") -> str:
        return self.url + path


class Report:
    """Figures gathered across the session (every process's part merged), written to build/browser/ and printed
    with ``-s``."""

    def __init__(self) -> None:
        self.requests = 0
        self.third_party: list[str] = []
        self.weights: dict[str, dict[str, Any]] = {}
        self.axe: dict[str, list[dict[str, Any]]] = {}

    def add(self, log: NetLog) -> None:
        self.requests += len(log.requests)
        self.third_party += log.third_party

    def to_json(self) -> dict[str, Any]:
        """What one test process recorded, for :meth:`absorb` in the process that writes the report."""
        return {"requests": self.requests, "third_party": self.third_party, "weights": self.weights, "axe": self.axe}

    def absorb(self, part: dict[str, Any]) -> None:
        self.requests += part["requests"]
        self.third_party += part["third_party"]
        self.weights.update(part["weights"])
        self.axe.update(part["axe"])

    def write(self) -> list[str]:
        """Write the report's files; the lines of its summary (``make test`` prints them with ``-s``)."""
        REPORTS.mkdir(parents=True, exist_ok=True)
        lines = []
        if self.weights:
            lines.append("Page weight, first view, gzip (search index and worker excluded)")
            lines.append(f"  {'review':<12} {'responses':>9} {'raw kB':>8} {'gzip kB':>8}  budget")
            for slug, w in sorted(self.weights.items()):
                verdict = "ok" if w["gzip_bytes"] <= w["budget_bytes"] else "OVER"
                lines.append(
                    f"  {slug:<12} {w['responses']:>9} {w['raw_bytes'] / 1000:>8.1f} "
                    f"{w['gzip_bytes'] / 1000:>8.1f}  {verdict} ({w['budget_bytes'] / 1000:.0f} kB)"
                )
            weights = json.dumps(dict(sorted(self.weights.items())), indent=2)
            (REPORTS / "page-weight.json").write_text(weights + "\n", encoding="utf-8")
        if self.axe:
            pages = {view.rsplit(" [", 1)[0] for view in self.axe}
            lines.append(f"Pages checked (clean load and axe-core, light and dark): {len(pages)}")
            by_impact: dict[str, int] = {}
            for nodes in self.axe.values():
                for n in nodes:
                    key = f"{n['impact']}{' (known)' if n['known'] else ''}"
                    by_impact[key] = by_impact.get(key, 0) + 1
            lines.append(f"axe-core: {len(self.axe)} page views, violating elements by impact: {by_impact or 'none'}")
            rules: dict[tuple[str, str, bool], set[str]] = {}
            for view, nodes in self.axe.items():
                for n in nodes:
                    rules.setdefault((n["id"], n["impact"], n["known"]), set()).add(view)
            for (rule, impact, known), views in sorted(rules.items()):
                lines.append(f"  {rule} ({impact}{', known' if known else ''}): {len(views)} page views")
            (REPORTS / "axe.json").write_text(json.dumps(self.axe, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        lines.append(f"Requests: {self.requests} seen, {len(self.third_party)} to other hosts (any is aborted unsent)")
        (REPORTS / "requests.json").write_text(
            json.dumps({"requests": self.requests, "third_party": self.third_party}, indent=2) + "\n", encoding="utf-8"
        )
        return lines


# Math is typeset when the site is built (kbsite/math.py): a page that loads KaTeX's JavaScript is a regression.
_KATEX_SCRIPT = re.compile(r"(katex[^/]*|auto-render[^/]*|katex-init)\.js(\?|#|$)", re.IGNORECASE)


def katex_scripts(urls: list[str]) -> list[str]:
    """The URLs among ``urls`` that are KaTeX's JavaScript (katex.min.js, its auto-render, an init script)."""
    return [u for u in urls if _KATEX_SCRIPT.search(urlsplit(u).path if "://" in u else u)]


def load_problems(response, log: NetLog, served: Served) -> list[str]:
    """What went wrong loading a page (after :func:`wait_until_quiet`), as readable lines."""
    problems = [] if response is not None and response.ok else [f"HTTP {response and response.status}"]
    problems += [f"{kind}: {item}" for kind, items in log.problems().items() for item in items]
    problems += [f"loaded KaTeX's JavaScript (math is typeset by the build): {u}" for u in katex_scripts(log.requests)]
    if served("search/search_index.json") not in log.requests:
        problems.append("the search worker never fetched search/search_index.json")
    return problems


def wait_until_quiet(
    page,
    log: NetLog,
    expected: tuple[str, ...] = ("search/search_index.json",),
    quiet_ms: int = 50,
    timeout_ms: int = 10_000,
) -> None:
    """After the load event, wait until the fonts are ready, every URL path in ``expected`` (relative to the site)
    has been requested since the page load began, and no request has been in flight for ``quiet_ms``. The search
    worker fetches the index a moment after "load", and between the two nothing may be pending: waiting for the
    index itself, not for a long silence, is what makes the short quiet safe. Playwright's "networkidle" waits for
    a fixed 500 ms instead."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    wanted = [f"{log.origin}/{path}" for path in expected]  # requested by this page load, not an earlier one
    quiet = waited = 0
    step = 25
    while quiet < quiet_ms:
        if waited > timeout_ms:
            missing = [u for u in wanted if u not in log.since_load]
            raise AssertionError(
                f"after {timeout_ms} ms, requests still pending: {[r.url for r in log.pending]}; never requested: "
                f"{missing}"
            )
        page.wait_for_timeout(step)
        waited += step
        settled = not log.pending and all(u in log.since_load for u in wanted)
        quiet = quiet + step if settled else 0


# Every .arithmatex has KaTeX output, no KaTeX error, and no TeX delimiter or command is left in the page's text
# (code, KaTeX's own output and its hidden MathML copy of the source aside).
MATH_JS = r"""() => {
  const math = [...document.querySelectorAll(".md-content .arithmatex")];
  const unrendered = math.filter(e => !e.querySelector(".katex")).map(e => e.textContent.trim().slice(0, 80));
  const errors = [...document.querySelectorAll(".katex-error")].map(e => e.title || e.textContent.slice(0, 80));
  const skip = "pre, code, kbd, samp, script, style, textarea, .katex";
  const raw = [];
  const tex = /\\[()\[\]]|\\[A-Za-z]+|\$\$/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.textContent.match(tex);
    if (m) raw.push(node.textContent.slice(Math.max(0, m.index - 30), m.index + 40).trim());
  }
  return {count: math.length, rendered: math.length - unrendered.length, unrendered, errors, raw};
}"""

# The layout shifts of the page so far (the reader's own input aside), largest first, with what moved: the page must
# not move under the reader as fonts arrive, Material starts or skipped blocks (kb.css) are rendered.
# Layout shifts are not in performance.getEntries(); a buffered observer receives those so far, and takeRecords()
# hands them over at once (waiting for its callback would mean a timeout when there is none).
LAYOUT_SHIFT_JS = r"""() => {
  const observer = new PerformanceObserver(() => {});
  observer.observe({type: "layout-shift", buffered: true});
  const entries = observer.takeRecords();
  observer.disconnect();
  return entries.filter(e => !e.hadRecentInput)
    .map(e => ({value: e.value, moved: e.sources.map(s => s.node ? (s.node.className || s.node.nodeName) : "?")}))
    .sort((a, b) => b.value - a.value);
}"""
LAYOUT_SHIFT_MAX = 0.02  # Lighthouse's target for cumulative layout shift on the review pages (make lighthouse)

# Renders every block of the article that kb.css lets the browser skip off screen (content-visibility: auto).
RENDER_EVERY_BLOCK_CSS = ".md-content__inner > * { content-visibility: visible !important; }"

# Material sets a code block up (its copy button) when the block comes into view (content.lazy in mkdocs.yml). To
# bring every block into view: render every skipped block, open every closed <details>, show every tab of a tab
# set, then scroll to each block not set up yet and wait (up to 30 frames) for its button. Takes
# RENDER_EVERY_BLOCK_CSS; HIDE_AGAIN_JS undoes it.
SHOW_EVERY_BLOCK_JS = r"""async css => {
  const s = document.createElement("style"); s.id = "kb-reveal-every-block";
  s.textContent = css + " .md-content .tabbed-block { display: block !important; }";
  document.head.append(s);
  for (const d of document.querySelectorAll(".md-content details:not([open])")) {
    d.open = true;
    d.dataset.kbOpened = "";
  }
  const frame = () => new Promise(done => requestAnimationFrame(done));
  const ready = c => c.parentElement.querySelector("button.md-code__button[data-md-type=copy]");
  for (const code of document.querySelectorAll(".md-content pre > code")) {
    if (ready(code)) continue;
    code.scrollIntoView({block: "center"});
    for (let i = 0; i < 30 && !ready(code); i++) await frame();
  }
  scrollTo(0, 0);
}"""
HIDE_AGAIN_JS = r"""() => {
  document.getElementById("kb-reveal-every-block").remove();
  for (const d of document.querySelectorAll("details[data-kb-opened]")) { d.open = false; delete d.dataset.kbOpened; }
}"""

# Code blocks that Material has not set up yet and that take no keyboard focus (a11y.js gives them a tab stop until
# Material decides whether they scroll).
UNREACHABLE_BLOCKS_JS = r"""() => [...document.querySelectorAll(".md-content pre > code")]
  .filter(c => !c.parentElement.querySelector("button.md-code__button") && c.getAttribute("tabindex") !== "0")
  .map(c => c.textContent.trim().slice(0, 60))"""

# Code blocks of the article without Material's copy button.
COPY_JS = r"""() => {
  const blocks = [...document.querySelectorAll(".md-content pre > code")].map(c => c.parentElement);
  const missing = blocks.filter(pre => !pre.querySelector("button.md-code__button[data-md-type=copy]"));
  return {blocks: blocks.length, missing: missing.map(pre => pre.textContent.trim().slice(0, 60))};
}"""

# Every citation link and whether its target is exactly one reference item.
CITATIONS_JS = r"""() => [...document.querySelectorAll("a.kb-cite")].map(a => {
  const id = decodeURIComponent(a.hash.slice(1));
  const targets = document.querySelectorAll(`[id="${CSS.escape(id)}"]`);
  const t = targets[0];
  return {text: a.textContent, href: a.getAttribute("href"), samePage: a.pathname === location.pathname,
          targets: targets.length, isReference: !!t && t.tagName === "LI" && !!t.closest("ul.kb-references")};
})"""


def recorded_context(browser: Browser, served: Served, log: NetLog | Relay) -> BrowserContext:
    """A new context whose every request, console error and page error goes to ``log``; other hosts are aborted.
    (Playwright's routing also turns the HTTP cache off: every page load fetches everything.)"""
    ctx = browser.new_context(base_url=served.url, viewport=VIEWPORT, color_scheme="light")
    ctx.set_default_timeout(10_000)
    # Nothing leaves the machine: any URL outside the served origin is aborted before it is sent.
    ctx.route(re.compile(r"^(?!" + re.escape(served.origin) + r"(/|$))"), lambda route: route.abort("blockedbyclient"))
    ctx.on("request", log.on_request)
    ctx.on("requestfinished", log.on_request_finished)
    ctx.on("requestfailed", log.on_request_failed)
    ctx.on("response", log.on_response)
    ctx.on("console", log.on_console)
    ctx.on("weberror", lambda error: log.on_page_error(error.error))
    return ctx


class Relay:
    """Hands the events of the shared context to the NetLog of the test using it now, and drops them in between."""

    def __init__(self) -> None:
        self.log: NetLog | None = None

    def __getattr__(self, name: str):
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda event: None if self.log is None else getattr(self.log, name)(event)


class SharedTab:
    """The one tab of a worker's shared context, handed from test to test. A new tab would cost Chromium a renderer
    process of its own; the same tab moves to the next page in the renderer it has (measured by hand on the page
    checks, three runs each: 28-29 busy core-seconds against 32-34 with a new tab per page). Nothing carries over
    that a first view would not have: the HTTP cache is off in every context (Playwright's routing), so each page
    load fetches everything again, and :meth:`reset` clears what the page stored, sets the system's colour scheme
    back to light and leaves the tab on about:blank, so a new page load starts from nothing. A test that changes
    anything else about its tab (viewport, other emulated media, a page handler it does not remove) uses the ``page``
    fixture instead."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self._page: Page | None = None

    def page(self) -> Page:
        if self._page is None or self._page.is_closed():
            self._page = self.context.new_page()
        return self._page

    def reset(self) -> None:
        """Leave the tab as a test found it; if that fails, close it (the next test gets a new one) and raise."""
        page = self.page()
        try:
            if page.url != "about:blank":
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
            page.emulate_media(color_scheme="light")
            page.goto("about:blank")
        except Exception:
            page.close()
            raise
