/*
 * A page of work in progress (a report being made, a recompute job) shows how far it has got by loading itself
 * again every few seconds: the element marked data-refresh-every="N" says how many. Without this script the page
 * offers a link to refresh it by hand. With it, the page refreshes itself and offers a button to stop (and start
 * again), so that nobody is hurried by a page that changes under them (WCAG 2.2.1, Timing Adjustable).
 */
(function () {
  "use strict";

  var STOPPED = "safeguard-assure:auto-refresh-stopped:" + window.location.pathname;

  function stopped() {
    try {
      return window.sessionStorage.getItem(STOPPED) === "yes";
    } catch (error) {
      return false;
    }
  }

  function remember(isStopped) {
    try {
      if (isStopped) {
        window.sessionStorage.setItem(STOPPED, "yes");
      } else {
        window.sessionStorage.removeItem(STOPPED);
      }
    } catch (error) {
      /* storage refused: the choice lasts as long as this page */
    }
  }

  function start(region) {
    var seconds = parseInt(region.getAttribute("data-refresh-every"), 10);
    if (!(seconds > 0)) {
      return;
    }
    var timer = null;
    var note = document.createElement("p");
    note.className = "auto-refresh__note";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary auto-refresh__toggle";
    region.appendChild(note);
    region.appendChild(button);

    function schedule() {
      timer = window.setTimeout(function () {
        window.location.reload();
      }, seconds * 1000);
    }

    function show(isStopped) {
      note.textContent = isStopped
        ? "This page no longer updates itself."
        : "This page updates itself every " + seconds + " seconds.";
      button.textContent = isStopped ? "Start updating this page again" : "Stop updating this page";
      button.setAttribute("aria-pressed", isStopped ? "true" : "false");
    }

    button.addEventListener("click", function () {
      var isStopped = timer !== null;
      if (isStopped) {
        window.clearTimeout(timer);
        timer = null;
      } else {
        schedule();
      }
      remember(isStopped);
      show(isStopped);
    });

    var isStopped = stopped();
    if (!isStopped) {
      schedule();
    }
    show(isStopped);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var regions = document.querySelectorAll("[data-refresh-every]");
    for (var i = 0; i < regions.length; i += 1) {
      start(regions[i]);
    }
  });
})();
