"""The palette toggle (system -> light -> dark -> system) changes the colours and is remembered across pages."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.support import NetLog, Served, use_small_search_index, wait_until_quiet

TOGGLE = "form[data-md-component=palette] label.md-header__button:visible"
STATE_JS = """() => ({scheme: document.body.dataset.mdColorScheme, media: document.body.dataset.mdColorMedia,
                     background: getComputedStyle(document.body).backgroundColor})"""


def _luminance(css_color: str) -> float:
    """Brightness (0 black .. 1 white, luma weights) of an ``rgb(...)``/``rgba(...)`` colour."""
    r, g, b = (float(v) / 255 for v in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _load(page: Page, net: NetLog, url: str) -> None:
    """Load a page and let its requests finish (the search worker comes after "load"): leaving a page earlier would
    abort them, a failure of the test, not of the site."""
    page.goto(url, wait_until="load")
    wait_until_quiet(page, net)


def _toggle(page: Page, expected_label: str) -> None:
    button = page.locator(TOGGLE)
    assert button.get_attribute("title") == expected_label
    button.click()


def test_toggle_cycles_through_system_light_and_dark_and_is_remembered(page: Page, net: NetLog, served: Served) -> None:
    """The pages get a search index of no documents (:func:`tests.browser.support.use_small_search_index`): each of
    the four page loads would otherwise index the whole site again."""
    use_small_search_index(page.context, served)
    page.emulate_media(color_scheme="dark")  # a system in dark mode, so "light" is a real choice
    _load(page, net, served())
    state = page.evaluate(STATE_JS)
    assert (state["scheme"], state["media"]) == ("slate", "(prefers-color-scheme)"), "first state follows the system"
    dark_background = _luminance(state["background"])

    _toggle(page, "Switch to light mode")
    state = page.evaluate(STATE_JS)
    assert (state["scheme"], state["media"]) == ("default", "(prefers-color-scheme: light)")
    light_background = _luminance(state["background"])
    assert light_background > 0.8 and dark_background < 0.2, (light_background, dark_background)

    # Light is remembered against the dark system: on a full page load and on an instant navigation.
    _load(page, net, served("reviews/"))
    assert page.evaluate(STATE_JS)["scheme"] == "default"
    page.locator(".md-tabs a.md-tabs__link", has_text="Home").click()
    page.wait_for_url(served())
    assert page.evaluate(STATE_JS)["scheme"] == "default"

    _toggle(page, "Switch to dark mode")
    assert page.evaluate(STATE_JS)["scheme"] == "slate"
    page.emulate_media(color_scheme="light")  # an explicit choice ignores the system
    _load(page, net, served("bibliography/"))
    state = page.evaluate(STATE_JS)
    assert (state["scheme"], state["media"]) == ("slate", "(prefers-color-scheme: dark)")
    assert _luminance(state["background"]) < 0.2

    _toggle(page, "Switch to system preference")
    _load(page, net, served("tags/"))
    state = page.evaluate(STATE_JS)
    assert (state["scheme"], state["media"]) == ("default", "(prefers-color-scheme)"), "back to following the system"
    page.emulate_media(color_scheme="dark")
    page.wait_for_function("() => document.body.dataset.mdColorScheme === 'slate'")
    assert net.problems() == {}
