// server-monitor /logs: Pause/Resume, a bounded number of lines, no line shown twice, the count
// shown kept true, and a refused filter shown next to its field.
// (CSP: no inline JS; htmx's SSE extension does the connecting and swapping.)
// - Paused: each "lines" message is kept aside instead of swapped in (at most data-max lines'
//   worth); Resume appends them in order, so nothing written meanwhile is missed.
// - Each message's id is "generation:seq" of its last line and each line has its data-seq; lines
//   not newer than what the list already holds (a reconnect repeating some) are dropped.
// - The list keeps its newest data-max lines; it stays scrolled to the bottom if it was there.
(function () {
  "use strict";
  var paused = false;
  var pending = [];

  function list() { return document.getElementById("log-lines"); }
  function limit(l) { return parseInt(l.getAttribute("data-max") || "1000", 10) || 1000; }

  function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 8; }

  function settle(l, stick) {
    var max = limit(l);
    while (l.children.length > max) l.removeChild(l.firstElementChild);
    var box = l.parentElement;
    if (stick && box) box.scrollTop = box.scrollHeight;
    count(l);
  }

  // The header's count is the count shown: the lines in the list, live ones included.
  function count(l) {
    var el = document.querySelector(".log-count");
    var n = l.children.length;
    if (el) el.textContent = n + " line" + (n === 1 ? "" : "s");
  }

  // A refused filter (4xx) comes back as a fragment for that field's error slot (HX-Retarget):
  // swap it in next to the field instead of failing silently; a good answer clears every slot.
  function clearErrors() {
    document.querySelectorAll(".log-filters .field-error").forEach(function (el) { el.textContent = ""; });
    document.querySelectorAll(".log-filters [aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status < 400 || xhr.status >= 500) return;
    var target = xhr.getResponseHeader("HX-Retarget") || "";
    if (target.indexOf("#log-error-") !== 0) return;
    clearErrors();
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var slot = e.target;
    if (!slot || !slot.classList || !slot.classList.contains("field-error")) return;
    var field = slot.closest("label");
    var input = field ? field.querySelector("input, select") : null;
    if (input) input.setAttribute("aria-invalid", "true");
  });

  function showState() {
    var el = document.querySelector(".log-state");
    var btn = document.querySelector(".log-pause");
    if (btn) {
      btn.textContent = paused ? "Resume" : "Pause";
      btn.setAttribute("aria-pressed", paused ? "true" : "false");
    }
    if (!el) return;
    if (!paused) { el.textContent = "live"; return; }
    var n = 0;
    pending.forEach(function (html) { n += (html.match(/<li /g) || []).length; });
    el.textContent = "paused" + (n ? " · " + n + " new line" + (n === 1 ? "" : "s") + " waiting" : "");
  }

  // The message's lines the list does not show yet. A reconnect may repeat lines: each <li> has its
  // data-seq, and the list's data-gen/data-seq say up to where it shows (the page's mark at first).
  function fresh(l, msg) {
    var box = document.createElement("template");
    box.innerHTML = msg.data;  // the server-rendered, escaped HTML htmx would have swapped in
    var id = (msg.lastEventId || "").split(":");
    if (id.length !== 2) return box.innerHTML;
    if (id[0] === l.getAttribute("data-gen")) {
      var shown = parseInt(l.getAttribute("data-seq") || "-1", 10);
      if (parseInt(id[1], 10) <= shown) return "";  // nothing newer than what the list shows
      box.content.querySelectorAll("li[data-seq]").forEach(function (li) {
        if (parseInt(li.getAttribute("data-seq"), 10) <= shown) li.remove();
      });
    }
    l.setAttribute("data-gen", id[0]);
    l.setAttribute("data-seq", id[1]);
    return box.innerHTML;
  }

  // Lines are appended here rather than by htmx, minus repeats, or kept aside while paused.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var msg = e.detail;
    var l = list();
    if (!msg || msg.type !== "lines" || !l) return;
    e.preventDefault();
    var html = fresh(l, msg);
    if (!html) return;
    if (paused) {
      pending.push(html);
      if (pending.length > limit(l)) pending.shift();
      showState();
      return;
    }
    var stick = l.parentElement ? atBottom(l.parentElement) : true;
    l.insertAdjacentHTML("beforeend", html);
    settle(l, stick);
  });

  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest(".log-pause") : null;
    if (!btn) return;
    paused = !paused;
    var l = list();
    if (!paused && l) {
      var stick = l.parentElement ? atBottom(l.parentElement) : true;
      // The same server-rendered, escaped HTML htmx would have swapped in.
      l.insertAdjacentHTML("beforeend", pending.join(""));
      pending = [];
      settle(l, stick);
    }
    showState();
  });

  // Connection state on the list's container, so a dropped stream shows (htmx reconnects).
  function connected(e, yes) {
    var live = e.target && e.target.closest ? e.target.closest(".log-live") : null;
    if (!live) return;
    live.setAttribute("data-connected", yes ? "true" : "false");
    var el = document.querySelector(".log-state");
    if (el && !paused) el.textContent = yes ? "live" : "disconnected, reconnecting…";
  }
  document.addEventListener("htmx:sseOpen", function (e) { connected(e, true); });
  document.addEventListener("htmx:sseError", function (e) { connected(e, false); });

  // A new view (the filter form swapped it) starts live with nothing pending.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "log-view") { paused = false; pending = []; clearErrors(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var l = list();
    if (l) settle(l, true);
  });
})();
