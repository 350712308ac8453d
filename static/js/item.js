// The item page on a phone: the long sections (what the evaluation found, the history) start
// folded so the actions and the ledger fields come first; wider screens keep them open.
// Loaded as a file (no inline script): the Content-Security-Policy allows our own scripts only.
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 767.98px)").matches) {
    return;
  }
  document.querySelectorAll("details[data-fold-on-phone]").forEach((section) => {
    section.open = false;
  });
})();
