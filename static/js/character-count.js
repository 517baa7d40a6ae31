/*
 * Character counter for text areas that state their longest length (data-longest="10000").
 *
 * Progressive enhancement only: without this script the hint still states the limit and the server refuses
 * longer text with a message. Loaded as a static file (never inline), so a Content-Security-Policy without
 * inline script allows it. Counts characters as the server does: line endings as one character each.
 */
(function () {
  "use strict";

  function length(text) {
    return text.replace(/\r\n?/g, "\n").length;
  }

  function words(count) {
    return count.toLocaleString("en-GB") + (count === 1 ? " character" : " characters");
  }

  function attach(area) {
    var longest = parseInt(area.getAttribute("data-longest"), 10);
    if (!longest) {
      return;
    }
    var counter = document.createElement("div");
    counter.className = "character-count hint";
    counter.id = area.id + "-count";
    counter.setAttribute("aria-live", "polite");
    area.parentNode.insertBefore(counter, area.nextSibling);
    var timer = null;

    function update() {
      var left = longest - length(area.value);
      counter.textContent = left >= 0 ? "You have " + words(left) + " left" : "You have " + words(-left) + " too many";
      counter.classList.toggle("character-count--over", left < 0);
      area.classList.toggle("textarea--error", left < 0 || area.classList.contains("textarea--server-error"));
    }

    if (area.classList.contains("textarea--error")) {
      area.classList.add("textarea--server-error");
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, 150);
    });
    update();
  }

  function start() {
    var areas = document.querySelectorAll("textarea[data-longest]");
    for (var i = 0; i < areas.length; i++) {
      attach(areas[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
