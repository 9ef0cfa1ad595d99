// The process table's few lines of behaviour htmx attributes cannot express under the CSP:
// (a row's name is its toggle <button>: Enter or Space on it is a click, which the row's
// hx-trigger="click" receives; nothing to script for the keyboard.)
// - A click on a link inside a row (the PID link to the process's page) navigates and does not
//   toggle; neither does a click that ends a text selection (copying a command line).
(function () {
  "use strict";

  function rowOf(el) {
    return el && el.closest ? el.closest("tr.proc-row") : null;
  }

  document.addEventListener("htmx:confirm", function (e) {
    var row = rowOf(e.target);
    if (!row || e.target !== row) return;
    var ev = e.detail && e.detail.triggeringEvent;
    if (ev && ev.target && ev.target.closest && ev.target.closest("a")) {
      e.preventDefault(); // let the link do its job
      return;
    }
    var sel = window.getSelection && window.getSelection();
    if (sel && !sel.isCollapsed && row.contains(sel.anchorNode)) e.preventDefault();
  });
})();
