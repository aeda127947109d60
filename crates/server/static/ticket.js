// A ticket's phone page: follows the ticket's place in line (server-sent events) and
// redraws the state, the tickets ahead and the estimated wait; vibrates once when called.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("ticket");
    if (!box || !window.EventSource) return;
    var called = false;
    var refresh = document.getElementById("ticket-refresh");
    if (refresh) refresh.textContent = "Trang tự cập nhật khi đến lượt.";
    var source = new window.EventSource(box.getAttribute("data-events"));
    source.addEventListener("ticket", function (e) {
      var t = JSON.parse(e.data);
      var waiting = t.state === "waiting";
      document.getElementById("ticket-state").textContent = t.state_label;
      var counter = document.getElementById("ticket-counter");
      while (counter.firstChild) counter.removeChild(counter.firstChild);
      if (!waiting && t.counter !== null && (t.state === "called" || t.state === "serving")) {
        counter.appendChild(document.createTextNode(" — mời đến "));
        var strong = document.createElement("strong");
        strong.textContent = "quầy số " + t.counter;
        counter.appendChild(strong);
      }
      var ahead = document.getElementById("ticket-ahead");
      ahead.textContent = t.ahead + " người đang chờ trước ông/bà.";
      ahead.hidden = !waiting;
      var wait = document.getElementById("ticket-wait");
      wait.textContent = t.wait;
      wait.hidden = !waiting;
      if (t.state === "called" && !called && navigator.vibrate) navigator.vibrate([300, 150, 300]);
      called = t.state === "called";
      box.setAttribute("data-updated", String(Date.now()));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
