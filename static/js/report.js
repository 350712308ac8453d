// The unit report's "Print" button (no inline handlers: the CSP allows our own scripts only).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
})();
