/*
 * The return's form: after "Save this section", move focus to the banner saying what was saved, so that the
 * person (and their screen reader) is where they were and hears what happened.
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
