// A citation (a link to a fragment of the same page) clicked while Material's script is still starting: the browser
// scrolls to the target, then Material's start-up puts back the scroll position it had saved, and the reader is left
// where they were with the fragment in the address bar. Once Material is up (document$, also after each instant
// navigation), bring the fragment's target into view if it is out of view.
document$.subscribe(() => {
  const id = decodeURIComponent(location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (!target) return;
  const box = target.getBoundingClientRect();
  if (box.bottom <= 0 || box.top >= innerHeight) target.scrollIntoView();
});
