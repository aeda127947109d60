// motcua administration pages: shows a secret the API returns only once (a one-time
// password, a new API token) in the element named by the form's data-secret, filling its
// [data-key] children from the answer. app.js announces each success with "api:done".
(function () {
  "use strict";
  document.addEventListener("api:done", function (e) {
    var form = e.target;
    var sel = form.getAttribute && form.getAttribute("data-secret");
    var box = sel && document.querySelector(sel);
    if (!box) return;
    box.querySelectorAll("[data-key]").forEach(function (el) {
      var v = e.detail;
      el.getAttribute("data-key").split(".").forEach(function (k) { v = v == null ? v : v[k]; });
      el.textContent = v == null ? "" : String(v);
    });
    box.hidden = false;
    box.focus();
    if (form.hasAttribute("data-clear")) form.reset();
  });
})();
// «Bỏ bản nháp»: forget what was typed into a form with data-draft and show the saved
// content again.
document.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest("[data-drop-draft]");
  if (!b) return;
  try { localStorage.removeItem("draft:" + b.getAttribute("data-drop-draft")); } catch (err) { /* private mode */ }
  location.reload();
});
