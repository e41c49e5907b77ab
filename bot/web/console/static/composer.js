// The composer's live audience count, and a notice's progress while it goes out.
(function () {
  "use strict";

  var form = document.getElementById("composer");
  if (form) {
    var preview = document.getElementById("preview");
    var chars = document.getElementById("chars");
    var text = form.elements.text;
    var timer = null;
    var asked = 0;

    var ask = function () {
      var params = new URLSearchParams();
      ["community", "compound", "building", "role", "tag"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) { params.set(name, field.value); }
      });
      var mine = ++asked;
      fetch("/console/broadcasts/preview?" + params, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || mine !== asked) { return; }
          preview.className = "notice" + (data.error || data.warnings.length ? " error" : " ok");
          if (data.error) { preview.textContent = data.error; return; }
          var lines = ["将发送给 " + data.label + " 共 " + data.count + " 人" +
            (data.opted_out ? "（另有 " + data.opted_out + " 人已退订，不发送）" : "") + "。"];
          preview.textContent = lines.concat(data.warnings).join("\n");
        });
    };
    var soon = function () { clearTimeout(timer); timer = setTimeout(ask, 250); };
    var count = function () { chars.textContent = text.value.length; };
    form.addEventListener("change", soon);
    form.elements.building.addEventListener("input", soon);
    text.addEventListener("input", count);
    form.elements.at.addEventListener("input", function () {
      form.querySelector("input[name=when][value=later]").checked = true;
    });
    count();
    ask();
  }

  var notice = document.getElementById("notice");
  if (notice && notice.dataset.live === "yes") {
    var tick = setInterval(function () {
      fetch(notice.dataset.src, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          document.getElementById("state").textContent = data.state_words;
          notice.querySelectorAll("[data-k]").forEach(function (cell) {
            cell.textContent = data[cell.dataset.k];
          });
          var total = data.recipients || 1;
          notice.querySelector(".progress .sent").style.width = (100 * data.sent / total) + "%";
          notice.querySelector(".progress .failed").style.width = (100 * data.failed / total) + "%";
          notice.dataset.state = data.state;
          var withdraw = document.getElementById("withdraw");
          if (withdraw && data.state !== "scheduled") { withdraw.remove(); }
          if (!data.live) { clearInterval(tick); }
        });
    }, 2000);
  }
})();
