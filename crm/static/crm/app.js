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

  // --- pickers: a text box that suggests choices as one types -----------------------------------
  // Markup: core/widgets/_autocomplete.html (people, companies). htmx asks the box's endpoint with
  // ?q= and puts its answer, <button data-autocomplete-pick data-id data-name> options, under the box.

  function picker(element) {
    return element.closest("[data-autocomplete]");
  }

  function pickerInput(box) {
    return box.querySelector("[data-autocomplete-input]");
  }

  function pickerOptions(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[data-autocomplete-pick]:not([hidden])"));
  }

  function isMultiple(box) {
    return box.hasAttribute("data-autocomplete-multiple");
  }

  function isFreeText(box) {
    return box.hasAttribute("data-autocomplete-free-text");
  }

  function announceChange(element) {
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function closePicker(box) {
    var results = box.querySelector("[data-autocomplete-results]");
    if (results) results.innerHTML = "";
    var input = pickerInput(box);
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
  }

  function chosenIds(box) {
    return Array.prototype.map.call(box.querySelectorAll("[data-autocomplete-chip] input"), function (input) {
      return input.value;
    });
  }

  function setChoice(box, id, name) {
    var hidden = box.querySelector("[data-autocomplete-value]");
    var before = hidden.value;
    hidden.value = id;
    hidden.setAttribute("data-label", name);
    pickerInput(box).value = name;
    var clear = box.querySelector("[data-autocomplete-clear]");
    if (clear) clear.hidden = !id;
    if (before !== id) announceChange(hidden);
  }

  function addChip(box, id, name) {
    if (chosenIds(box).indexOf(id) >= 0) return;
    var chip = document.createElement("span");
    chip.className = "badge bg-blue-lt crm-autocomplete-chip";
    chip.setAttribute("data-autocomplete-chip", "");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = box.getAttribute("data-autocomplete-multiple");
    hidden.value = id;
    var label = document.createElement("span");
    label.className = "crm-autocomplete-chip-label";
    label.textContent = name;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "crm-autocomplete-remove";
    remove.setAttribute("data-autocomplete-remove", "");
    remove.setAttribute("aria-label", (box.getAttribute("data-remove-label") || "") + " " + name);
    var icon = document.createElement("i");
    icon.className = "ti ti-x";
    icon.setAttribute("aria-hidden", "true");
    remove.appendChild(icon);
    chip.appendChild(hidden);
    chip.appendChild(label);
    chip.appendChild(remove);
    box.querySelector("[data-autocomplete-chips]").appendChild(chip);
    announceChange(hidden);
  }

  function removeChip(chip) {
    var box = picker(chip);
    chip.parentNode.removeChild(chip);
    announceChange(box);
    pickerInput(box).focus();
  }

  function pick(option) {
    var box = picker(option);
    var input = pickerInput(box);
    var id = option.getAttribute("data-id");
    var name = option.getAttribute("data-name");
    if (isMultiple(box)) {
      addChip(box, id, name);
      input.value = "";
    } else {
      setChoice(box, id, name);
    }
    closePicker(box);
    if (document.activeElement !== input) input.focus();
  }

  // Leaving the box: a strict picker shows its choice again (or none, when the text was erased).
  function settle(box) {
    var input = pickerInput(box);
    if (isMultiple(box)) {
      input.value = "";
      return;
    }
    if (isFreeText(box)) return;
    var hidden = box.querySelector("[data-autocomplete-value]");
    if (!input.value.trim()) {
      if (hidden.value) setChoice(box, "", "");
    } else if (input.value !== hidden.getAttribute("data-label")) {
      input.value = hidden.getAttribute("data-label") || "";
    }
  }

  function highlight(box, options, index) {
    options.forEach(function (option, position) {
      var on = position === index;
      option.classList.toggle("is-selected", on);
      option.setAttribute("aria-selected", on ? "true" : "false");
    });
    var input = pickerInput(box);
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  // The request: ?q= is the typed text; the choice itself on display asks for the first suggestions.
  document.addEventListener("htmx:configRequest", function (event) {
    var input = event.detail.elt;
    if (!input.matches || !input.matches("[data-autocomplete-input]")) return;
    var box = picker(input);
    var text = input.value.trim();
    var hidden = box.querySelector("[data-autocomplete-value]");
    if (hidden && !isFreeText(box) && hidden.value && input.value === hidden.getAttribute("data-label")) text = "";
    event.detail.parameters.q = text;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var results = event.detail.target;
    if (!results || !results.matches || !results.matches("[data-autocomplete-results]")) return;
    var box = picker(results);
    var input = pickerInput(box);
    if (document.activeElement !== input) {
      closePicker(box);  // the answer came after the person moved on
      return;
    }
    var chosen = isMultiple(box) ? chosenIds(box) : [];
    box.querySelectorAll("[data-autocomplete-pick]").forEach(function (option, position) {
      option.id = results.id + "-" + position;
      option.tabIndex = -1;
      option.setAttribute("aria-selected", "false");
      if (chosen.indexOf(option.getAttribute("data-id")) >= 0) option.hidden = true;
    });
    input.setAttribute("aria-expanded", results.children.length ? "true" : "false");
  });

  // Clicking a suggestion must not take the focus away from the text box first.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-autocomplete-results]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-autocomplete-pick]");
    if (option) {
      event.preventDefault();
      pick(option);
      return;
    }
    var remove = event.target.closest("[data-autocomplete-remove]");
    if (remove) {
      event.preventDefault();
      removeChip(remove.closest("[data-autocomplete-chip]"));
      return;
    }
    var clear = event.target.closest("[data-autocomplete-clear]");
    if (clear) {
      event.preventDefault();
      var box = picker(clear);
      setChoice(box, "", "");
      closePicker(box);
      pickerInput(box).focus();
      return;
    }
    document.querySelectorAll("[data-autocomplete]").forEach(function (other) {
      if (!other.contains(event.target)) closePicker(other);
    });
  });

  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-autocomplete-input]") && input.value) input.select();
  });

  // Leaving the text box (for anything but one of its suggestions) settles the picker.
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-autocomplete-input]")) return;
    var box = picker(input);
    var results = box.querySelector("[data-autocomplete-results]");
    if (event.relatedTarget && results && results.contains(event.relatedTarget)) return;
    closePicker(box);
    settle(box);
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-autocomplete-input]") && isFreeText(picker(input))) {
      // The typed name is sent too: the previous choice no longer holds until a suggestion is picked.
      picker(input).querySelector("[data-autocomplete-value]").value = "";
    }
  });

  // The text box is only for searching: its own "change" must not send a filter form.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-autocomplete-input]")) event.stopPropagation();
  }, true);

  // Escape closes open suggestions, and only them (not the dialog around the picker): caught first.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Escape" || !input.matches || !input.matches("[data-autocomplete-input]")) return;
    if (input.getAttribute("aria-expanded") !== "true") return;
    event.preventDefault();
    event.stopPropagation();
    closePicker(picker(input));
  }, true);

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-autocomplete-input]")) return;
    var box = picker(input);
    var options = pickerOptions(box);
    var index = options.findIndex(function (option) { return option.classList.contains("is-selected"); });
    if (event.key === "Escape") {
      settle(box);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) {
        if (window.htmx) window.htmx.trigger(input, "focus");  // ask for suggestions
        return;
      }
      if (event.key === "ArrowDown") index = index < 0 ? 0 : Math.min(options.length - 1, index + 1);
      else index = index < 0 ? options.length - 1 : Math.max(0, index - 1);
      highlight(box, options, index);
    } else if (event.key === "Enter") {
      if (options.length) {
        event.preventDefault();  // never send the form half-filled
        pick(options[index >= 0 ? index : 0]);
      } else if (!isFreeText(box)) {
        event.preventDefault();
        settle(box);
      }
    } else if (event.key === "Backspace" && isMultiple(box) && !input.value) {
      var chips = box.querySelectorAll("[data-autocomplete-chip]");
      if (chips.length) {
        event.preventDefault();
        removeChip(chips[chips.length - 1]);
      }
    }
  });

  // --- saved views of a list (core/saved_views/_menu.html) ------------------------------------------

  // A list's query as a saved view keeps it: no page cursors, no empty or default values, by name.
  function viewParams(search, defaults) {
    var pairs = [];
    new URLSearchParams(search).forEach(function (value, key) {
      value = value.trim();
      if (!value || ["after", "before", "page"].indexOf(key) >= 0 || defaults.get(key) === value) return;
      pairs.push([key, value]);
    });
    pairs.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
    return JSON.stringify(pairs);
  }

  function markSavedView() {
    document.querySelectorAll("[data-saved-views]").forEach(function (menu) {
      var defaults = new URLSearchParams(menu.getAttribute("data-defaults") || "");
      var current = viewParams(window.location.search, defaults);
      var active = null;
      menu.querySelectorAll("[data-saved-view]").forEach(function (item) {
        var on = !active && viewParams(item.getAttribute("data-query") || "", defaults) === current;
        if (on) active = item;
        item.classList.toggle("active", on);
        if (on) item.setAttribute("aria-current", "true");
        else item.removeAttribute("aria-current");
      });
      var label = menu.querySelector("[data-saved-view-label]");
      if (label) label.textContent = active ? active.getAttribute("data-name") : label.getAttribute("data-default-label");
      var toggle = menu.querySelector("[data-bs-toggle=dropdown]");
      if (toggle) toggle.classList.toggle("is-active", !!active);
    });
  }

  // "Save current view…" saves what the address says now (filters change it without a reload).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.matches && event.detail.elt.matches("[data-saved-view-create]")) {
      event.detail.parameters.query = window.location.search.replace(/^\?/, "");
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "saved-view-dialog-content") {
      var name = target.querySelector("input[name=name]");
      if (name) name.focus();
    } else if (document.querySelector("[data-saved-views]")) {
      markSavedView();
    }
  });
  // The filter bar changes the address without a reload: the menu follows.
  document.addEventListener("htmx:pushedIntoHistory", markSavedView);
  document.addEventListener("htmx:replacedInHistory", markSavedView);
  window.addEventListener("popstate", function () { window.setTimeout(markSavedView, 0); });
  document.addEventListener("shown.bs.modal", function (event) {
    var name = event.target.id === "saved-view-dialog" && event.target.querySelector("input[name=name]");
    if (name) name.focus();
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
