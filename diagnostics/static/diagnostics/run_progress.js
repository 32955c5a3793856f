// Polls the run's step fragment and swaps it in until the run has finished. Without JavaScript the page's
// <noscript><meta refresh> reloads instead. Texts come from the server (translated there).
//
// Screen readers: a live region that is itself replaced is not announced, so the swapped part has none. After
// each swap, the page's persistent #run-announcer (role=status, outside the swapped part) is given the run's
// status and the steps that finished since the last poll (and the advice titles once the run has finished).
(function () {
  "use strict";
  var announcer = document.getElementById("run-announcer");

  function text(node) { return node ? node.textContent.replace(/\s+/g, " ").trim() : ""; }

  function finishedSteps(box) {
    var done = {};
    box.querySelectorAll(".step").forEach(function (step) {
      if (!step.classList.contains("step-waiting")) { done[step.dataset.step] = true; }
    });
    return done;
  }

  function announce(before, fresh) {
    if (!announcer) { return; }
    var lines = [];
    fresh.querySelectorAll(".step").forEach(function (step) {
      if (step.classList.contains("step-waiting") || before[step.dataset.step]) { return; }
      var line = text(step.querySelector(".step-name")) + " — " + text(step.querySelector(".step-status"));
      if (/step-(warning|failed|error)/.test(step.className)) { line += ". " + text(step.querySelector(".step-message")); }
      lines.push(line);
    });
    var finished = fresh.dataset.finished === "true";
    if (!lines.length && !finished) { return; }  // nothing new: say nothing
    lines.unshift(text(fresh.querySelector(".run-status")));
    if (finished) {
      fresh.querySelectorAll("#advice h3").forEach(function (title) { lines.push(text(title)); });
    }
    announcer.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      announcer.appendChild(p);
    });
  }

  function poll() {
    var box = document.getElementById("run-progress");
    if (!box || box.dataset.finished === "true") { return; }
    var seconds = parseFloat(box.dataset.pollSeconds || "2");
    window.setTimeout(function () {
      fetch(box.dataset.stepsUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          // Redirected (signed out, say): the page itself says why. Stop polling and load it.
          if (response.redirected) { window.location.reload(); return null; }
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#run-progress");
          if (!fresh) { window.location.reload(); return; }  // not the fragment: let the page show what it is
          var before = finishedSteps(box);
          box.replaceWith(fresh);
          announce(before, fresh);
          poll();
        })
        .catch(function () { window.setTimeout(function () { window.location.reload(); }, seconds * 1000); });
    }, seconds * 1000);
  }
  poll();
})();
