// Settings → Web forms: put the rows of fields in order by dragging them or with the arrow buttons.
// The order of the rows is the order of the fields on the form (the checkboxes are sent in it).
(function () {
  "use strict";

  function setUp(body) {
    if (body.dataset.ready) return;
    body.dataset.ready = "1";
    if (window.Sortable) {
      window.Sortable.create(body, { handle: "[data-handle]", animation: 150 });
    }
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button) return;
      var row = button.closest("[data-row]");
      if (button.getAttribute("data-move") === "up" && row.previousElementSibling) {
        body.insertBefore(row, row.previousElementSibling);
      } else if (button.getAttribute("data-move") === "down" && row.nextElementSibling) {
        body.insertBefore(row.nextElementSibling, row);
      }
      button.focus();
    });
  }

  function init() {
    document.querySelectorAll("[data-sortable-rows]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
