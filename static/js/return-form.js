/*
 * The return's form: after "Save this section", move focus to the banner saying what was saved, so that the
 * person (and their screen reader) is where they were and hears what happened.
 *
 * Pressing Enter in an input saves with the form's hidden default button, which names no section; with this script
 * the save names the section holding the input, so the page comes back there, as that section's own button would.
 *
 * Progressive enhancement only: without this script the address's fragment brings the section into view with
 * the banner under its heading, and the banner is a status region. Loaded as a static file (never inline), so a
 * Content-Security-Policy without inline script allows it.
 */
(function () {
  "use strict";

  function focusBanner() {
    var banner = document.querySelector("[data-saved-banner]");
    if (!banner || document.querySelector(".error-summary")) {
      return;
    }
    banner.focus({ preventScroll: true });
    var section = banner.closest("section");
    (section || banner).scrollIntoView({ block: "start" });
  }

  function nameTheSection(event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!submitter || !submitter.classList.contains("default-button")) {
      return;
    }
    var active = document.activeElement;
    var section = active && active.closest ? active.closest("section.return-framework") : null;
    if (!section || !form.contains(section)) {
      return;
    }
    var named = form.querySelector("input[type=hidden][data-enter-section]");
    if (!named) {
      named = document.createElement("input");
      named.type = "hidden";
      named.name = "section";
      named.setAttribute("data-enter-section", "");
      form.appendChild(named);
    }
    named.value = section.id;
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector(".default-button")) {
      form.addEventListener("submit", nameTheSection);
    }
  });

  // After the page has loaded: the browser's own move to the address's fragment happens by then, and would
  // otherwise take focus back to the page.
  if (document.readyState === "complete") {
    focusBanner();
  } else {
    window.addEventListener("load", function () {
      window.setTimeout(focusBanner, 0);
    });
  }
})();
