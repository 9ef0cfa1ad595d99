// server-monitor: the few lines of behaviour htmx attributes cannot express (CSP: no inline JS).
// - "updated N s ago" counts from when the last tick arrived (browser clock only: no skew).
// - body.disconnected while the SSE connection is down, so the stale banner shows at once;
//   the htmx SSE extension reconnects by itself and the next tick clears it.
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
})();
