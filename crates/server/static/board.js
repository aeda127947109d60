// The hall's display board: follows /bang-hien-thi/su-kien (server-sent events), redraws
// the calls and the waiting counts, and announces each new call or recall in Vietnamese
// through the browser's speech synthesis, or with a chime when it has no Vietnamese voice.
// Browsers play sound only after someone touched the page once: «Bật âm thanh».
(function () {
  "use strict";
  var seen = {};
  var first = true;
  var voice = null;
  var sound = false;
  var audio = null;

  function pickVoice() {
    var voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : [];
    voice = null;
    for (var i = 0; i < voices.length; i++) {
      if (/^vi\b/i.test(voices[i].lang)) { voice = voices[i]; break; }
    }
  }
  if (window.speechSynthesis) {
    pickVoice();
    window.speechSynthesis.onvoiceschanged = pickVoice;
  }

  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    [880, 660].forEach(function (f, i) {
      var o = audio.createOscillator();
      var g = audio.createGain();
      var at = audio.currentTime + i * 0.45;
      o.frequency.value = f;
      o.connect(g);
      g.connect(audio.destination);
      g.gain.setValueAtTime(0.25, at);
      g.gain.exponentialRampToValueAtTime(0.001, at + 0.4);
      o.start(at);
      o.stop(at + 0.42);
    });
  }

  function announce(text) {
    window.boardAnnouncements = (window.boardAnnouncements || []).concat([text]);
    if (!sound) return;
    if (voice) {
      var u = new window.SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = voice.lang;
      u.rate = 0.9;
      window.speechSynthesis.speak(u);
    } else {
      chime();
    }
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function fill(id, nodes) {
    var box = document.getElementById(id);
    if (!box) return;
    while (box.firstChild) box.removeChild(box.firstChild);
    nodes.forEach(function (n) { box.appendChild(n); });
  }

  function render(b, fresh) {
    var rows = b.current.map(function (c) {
      var tr = el("tr");
      tr.setAttribute("data-id", c.id);
      if (fresh[c.id]) tr.className = "board-fresh";
      tr.appendChild(el("td", c.number, "board-number"));
      tr.appendChild(el("td", String(c.counter), "board-counter"));
      return tr;
    });
    if (!rows.length) {
      var tr = el("tr");
      var td = el("td", "Chưa có số nào được gọi.", "board-empty");
      td.colSpan = 2;
      tr.appendChild(td);
      rows = [tr];
    }
    fill("board-current", rows);
    fill("board-last", b.last.map(function (c) { return el("li", c.number + " → quầy " + c.counter); }));
    fill("board-waiting", b.waiting.map(function (g) {
      var li = el("li");
      li.appendChild(el("span", g.letter + " · " + g.name));
      li.appendChild(el("strong", String(g.waiting)));
      return li;
    }));
    document.body.setAttribute("data-updated", String(Date.now()));
  }

  // The code of the day changes at midnight, Vietnam time (UTC+7): the page is loaded
  // again then (a few seconds after), so its QR code and code are the new day's.
  function reloadAtMidnight() {
    var day = 86400000;
    var offset = 7 * 3600000;
    var now = Date.now();
    var next = (Math.floor((now + offset) / day) + 1) * day - offset + 5000;
    window.setTimeout(function () { window.location.reload(); }, next - now);
  }

  function start() {
    reloadAtMidnight();
    var hall = document.getElementById("board-hall");
    var button = document.getElementById("board-sound");
    if (button) {
      button.addEventListener("click", function () {
        sound = !sound;
        button.setAttribute("aria-pressed", sound ? "true" : "false");
        button.textContent = sound ? "Âm thanh: bật" : "Bật âm thanh";
        if (sound && window.speechSynthesis) window.speechSynthesis.speak(new window.SpeechSynthesisUtterance(""));
      });
    }
    var source = new window.EventSource("/bang-hien-thi/su-kien");
    source.addEventListener("board", function (e) {
      var b = JSON.parse(e.data);
      if (hall && b.hall && b.hall.code !== hall.getAttribute("data-code")) {
        window.location.reload();
        return;
      }
      var fresh = {};
      b.current.forEach(function (c) {
        if (!first && seen[c.id] !== c.called_at) {
          fresh[c.id] = true;
          announce(c.announcement);
        }
        seen[c.id] = c.called_at;
      });
      first = false;
      render(b, fresh);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
