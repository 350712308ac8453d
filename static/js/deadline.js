// The deadline field (item page, bulk assignment): while a number of working days is typed,
// show the date it gives — and whether it rests on a provisional (暂定) holiday calendar —
// before anything is saved. Asks /calendar/working-days/ (calendars.views), which counts with
// the same function as the form. Loaded as a file: the Content-Security-Policy allows our own
// scripts only.
(function () {
  "use strict";
  const DELAY_MS = 250;

  function attach(days) {
    const form = days.form;
    const from = form ? form.querySelector('input[name$="working_days_from"]') : null;
    const output = document.createElement("output");
    output.className = "form-text d-block working-days-result";
    output.id = days.id + "-computed";
    output.setAttribute("aria-live", "polite");
    output.setAttribute("for", days.id);
    days.insertAdjacentElement("afterend", output);
    let timer = null;
    let pending = null;

    function show(text, isError) {
      output.textContent = text;
      output.classList.toggle("text-danger", Boolean(isError));
    }

    function update() {
      const value = days.value.trim();
      if (pending) {
        pending.abort();
        pending = null;
      }
      if (!/^\d{1,4}$/.test(value) || Number(value) < 1) {
        show("", false);
        return;
      }
      const query = new URLSearchParams({ days: value });
      if (from && from.value) {
        query.set("from", from.value);
      }
      pending = new AbortController();
      fetch(days.dataset.workingDaysUrl + "?" + query.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then((response) => response.json())
        .then((data) => {
          pending = null;
          if (data.error) {
            show(data.error, true);
          } else {
            show(data.summary, false);
          }
        })
        .catch((error) => {
          if (error.name !== "AbortError") {
            show("", false);
          }
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, DELAY_MS);
    }

    days.addEventListener("input", later);
    if (from) {
      from.addEventListener("input", later);
      from.addEventListener("change", later);
    }
    if (days.value) {
      update(); // a form shown again with its errors keeps the typed number
    }
  }

  document.querySelectorAll("input[data-working-days-url]").forEach(attach);
})();
