// server-monitor /wall: a list cut by its card's cell says so. Each card clips what does not fit
// (static/app.css .wall .card overflow); here the rows of a list that would be cut are hidden and
// one line "+N more" takes the place of the last visible one, so a TV never shows half a row
// without saying how many are missing. Runs after the first render and after every push (the
// server's HTML, morphed in, has no hidden rows, so each push is fitted anew). CSP: no inline JS.
(function () {
  "use strict";

  function note(list) {
    var el = document.createElement(list.tagName === "TBODY" ? "tr" : "li");
    el.className = "more-note";
    var text = el;
    if (list.tagName === "TBODY") {
      text = document.createElement("td");
      text.colSpan = 99;
      el.appendChild(text);
    }
    list.appendChild(el);
    return {el: el, say: function (n) { text.textContent = "+" + n + " more"; }};
  }

  function cut(el) { el.hidden = true; el.setAttribute("data-wall-cut", ""); }

  // Everything after the cut list (in the card) goes too: a list shown whole below a cut one
  // would jump up into the freed space and outrank it (the fullest filesystems come first).
  function cutAfter(node, card) {
    for (var n = node; n && n !== card; n = n.parentElement) {
      for (var sib = n.nextElementSibling; sib; sib = sib.nextElementSibling) cut(sib);
    }
  }

  function fitList(list, limit) {
    var items = Array.prototype.filter.call(list.children, function (c) { return !c.classList.contains("more-note"); });
    var over = items.filter(function (c) { return c.getBoundingClientRect().bottom > limit; });
    if (!over.length) return false;
    var hidden = 0;
    over.forEach(function (c) { cut(c); hidden++; });
    var shown = items.length - hidden;
    var line = note(list);
    line.say(hidden);
    // The note itself must fit: give it the place of the last rows still shown.
    while (line.el.getBoundingClientRect().bottom > limit && shown > 0) {
      cut(items[shown - 1]);
      shown--; hidden++;
      line.say(hidden);
    }
    return true;
  }

  function fitCard(card) {
    card.querySelectorAll(".more-note").forEach(function (n) { n.remove(); });
    card.querySelectorAll("[data-wall-cut]").forEach(function (e) { e.hidden = false; e.removeAttribute("data-wall-cut"); });
    var box = card.getBoundingClientRect();
    var limit = box.bottom - parseFloat(getComputedStyle(card).paddingBottom || "0");
    var lists = card.querySelectorAll("tbody, ul, ol");
    for (var i = 0; i < lists.length; i++) {
      var list = lists[i];
      if (list.parentElement.closest("li")) continue;  // a list inside a row goes with its row
      if (list.closest("[data-wall-cut]")) continue;  // already gone with an earlier cut
      if (fitList(list, limit)) {
        cutAfter(list.tagName === "TBODY" ? list.closest("table") : list, card);
        break;
      }
    }
  }

  function fitAll() {
    document.querySelectorAll(".wall-grid > .card").forEach(fitCard);
  }

  // A card's cell changes without the card being pushed: the health line above the grid grows
  // or shrinks, a quiet card leaves the grid and the others move up. The stream sends only the
  // cards that changed, so the cell itself is watched. Fitting changes what is inside a card,
  // never its cell (the grid's rows and columns are minmax(0, 1fr)), so this cannot loop.
  var resized = typeof ResizeObserver === "function" ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { fitCard(entry.target); });
  }) : null;

  function watch(card) { if (resized) resized.observe(card); }

  document.addEventListener("DOMContentLoaded", function () {
    fitAll();
    document.querySelectorAll(".wall-grid > .card").forEach(watch);
  });
  document.addEventListener("htmx:sseMessage", function (e) {
    var card = e.target && e.target.closest ? e.target.closest(".wall-grid > .card") : null;
    if (card) { fitCard(card); watch(card); }  // a swapped-in card is a new element to watch
  });
  window.addEventListener("resize", fitAll);
})();
