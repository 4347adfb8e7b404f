// Sportello's own behaviour on top of HTMX. Pages work without it.
"use strict";
(function () {
  // Forms that ask before doing something irreversible carry data-confirm.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  }, true);

  // An undo offer disappears when its window has passed.
  document.querySelectorAll("[data-expires]").forEach(function (el) {
    var seconds = parseFloat(el.getAttribute("data-expires")) || 5;
    setTimeout(function () { el.hidden = true; }, seconds * 1000);
  });

  // Keyboard shortcuts on lists of messages (desktop).
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll(".messages .row a.open"));
    var current = rows.indexOf(document.activeElement);
    switch (ev.key) {
      case "j":
        if (rows.length) rows[Math.min(current + 1, rows.length - 1)].focus();
        break;
      case "k":
        if (rows.length) rows[Math.max(current - 1, 0)].focus();
        break;
      case "o":
        if (current >= 0) rows[current].click();
        break;
      case "u":
        var back = document.querySelector("a.back");
        if (back) back.click();
        break;
      case "/":
        var q = document.querySelector("input[name=q]");
        if (q) { ev.preventDefault(); q.focus(); }
        break;
      case "r":
        var reply = document.querySelector("a.reply");
        if (reply) reply.click();
        break;
      case "#":
        var del = document.querySelector("form.delete button");
        if (del) del.click();
        break;
      case "?":
        var help = document.getElementById("shortcuts");
        if (help) help.hidden = !help.hidden;
        break;
      default:
        return;
    }
  });
})();
