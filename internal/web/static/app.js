// wvbatch's pages work without this script; it adds drag and drop to the
// upload and corrects a flagged cell as soon as it is changed.
"use strict";
(function () {
  var main = document.getElementById("main");
  var csrf = main ? main.getAttribute("data-csrf") : "";

  // Upload: dropping a file on the page picks it and sends the form.
  var form = document.getElementById("upload-form");
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  if (form && input && drop) {
    ["dragenter", "dragover"].forEach(function (t) {
      document.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      document.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    document.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
      input.files = e.dataTransfer.files;
      form.requestSubmit();
    });
  }

  // Check page: a changed cell is sent alone and the check is redrawn.
  var check = document.getElementById("check");
  if (!check) { return; }
  var busy = false;
  function send(cell) {
    var row = cell.getAttribute("data-row");
    var f = document.getElementById("f-" + row);
    if (!f || busy) { return; }
    busy = true;
    var body = new URLSearchParams();
    body.set("row", row);
    body.set("c" + cell.getAttribute("data-col"), cell.value);
    var status = document.createElement("p");
    status.className = "muted";
    status.setAttribute("role", "status");
    status.textContent = "Checking row " + row + "…";
    check.prepend(status);
    fetch(f.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Fragment": "1", "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (r) {
      return r.text().then(function (t) { return { ok: r.ok, text: t }; });
    }).then(function (res) {
      busy = false;
      if (!res.ok) { status.textContent = "The correction was not kept: reload the page."; return; }
      check.innerHTML = res.text;
      check.setAttribute("data-version", String(Number(check.getAttribute("data-version") || "0") + 1));
    }).catch(function () {
      busy = false;
      status.textContent = "The server could not be reached: the correction was not kept.";
    });
  }
  check.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches("input[data-row]")) { send(t); }
  });
  check.addEventListener("submit", function (e) {
    // Enter in a cell: send the cell that has the focus.
    var a = document.activeElement;
    if (a && a.matches && a.matches("input[data-row]")) {
      e.preventDefault();
      send(a);
    }
  });
  check.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && t && t.matches && t.matches("input[data-row]")) {
      e.preventDefault();
      send(t);
    }
  });
})();

// Run page: the progress of a run under way, as the server sends it.
(function () {
  var box = document.getElementById("progress");
  if (!box || !window.EventSource) { return; }
  function set(id, text) { var e = document.getElementById(id); if (e) { e.textContent = text; } }
  function mmss(s) {
    s = Math.round(s);
    if (s < 60) { return s + " s"; }
    return Math.floor(s / 60) + " min " + (s % 60) + " s";
  }
  var es = new EventSource("/runs/" + encodeURIComponent(box.getAttribute("data-run")) + "/events");
  function show(e) {
    var p = JSON.parse(e.data);
    var bar = document.getElementById("bar");
    if (bar) { bar.max = Math.max(p.total, 1); bar.value = p.done; bar.textContent = p.done + " of " + p.total; }
    set("p-done", p.done); set("p-total", p.total); set("p-placed", p.placed); set("p-rejected", p.rejected);
    set("p-rate", p.rate > 0 ? ", " + p.rate.toFixed(1) + " orders/s" : "");
    set("p-left", p.left_s > 0 ? ", about " + mmss(p.left_s) + " left" : "");
    box.setAttribute("data-state", p.state);
    if (p.state === "running") { set("p-state", "Placing orders…"); }
    if (p.state === "stopped") { set("p-state", "The run stopped: " + (p.error || "see the log") + ". It goes on when the server starts again, or with wvbatch resume."); }
    return p;
  }
  es.addEventListener("progress", show);
  es.addEventListener("end", function (e) {
    var p = show(e);
    es.close();
    set("p-state", "Done: loading the result…");
    // The result (row outcomes, order ids, report) is the run page itself.
    window.setTimeout(function () { window.location.reload(); }, 300);
  });
})();
