/* cspbook: sort a table by a column when its heading (a button) is pressed: mouse, Enter or
   Space. aria-sort on the heading says how the table is sorted; a cell's data-sort holds its
   value (a number when every filled cell of the column is one); an empty value sorts last
   either way. No third-party code and no request: the rows are already on the page. */
(function () {
  "use strict";

  function value(row, index) {
    var cell = row.cells[index];
    return cell ? (cell.getAttribute("data-sort") || "") : "";
  }

  function sortTable(button) {
    var th = button.closest("th");
    var table = button.closest("table");
    var index = Number(button.getAttribute("data-column"));
    var current = th.getAttribute("aria-sort");
    var first = button.getAttribute("data-first") || "descending";
    var dir = current === "descending" ? "ascending" : current === "ascending" ? "descending" : first;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) { var v = value(r, index); return v === "" || !isNaN(Number(v)); });
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = value(a, index), y = value(b, index);
      if (x === "" || y === "") { return (x === "") - (y === ""); }
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, "en-GB");
      return sign * order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.cspbook-sort") : null;
    if (button) { sortTable(button); }
  });
})();
