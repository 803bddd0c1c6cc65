/* Company and contact pages: bulk selection, filter bar, email and phone rows (the company and
   people pickers are in app.js).
   Kept out of templates so a strict Content-Security-Policy holds. Everything works without it,
   only less comfortably. */
(function () {
  "use strict";

  // --- bulk selection -------------------------------------------------------------------------

  function bulkForm(element) {
    return element.closest("[data-bulk-form]");
  }

  function refreshBulk(form) {
    if (!form) return;
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-bulk-row]"));
    var picked = rows.filter(function (row) { return row.checked; }).length;
    var all = form.querySelector("[data-bulk-all]");
    if (all) {
      all.checked = rows.length > 0 && picked === rows.length;
      all.indeterminate = picked > 0 && picked < rows.length;
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = String(picked);
    var bar = form.querySelector("[data-bulk-bar]");
    if (bar) bar.classList.toggle("is-active", picked > 0);
    var action = form.querySelector("[data-bulk-action]");
    var apply = form.querySelector("[data-bulk-apply]");
    if (apply) apply.disabled = picked === 0 || !action || !action.value;
    var merge = form.querySelector("[data-bulk-merge]");
    if (merge) merge.disabled = picked < 2 || picked > Number(merge.getAttribute("data-bulk-merge-max") || 10);
    showBulkValue(form);
  }

  function showBulkValue(form) {
    var action = form.querySelector("[data-bulk-action]");
    var chosen = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (element) {
      var wanted = element.getAttribute("data-bulk-for").split(" ").indexOf(chosen) >= 0;
      element.hidden = !wanted;
      // A select, or a picker whose inputs are inside: what is hidden is not sent.
      var controls = element.matches("select, input") ? [element] : element.querySelectorAll("input, select, button");
      Array.prototype.forEach.call(controls, function (control) { control.disabled = !wanted; });
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-bulk-all]")) {
      var form = bulkForm(target);
      form.querySelectorAll("[data-bulk-row]").forEach(function (row) { row.checked = target.checked; });
      refreshBulk(form);
    } else if (target.matches("[data-bulk-row], [data-bulk-action]")) {
      refreshBulk(bulkForm(target));
    }
  });

  // On a phone the filters fold away behind one button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-filters]");
    if (!button) return;
    var fields = document.getElementById(button.getAttribute("aria-controls"));
    var open = fields.classList.toggle("is-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // --- the filter bar: no empty parameters in the address -------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (!source.closest || !source.closest("[data-clean-query]")) return;
    var params = event.detail.parameters;
    var empty = [];
    event.detail.formData.forEach(function (value, key) {
      if (value === "" && empty.indexOf(key) < 0) empty.push(key);
    });
    empty.forEach(function (key) { delete params[key]; });
  });

  // After the rows were replaced: fresh selection state, and the column chooser returns to this view.
  document.addEventListener("htmx:afterSettle", function (event) {
    var results = event.detail.target;
    if (results && results.id === "list-results") {
      refreshBulk(bulkForm(results));
      document.querySelectorAll("[data-current-url]").forEach(function (next) {
        next.value = window.location.pathname + window.location.search;
      });
    }
  });

  // --- email and phone rows -------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var set = button.closest("[data-rowset]");
    var prefix = set.getAttribute("data-rowset");
    var total = set.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var template = set.querySelector("template[data-row-template]");
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).trim();
    var row = holder.firstElementChild;
    set.querySelector("[data-rows]").appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input:not([type=checkbox])");
    if (first) first.focus();
  });

  // One primary address and one primary number.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var group = box.getAttribute && box.getAttribute("data-primary-group");
    if (!group || !box.checked) return;
    document.querySelectorAll('[data-primary-group="' + group + '"]').forEach(function (other) {
      if (other !== box) other.checked = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-bulk-form]").forEach(refreshBulk);
  });

  // My tasks: a group's count follows the tasks completed or reopened in it (each row swaps itself).
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-task-group]").forEach(function (group) {
      var count = group.querySelector("[data-task-count]");
      if (count) count.textContent = String(group.querySelectorAll('[data-testid="task-row"][data-status="open"]').length);
    });
  });

  // Inline edit in a list cell: Enter saves and Escape cancels (the list is a form: Enter must not submit it).
  document.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest("[data-inline-form]");
    if (!cell || (event.key !== "Enter" && event.key !== "Escape")) return;
    event.preventDefault();
    var button = cell.querySelector(event.key === "Enter" ? "[data-inline-save]" : "[data-inline-cancel]");
    if (button) button.click();
  });
})();
