// Accessibility fixes for two spots of Material's markup that have no configuration option. Re-applied on
// Material's document$, which fires on the first load and after every instant navigation.
document$.subscribe(() => {
  // The search box is a role="dialog" without a name (axe: aria-dialog-name).
  const search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
  // A table wider than the column scrolls inside this wrapper; make it reachable by keyboard
  // (axe: scrollable-region-focusable).
  for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap")) {
    if (wrap.scrollWidth > wrap.clientWidth && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Scrollable table");
    }
  }
});
