// server-monitor: the page title and favicon show the overall state on every page, so a tab
// strip or a wall screen seen from across the room shows trouble (CSP: no inline script).
// - Pages with the health banner (dashboard, wall) read its data-overall after each SSE push.
// - Other pages ask /api/health every POLL_MS (200 or 503, both carry the JSON state).
(function () {
  "use strict";
  var POLL_MS = 5000;
  // unknown: the console could not judge (its own banner says why) or cannot be reached.
  var PREFIX = { ok: "", warning: "\u26a0 WARNING \u00b7 ", critical: "\u2716 CRITICAL \u00b7 ",
                 unknown: "? UNKNOWN \u00b7 " };
  var baseTitle = null;
  var shown = null;

  function apply(state) {
    if (!(state in PREFIX)) state = "unknown";
    if (baseTitle === null) baseTitle = document.title;
    if (state === shown) return;
    shown = state;
    document.title = PREFIX[state] + baseTitle;
    document.documentElement.setAttribute("data-health", state);
    var icon = document.querySelector('link[rel="icon"]');
    if (icon) {
      icon.setAttribute("href", "/static/favicon-" + state + ".svg");
    }
  }

  function fromBanner() {
    var el = document.querySelector("[data-overall]");
    if (el) apply(el.getAttribute("data-overall"));
    return !!el;
  }

  function poll() {
    fetch("/api/health", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { apply(j.status); })
      .catch(function () { apply("unknown"); });
  }

  function start() {
    if (fromBanner()) {
      document.addEventListener("htmx:afterSettle", fromBanner);
      document.addEventListener("htmx:sseMessage", fromBanner);
    } else {
      poll();
      setInterval(poll, POLL_MS);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
