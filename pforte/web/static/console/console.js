/* The admin console's own script (served from this server; CSP script-src 'self'). Everything
   works without it; it adds: local times, copy buttons, show/hide of a one-time value. */
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      el.textContent = when.toLocaleString(document.documentElement.lang, {
        dateStyle: "medium",
        timeStyle: "short",
      });
      el.title = el.getAttribute("datetime");
    });
  }

  function wire(root) {
    localTimes(root);
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) return;
        var value = "value" in source ? source.value : source.textContent;
        navigator.clipboard.writeText(value).then(function () {
          button.setAttribute("data-copied", "true");
          var status = document.getElementById(button.getAttribute("data-copy") + "-status");
          if (status) status.textContent = button.getAttribute("data-copied-text") || "";
        });
      });
    });
    root.querySelectorAll("[data-reveal]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-reveal"));
        if (!field) return;
        var shown = field.type === "text";
        field.type = shown ? "password" : "text";
        button.setAttribute("aria-pressed", shown ? "false" : "true");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    wire(event.target);
  });
})();
