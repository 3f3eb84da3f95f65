// cspbook preview only (never in a built book): reload this page when the preview has
// rebuilt this page, show a small note while it rebuilds, and show the error of a failed
// rebuild over the last good page. The preview server adds this script to every HTML page it
// serves, with the build generation the page came from; the event stream names this page (the
// preview rebuilds the pages open in tabs first) and sends the state, with whether to reload.
(function () {
  "use strict";
  var me = document.currentScript;
  var generation = Number(me.dataset.generation);
  var events = me.dataset.events;
  var box = null;
  var note = null;

  function rebuilding(on) {
    if (!on) { if (note) { note.remove(); note = null; } return; }
    if (note) { return; }
    note = document.createElement("section");
    note.id = "cspbook-preview-rebuilding";
    note.setAttribute("aria-label", "Preview");
    note.style.cssText = "position:fixed;right:0.75rem;top:0.75rem;z-index:10001;margin:0;padding:0.3rem 0.7rem;" +
      "background:#fffbe6;color:#1a1a1a;border:1px solid #8a6d00;border-radius:4px;font:13px/1.4 system-ui,sans-serif";
    var text = document.createElement("p");
    text.setAttribute("role", "status");
    text.style.cssText = "margin:0";
    text.textContent = "Rebuilding\u2026";
    note.appendChild(text);
    document.body.appendChild(note);
  }

  function hide() {
    if (box) { box.remove(); box = null; }
  }

  function show(error) {
    if (!error) { hide(); return; }
    if (!box) {
      box = document.createElement("section");
      box.id = "cspbook-preview-error";
      box.setAttribute("role", "alert");
      box.setAttribute("aria-labelledby", "cspbook-preview-error-title");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:10000;max-height:45vh;overflow:auto;" +
        "margin:0;padding:0.75rem 1rem;background:#fff4f4;color:#1a1a1a;border-top:4px solid #b00020;" +
        "font:14px/1.4 system-ui,sans-serif;box-shadow:0 -2px 8px rgba(0,0,0,.2)";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var title = document.createElement("h2");
    title.id = "cspbook-preview-error-title";
    title.style.cssText = "margin:0 0 .5rem;font-size:1rem;color:#8a0018";
    title.textContent = "Preview: the last rebuild failed. The page shows the last good build.";
    var message = document.createElement("pre");
    message.style.cssText = "margin:0 0 .5rem;white-space:pre-wrap;font:13px/1.4 monospace;color:#1a1a1a;background:none";
    message.textContent = error;
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Hide until the next rebuild";
    close.addEventListener("click", hide);
    box.append(title, message, close);
  }

  var connected = false;

  function connect() {
    if (connected) { return; }
    connected = true;
    var source = new EventSource(events + "?page=" + encodeURIComponent(window.location.pathname) +
      "&generation=" + generation);
    source.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      if (state.reload) {
        source.close();
        window.location.reload();
        return;
      }
      generation = state.generation;
      rebuilding(state.building);
      show(state.error);
    });
  }

  // The event stream opens once the page is loaded and painted: the preview takes its opening
  // as "this tab shows the page" and only then goes on with the rest of the book, so that the
  // rest does not compete with the browser for the processor while the page is drawn. A tab in
  // the background paints no frame: it connects after a fifth of a second all the same.
  function afterPaint() {
    requestAnimationFrame(function () { setTimeout(connect, 0); });
    setTimeout(connect, 200);
  }
  if (document.readyState === "complete") {
    afterPaint();
  } else {
    window.addEventListener("load", afterPaint, { once: true });
  }
})();
