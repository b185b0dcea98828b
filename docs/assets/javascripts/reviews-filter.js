// Filter and sort controls for the reviews index (docs/reviews/index.md). The table itself is plain HTML built at
// build time and lists every review without JavaScript; this script only hides and reorders its rows.
(function () {
  "use strict";
  var FILTERS = ["Topic", "Tags", "Venue", "Year"];

  function cellValues(row, index, name) {
    var text = row.cells[index].textContent.trim();
    if (name === "Tags") return text.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    return text ? [text] : [];
  }

  function select(label, options) {
    var wrap = document.createElement("label");
    wrap.className = "kb-filter";
    wrap.appendChild(document.createTextNode(label + " "));
    var sel = document.createElement("select");
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0];
      opt.textContent = o[1];
      sel.appendChild(opt);
    });
    wrap.appendChild(sel);
    return { wrap: wrap, select: sel };
  }

  function setup() {
    var box = document.querySelector(".kb-reviews-index");
    var table = box && box.querySelector("table");
    if (!table || box.dataset.ready) return;
    box.dataset.ready = "1";
    var head = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var form = document.createElement("form");
    form.className = "kb-filters";
    form.setAttribute("role", "search");
    form.setAttribute("aria-label", "Filter and sort the reviews");
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var controls = {};
    FILTERS.forEach(function (name) {
      var index = head.indexOf(name);
      if (index < 0) return;
      var seen = {};
      rows.forEach(function (r) { cellValues(r, index, name).forEach(function (v) { seen[v] = true; }); });
      var values = Object.keys(seen).sort(function (a, b) { return a.localeCompare(b); });
      if (name === "Year") values.reverse();
      var control = select(name === "Tags" ? "Tag" : name, [["", "All"]].concat(values.map(function (v) { return [v, v]; })));
      controls[name] = { index: index, select: control.select };
      form.appendChild(control.wrap);
    });
    var sort = select("Sort by", [["title", "Title (A–Z)"], ["year-desc", "Year (newest first)"], ["year-asc", "Year (oldest first)"]]);
    form.appendChild(sort.wrap);
    var status = document.createElement("p");
    status.className = "kb-filter-status";
    status.setAttribute("aria-live", "polite");
    box.insertBefore(form, box.firstChild);
    box.insertBefore(status, form.nextSibling);
    var titleIndex = head.indexOf("Review");
    var yearIndex = head.indexOf("Year");

    function update() {
      var shown = 0;
      rows.forEach(function (row) {
        var ok = Object.keys(controls).every(function (name) {
          var want = controls[name].select.value;
          return !want || cellValues(row, controls[name].index, name).indexOf(want) >= 0;
        });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      var key = sort.select.value;
      var ordered = rows.slice().sort(function (a, b) {
        var ta = a.cells[titleIndex].textContent, tb = b.cells[titleIndex].textContent;
        if (key !== "title") {
          var ya = parseInt(a.cells[yearIndex].textContent, 10) || 0, yb = parseInt(b.cells[yearIndex].textContent, 10) || 0;
          if (ya !== yb) return key === "year-desc" ? yb - ya : ya - yb;
        }
        return ta.localeCompare(tb);
      });
      ordered.forEach(function (row) { body.appendChild(row); });
      status.textContent = shown + " of " + rows.length + " reviews";
    }
    form.addEventListener("change", update);
    update();
  }

  if (typeof document$ !== "undefined") document$.subscribe(setup);
  else document.addEventListener("DOMContentLoaded", setup);
})();
