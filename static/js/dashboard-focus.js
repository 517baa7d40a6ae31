/*
 * Keeps whatever has the keyboard's focus in a dashboard grid clear of the grid's fixed provider column and
 * header (WCAG 2.2, 2.4.11 and 2.4.12: focus not obscured).
 *
 * Progressive enhancement only: without this script the grid's scroll padding (reviews.css) already brings a
 * focused link that would be under them back into the open part of the grid, but a browser leaves one that is
 * partly in view where it is, a few pixels still under the column. This script moves the grid by those pixels.
 * Loaded as a static file (never inline), so a Content-Security-Policy without inline script allows it.
 */
(function () {
  "use strict";

  var GAP = 4; // pixels left between the fixed parts and the focused element, for its focus indicator

  function uncover(event) {
    var focused = event.target;
    var region = focused.closest && focused.closest(".dashboard-scroll");
    if (!region || focused === region) {
      return;
    }
    var box = focused.getBoundingClientRect();
    var column = region.querySelector(".dashboard__provider");
    if (column && !focused.closest(".dashboard__provider")) {
      var edge = column.getBoundingClientRect().right + GAP;
      if (box.left < edge) {
        region.scrollLeft -= edge - box.left;
      }
    }
    var head = region.querySelector("thead");
    if (head && !head.contains(focused)) {
      var bottom = head.getBoundingClientRect().bottom + GAP;
      if (box.top < bottom) {
        region.scrollTop -= bottom - box.top;
      }
    }
  }

  document.addEventListener("focusin", uncover);
})();
