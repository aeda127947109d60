// The counter's intake form (web::counter, /quay/tiep-nhan/{procedure}). app.js sends the
// form; this only does what one form with two outcomes needs:
//   - the two submit buttons: «Tiếp nhận và in phiếu hẹn» sends accept=true and goes to the
//     receipt page, «Chỉ ghi nhận để kiểm tra» sends accept=false and goes to the dossier;
//   - the checklist: a row's counts and scans are sent only when its tick is on, so an
//     unticked row leaves no trace in the JSON (app.js skips disabled fields); choosing a
//     scan ticks its row.
(function () {
  "use strict";

  function sync(form) {
    form.querySelectorAll("[data-doc]").forEach(function (row) {
      var tick = row.querySelector("[data-tick]");
      if (!tick) return;
      row.querySelectorAll('input[type="number"], input[type="hidden"]').forEach(function (el) {
        el.disabled = !tick.checked;
      });
      row.classList.toggle("ticked", tick.checked);
    });
  }

  function choose(form, button) {
    var accept = form.querySelector('input[name="accept"]');
    if (accept) accept.value = button.id === "register-only" ? "false" : "true";
    var next = button.getAttribute("data-next");
    if (next) form.setAttribute("data-next", next);
  }

  function bind(form) {
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t.type === "file" && t.files && t.files.length) {
        var row = t.closest("[data-doc]");
        var tick = row && row.querySelector("[data-tick]");
        if (tick) tick.checked = true;
      }
      sync(form);
    });
    form.querySelectorAll('button[type="submit"]').forEach(function (b) {
      b.addEventListener("click", function () { choose(form, b); });
    });
    // Runs before app.js reads the form (capture on the document comes first).
    document.addEventListener("submit", function (e) {
      if (e.target === form) sync(form);
    }, true);
    // Uploads finishing later add hidden ids to their (ticked) row: keep them enabled.
    new MutationObserver(function () { sync(form); }).observe(form, { childList: true, subtree: true });
    sync(form);
  }

  // app.js restores the draft on DOMContentLoaded (it was loaded first, so it runs first).
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("intake");
    if (form) bind(form);
  });
})();
