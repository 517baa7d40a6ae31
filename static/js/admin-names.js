/* Accessible names for the boxes the admin's scripts draw, which Django leaves unnamed:
 * - an autocomplete box (Select2) is named by its own text alone, empty until something is chosen: it also takes
 *   the name of the select it stands for (its label, or the name a tabular inline row gives it);
 * - an inline of read-only rows that scrolls sideways on a phone can be reached and scrolled by keyboard;
 * - the search icons of a two-list chooser carry aria-label without a role that allows it: they are images.
 * Progressive enhancement: without JavaScript these boxes are not drawn and the plain fields keep their labels. */
(function () {
  "use strict";

  function nameOf(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    var text = select.getAttribute("aria-label") || (label ? label.textContent : "");
    return text.replace(/:\s*$/, "").trim();
  }

  function nameBoxes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      var box = container && container.querySelector(".select2-selection");
      var name = nameOf(select);
      if (!box || !name) {
        return;
      }
      var shown = box.querySelector(".select2-selection__rendered");
      var labelId = select.id + "-name";
      if (!document.getElementById(labelId)) {
        var hidden = document.createElement("span");
        hidden.id = labelId;
        hidden.hidden = true;
        hidden.textContent = name;
        container.appendChild(hidden);
      }
      box.setAttribute("aria-labelledby", shown && shown.id ? labelId + " " + shown.id : labelId);
      if (shown && shown.getAttribute("role") === "textbox") {
        shown.setAttribute("aria-labelledby", labelId);
      }
    });
    document.querySelectorAll(".search-label-icon[aria-label], .help-tooltip[aria-label]").forEach(function (icon) {
      if (!icon.getAttribute("role")) {
        icon.setAttribute("role", "img");
      }
    });
  }

  // An inline of read-only rows scrolls sideways on a phone with nothing in it to focus: make it a named region
  // that the keyboard can reach and scroll.
  function reachScrollingInlines() {
    document.querySelectorAll("div.inline-group").forEach(function (group) {
      var heading = group.querySelector("h2");
      if (group.querySelector("input:not([type=hidden]), select, textarea") || !heading) {
        return;
      }
      heading.id = heading.id || group.id + "-heading";
      group.setAttribute("role", "region");
      group.setAttribute("aria-labelledby", heading.id);
      group.tabIndex = 0;
    });
  }

  // After the admin's own scripts have drawn the boxes (on load), and again for each row added to an inline.
  window.addEventListener("load", function () {
    reachScrollingInlines();
    window.setTimeout(nameBoxes, 0);
  });
  document.addEventListener("formset:added", function () {
    window.setTimeout(nameBoxes, 0);
  });
})();
