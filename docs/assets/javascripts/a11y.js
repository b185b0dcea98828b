// Accessibility fixes for two spots of Material's markup that have no configuration option. Re-applied on
// Material's document$, which fires on the first load and after every instant navigation.

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
});
