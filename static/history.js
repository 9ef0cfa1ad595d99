// History charts (views/history_charts.py): hover or keyboard focus on a point shows its time and
// value in the chart's readout; Enter or a click opens that moment (full scope only: the charts'
// container carries data-moment). The text is the point's own <title>, rendered by the server in
// the page's zone, so this file formats nothing and adds no markup but one marker line.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function setup(svg) {
    var hits = Array.prototype.slice.call(svg.querySelectorAll("rect.hhit"));
    var figure = svg.closest("figure");
    var readout = figure && figure.querySelector(".history-readout");
    var box = svg.closest(".history-charts");
    var moment = box && box.getAttribute("data-moment");
    var tz = box && box.getAttribute("data-tz");
    var marker = document.createElementNS(SVG, "line");
    marker.setAttribute("class", "hmarker");
    marker.setAttribute("y1", "10");
    marker.setAttribute("y2", "148");
    svg.appendChild(marker);
    var current = -1;

    function show(i) {
      if (!hits.length) { return; }
      current = Math.max(0, Math.min(hits.length - 1, i));
      var r = hits[current];
      var x = parseFloat(r.getAttribute("x")) + parseFloat(r.getAttribute("width")) / 2;
      marker.setAttribute("x1", x.toFixed(1));
      marker.setAttribute("x2", x.toFixed(1));
      marker.classList.add("on");
      var title = r.querySelector("title");
      if (readout && title) { readout.textContent = title.textContent; }
      svg.setAttribute("aria-valuetext", title ? title.textContent : "");
    }

    // A point of a minute or less is that minute; a wider one opens the minute its series peaked.
    var step = parseFloat(svg.getAttribute("data-step") || "0");
    var metric = figure && figure.getAttribute("data-metric");

    function open(i) {
      if (!moment || i < 0 || i >= hits.length) { return; }
      var query = [];
      if (step > 60 && metric) {
        query.push("peak=" + encodeURIComponent(metric), "within=" + Math.round(step));
      }
      if (tz) { query.push("tz=" + encodeURIComponent(tz)); }
      var url = moment + hits[i].getAttribute("data-t");
      window.location.href = query.length ? url + "?" + query.join("&") : url;
    }

    hits.forEach(function (r, i) {
      r.addEventListener("mouseenter", function () { show(i); });
      r.addEventListener("click", function () { open(i); });
    });
    if (moment) { svg.classList.add("hclickable"); }
    svg.addEventListener("focus", function () { show(current < 0 ? hits.length - 1 : current); });
    svg.addEventListener("keydown", function (e) {
      var jump = e.shiftKey ? 10 : 1;
      if (e.key === "ArrowLeft") { show(current - jump); }
      else if (e.key === "ArrowRight") { show(current + jump); }
      else if (e.key === "Home") { show(0); }
      else if (e.key === "End") { show(hits.length - 1); }
      else if (e.key === "Enter") { open(current); }
      else { return; }
      e.preventDefault();
    });
  }

  // Times in the operator's own zone (issue 18): the server renders the zone named in ?tz=, so a
  // page opened without one is replaced by the same page in the browser's zone (no history entry).
  function ownZone() {
    var params = new URLSearchParams(location.search);
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return false; }
    if (params.has("tz") || !zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return false; }
    params.set("tz", zone);
    location.replace(location.pathname + "?" + params.toString() + location.hash);
    return true;
  }

  if (!ownZone()) { document.querySelectorAll("svg.hchart").forEach(setup); }
})();
