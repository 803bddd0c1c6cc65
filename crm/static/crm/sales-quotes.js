/* The quote form: removing a line marks it deleted (the server drops it when the form is saved) and
   hides it; the totals are then recomputed. Adding a line and pricing a product are htmx requests. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-line-remove]");
    if (!button) return;
    var row = button.closest("[data-line]");
    if (!row) return;
    var box = row.querySelector("[data-line-delete]");
    if (box) box.checked = true;
    row.hidden = true;
    document.body.dispatchEvent(new CustomEvent("quote-lines-changed"));
  });
})();
