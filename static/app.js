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

// Compose: drafts save themselves, recipients complete from the shared
// address book, uploads show their progress. Without JavaScript the form
// still sends and "Save draft" still saves.
(function () {
  var form = document.getElementById("compose");
  if (!form) return;
  var status = form.querySelector(".draft-status");
  var draftID = form.querySelector("input[name=draft_id]");
  var version = form.querySelector("input[name=version]");
  var dirty = false, saving = false;

  function save() {
    if (!dirty || saving) return;
    saving = true; dirty = false;
    var data = new FormData(form);
    data.delete("attachment");
    fetch(form.getAttribute("data-drafts"), { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, j: j }; }); })
      .then(function (res) {
        draftID.value = res.j.id; version.value = res.j.version;
        if (res.status === 409) {
          status.textContent = (res.j.by || "Someone") + " also changed this draft at " + res.j.saved + ".";
          status.className = "draft-status alert";
        } else {
          status.textContent = "✓ " + res.j.saved;
          status.className = "draft-status";
        }
      })
      .catch(function () { dirty = true; })
      .then(function () { saving = false; });
  }
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("focusout", save);
  setInterval(save, 4000);

  // Autocomplete of the last address typed in To, Cc, Bcc.
  form.querySelectorAll("[data-contacts]").forEach(function (input) {
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    var timer;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var parts = input.value.split(",");
        var term = parts[parts.length - 1].trim();
        if (term.length < 2) { list.hidden = true; return; }
        fetch("/contacts/suggest?q=" + encodeURIComponent(term), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (items) {
            list.innerHTML = "";
            items.forEach(function (c) {
              var li = document.createElement("li");
              li.setAttribute("role", "option");
              li.tabIndex = 0;
              li.textContent = (c.name ? c.name + " <" + c.email + ">" : c.email) + (c.pec ? "  · PEC" : "");
              function pick() {
                parts[parts.length - 1] = " " + (c.name ? '"' + c.name.replace(/"/g, "") + '" <' + c.email + ">" : c.email);
                input.value = parts.join(",").replace(/^ /, "") + ", ";
                list.hidden = true; input.focus(); dirty = true;
              }
              li.addEventListener("click", pick);
              li.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); pick(); } });
              list.appendChild(li);
            });
            list.hidden = items.length === 0;
          });
      }, 150);
    });
  });

  // Upload progress: send with XMLHttpRequest when files are attached.
  form.addEventListener("submit", function (ev) {
    var files = form.querySelector("input[type=file]");
    var submitter = ev.submitter;
    if (submitter && submitter.getAttribute("formaction")) return;
    if (!files || !files.files.length || !window.XMLHttpRequest) return;
    ev.preventDefault();
    var bar = form.querySelector("progress.upload");
    bar.hidden = false;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () { window.location = xhr.responseURL || form.action; };
    xhr.onerror = function () { bar.hidden = true; status.textContent = "The upload failed: check the connection and send again."; };
    xhr.send(new FormData(form));
  });
})();
