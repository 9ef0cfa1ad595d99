// server-monitor: the few lines of behaviour htmx attributes cannot express (CSP: no inline JS).
// - "updated N s ago" counts from when the last tick arrived (browser clock only: no skew).
// - body.disconnected while the SSE connection is down, so the stale banner shows at once;
//   the htmx SSE extension reconnects by itself and the next tick clears it.
// - <time datetime=... data-local> (views/format.py) is shown in the browser's own time zone,
//   with the zone: the server renders its own zone, the operator may be elsewhere.
(function () {
  "use strict";
  var lastTick = Date.now();

  function onTick() {
    lastTick = Date.now();
    document.body.classList.remove("disconnected");
    renderAge();
  }

  function renderAge() {
    var el = document.querySelector(".tick-age");
    if (!el) return;
    var s = Math.round((Date.now() - lastTick) / 1000);
    el.textContent = s < 1 ? "updated just now" : "updated " + s + " s ago";
  }

  document.addEventListener("htmx:sseMessage", function (e) {
    if (e.detail && e.detail.type === "tick") onTick();
  });
  document.addEventListener("htmx:sseOpen", function () {
    document.body.classList.remove("disconnected");
  });
  document.addEventListener("htmx:sseError", function () {
    document.body.classList.add("disconnected");
  });
  setInterval(renderAge, 1000);

  function localize() {
    var today = new Date().toDateString();
    document.querySelectorAll("time[data-local]").forEach(function (t) {
      var iso = t.getAttribute("datetime");
      if (t.getAttribute("data-shown") === iso) return;
      var d = new Date(iso);
      if (isNaN(d.getTime())) return;
      var opts = {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
                  timeZoneName: "short"};
      if (d.toDateString() !== today) { opts.year = "numeric"; opts.month = "2-digit"; opts.day = "2-digit"; delete opts.second; }
      t.textContent = new Intl.DateTimeFormat(undefined, opts).format(d);
      t.setAttribute("data-shown", iso);
    });
  }
  document.addEventListener("DOMContentLoaded", localize);
  document.addEventListener("htmx:afterSettle", localize);
  document.addEventListener("htmx:sseMessage", localize);
})();
