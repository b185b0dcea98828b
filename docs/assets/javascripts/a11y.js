// Accessibility fixes for spots of Material's markup that have no configuration option. Re-applied on Material's
// document$, which fires on the first load and after every instant navigation.

// A table wider than the column scrolls inside Material's wrapper; while it does, the wrapper is a named region
// reachable by keyboard (axe: scrollable-region-focusable). A ResizeObserver answers after the browser has laid
// the table out: when the page first renders, when a block skipped off screen (kb.css) is rendered, and when the
// window is resized. It never forces a layout of its own.
const kbScrollwraps = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    const wrap = target.closest(".md-typeset__scrollwrap");
    if (!wrap) continue;
    if (wrap.scrollWidth > wrap.clientWidth) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Scrollable table");
    } else if (wrap.getAttribute("aria-label") === "Scrollable table") {
      for (const name of ["tabindex", "role", "aria-label"]) wrap.removeAttribute(name);
    }
  }
});

// A code block whose lines are wider than the column scrolls, and while it does it must take keyboard focus (axe:
// scrollable-region-focusable). Material decides this when it sets a block up, and with its content.lazy feature
// (mkdocs.yml) it sets a block up only when the block comes into view. Until then every block takes focus: a keyboard
// user who tabs to a block brings it into view, and Material then keeps or removes the tab stop. No size is read
// here. As Material does, only where the device can hover (it leaves code blocks out of the tab order on touch
// screens).
const kbHover = matchMedia("(hover)").matches;

document$.subscribe(() => {
  // The search box is a role="dialog" without a name (axe: aria-dialog-name).
  const search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
  kbScrollwraps.disconnect(); // the previous page's tables are gone after an instant navigation
  for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap")) {
    kbScrollwraps.observe(wrap);
    for (const table of wrap.querySelectorAll(":scope > .md-typeset__table > table, :scope > table")) {
      kbScrollwraps.observe(table);
    }
  }
  if (kbHover) {
    for (const code of document.querySelectorAll(".md-content pre > code:not([tabindex])")) {
      code.setAttribute("tabindex", "0");
    }
  }
});
