/* The kanban board: SortableJS moves cards between columns; each drop is posted to the deal's move
   URL with the card's version. A refused move (someone else was first, or a rule says no) is told
   and the board reloads to show the current state; a drop on a "lost" column opens the close page,
   which asks for the reason. */
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function say(board, text) {
    var box = document.querySelector("[data-board-message]");
    if (!box) { return; }
    box.textContent = text;
    box.classList.remove("d-none");
  }

  function updateColumn(stageId, figures) {
    var column = document.querySelector('.crm-board-column[data-stage="' + stageId + '"]');
    if (!column) { return; }
    var count = column.querySelector("[data-count]");
    var total = column.querySelector("[data-total]");
    var weighted = column.querySelector("[data-weighted]");
    if (count) { count.textContent = figures.count; }
    if (total) { total.textContent = figures.total; }
    if (weighted) { weighted.textContent = figures.weighted; }
  }

  function move(board, card, toList) {
    var url = board.getAttribute("data-move-url-template").replace("/0/", "/" + card.getAttribute("data-deal") + "/");
    var body = new FormData();
    body.append("stage", toList.getAttribute("data-stage"));
    body.append("version", card.getAttribute("data-version"));
    var next = card.nextElementSibling;
    while (next && !next.hasAttribute("data-deal")) { next = next.nextElementSibling; }
    if (next) { body.append("before", next.getAttribute("data-deal")); }
    var params = new URLSearchParams(window.location.search);
    params.forEach(function (value, key) { if (!body.has(key)) { body.append(key, value); } });
    fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      })
      .then(function (result) {
        if (result.status === 200) {
          card.setAttribute("data-version", result.data.version);
          Object.keys(result.data.columns).forEach(function (stageId) { updateColumn(stageId, result.data.columns[stageId]); });
        } else if (result.status === 202 && result.data.redirect) {
          window.location.href = result.data.redirect;
        } else {
          say(board, result.data.error || board.getAttribute("data-error"));
          window.setTimeout(function () { window.location.reload(); }, 1800);
        }
      })
      .catch(function () { window.location.reload(); });
  }

  function init() {
    var board = document.querySelector("[data-board]");
    if (!board || typeof Sortable === "undefined" || board.getAttribute("data-can-edit") !== "1") { return; }
    board.querySelectorAll("[data-cards]").forEach(function (list) {
      Sortable.create(list, {
        group: "deals",
        draggable: "[data-deal]",
        animation: 120,
        filter: ".crm-board-more",
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) { return; }
          move(board, event.item, event.to);
        }
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
