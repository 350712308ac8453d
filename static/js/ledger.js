// The ledger, for evaluation staff: "tick every item on this page" for bulk assignment.
// Loaded as a file (no inline script): the Content-Security-Policy allows our own scripts only.
(function () {
  "use strict";
  const all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  const boxes = () => document.querySelectorAll('input[type="checkbox"][name="items"]');
  all.addEventListener("change", () => {
    boxes().forEach((box) => {
      box.checked = all.checked;
    });
  });
  // Submitting with nothing ticked would select nothing: say so instead.
  const form = document.getElementById("bulk-select");
  form.addEventListener("submit", (event) => {
    if (![...boxes()].some((box) => box.checked)) {
      event.preventDefault();
      all.focus();
      form.querySelector("#bulk-ticked").classList.add("btn-outline-danger");
    }
  });
})();
