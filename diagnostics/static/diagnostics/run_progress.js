// Polls the run's step fragment and swaps it in until the run has finished. Without JavaScript the page's
// <noscript><meta refresh> reloads instead. Texts come from the server (translated there).
(function () {
  "use strict";
  function poll() {
    var box = document.getElementById("run-progress");
    if (!box || box.dataset.finished === "true") { return; }
    var seconds = parseFloat(box.dataset.pollSeconds || "2");
    window.setTimeout(function () {
      fetch(box.dataset.stepsUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#run-progress");
          if (fresh) { box.replaceWith(fresh); }
          poll();
        })
        .catch(function () { window.setTimeout(function () { window.location.reload(); }, seconds * 1000); });
    }, seconds * 1000);
  }
  poll();
})();
