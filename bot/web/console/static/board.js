// The live board: reload its requests every few seconds, unless the worker is typing in it.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var every = parseInt(board.dataset.every, 10) || 15000;

  function busy() {
    var active = document.activeElement;
    return active && board.contains(active) && active.tagName === "INPUT";
  }

  function refresh() {
    if (busy() || document.hidden) { return; }
    fetch(board.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html-fragment" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && !busy()) { board.innerHTML = html; board.dataset.refreshed = Date.now(); }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  setInterval(refresh, every);
})();
