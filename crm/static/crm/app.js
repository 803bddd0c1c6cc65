/* Small page behaviours, kept out of templates so a strict Content-Security-Policy holds. */
(function () {
  "use strict";

  // Ctrl-K / Cmd-K (and "/") focus the global search box.
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search");
    if (!box) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target && event.target.tagName) || "");
    if (((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") || (event.key === "/" && !typing)) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Arrow keys move through search results; Enter opens the selected one; Escape closes.
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search");
    if (!box || event.target !== box) return;
    var panel = document.getElementById("search-results");
    var items = panel ? Array.prototype.slice.call(panel.querySelectorAll("a.list-group-item")) : [];
    if (event.key === "Escape") { panel.innerHTML = ""; return; }
    if (!items.length) return;
    var index = items.findIndex(function (item) { return item.classList.contains("is-selected"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (index >= 0) items[index].classList.remove("is-selected");
      index = event.key === "ArrowDown" ? Math.min(items.length - 1, index + 1) : Math.max(0, index - 1);
      items[index].classList.add("is-selected");
      items[index].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter" && index >= 0) {
      event.preventDefault();
      window.location.href = items[index].href;
    }
  });

  // Close the search panel when clicking elsewhere.
  document.addEventListener("click", function (event) {
    var panel = document.getElementById("search-results");
    if (panel && !event.target.closest(".crm-search")) panel.innerHTML = "";
  });

  // <form data-confirm="Are you sure?"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim());
      button.classList.add("btn-success");
    }
  });
})();
