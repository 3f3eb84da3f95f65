// cspbook preview only (never in a built book): reload this page when the preview has
// rebuilt the book, and show the error of a failed rebuild over the last good page.
// The preview server adds this script to every HTML page it serves, with the build
// generation the page came from; it sends the current state over Server-Sent Events.
(function () {
  "use strict";
  var me = document.currentScript;
  var generation = Number(me.dataset.generation);
  var events = me.dataset.events;
  var box = null;

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

  var source = new EventSource(events);
  source.addEventListener("state", function (event) {
    var state = JSON.parse(event.data);
    if (state.generation !== generation) {
      source.close();
      window.location.reload();
      return;
    }
    show(state.error);
  });
})();
