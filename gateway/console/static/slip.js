/* The print button of a queue slip: shown only where a script runs (without one, the
   browser's own Print prints the slip alone all the same, print.css). ES2017, no library. */
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
