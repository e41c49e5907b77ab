// The simulator page: posts what the persona does, inserts what the server pushes.
"use strict";
(() => {
  const persona = document.body.dataset.persona;
  const $ = (id) => document.getElementById(id);
  const chat = $("chat");
  const input = $("message");
  const composer = $("composer");
  const voiceToggle = $("voice-toggle");
  let voice = false;

  const showError = (text) => {
    $("error").textContent = text;
    $("error").hidden = !text;
  };

  const post = async (path, body) => {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
      });
    } catch (error) {
      showError("连不上模拟器，请确认 jinlin simulate 还在运行");
      return false;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || (answer.errcode !== undefined && answer.errcode !== 0 && !answer.pending)) {
      showError(answer.error || answer.errmsg || `出错了（HTTP ${response.status}）`);
      return false;
    }
    showError("");
    return true;
  };
  const personaApi = (what, body) => post(`/api/personas/${encodeURIComponent(persona)}/${what}`, body);
  const act = (kind, extra) => personaApi("act", { kind, ...extra });

  const scrollDown = () => window.scrollTo(0, document.body.scrollHeight);
  const toggle = (button, target) => {
    const open = target.hidden;
    target.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  const setVoice = (on) => {
    voice = on;
    voiceToggle.setAttribute("aria-pressed", String(on));
    composer.classList.toggle("voice", on);
    input.placeholder = on ? "说一句话（语音识别）" : "发消息";
    input.focus();
  };

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      showError("请输入要发送的内容");
      return;
    }
    input.value = "";
    if (!(await act(voice ? "voice" : "text", { text }))) input.value = text;
  });
  voiceToggle.addEventListener("click", () => setVoice(!voice));
  $("voice-more").addEventListener("click", () => setVoice(true));
  $("who").addEventListener("click", () => toggle($("who"), $("people")));
  $("tools-toggle").addEventListener("click", () => toggle($("tools-toggle"), $("tools")));
  $("more-toggle").addEventListener("click", () => toggle($("more-toggle"), $("more")));

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.act) {
      act(target.dataset.act);
    } else if (target.dataset.click) {
      document.querySelectorAll(".submenu").forEach((menu) => { menu.hidden = true; });
      act("click", { key: target.dataset.click });
    } else if (target.classList.contains("menu-top")) {
      const submenu = target.parentElement.querySelector(".submenu");
      document.querySelectorAll(".submenu").forEach((menu) => {
        if (menu !== submenu) menu.hidden = true;
      });
      if (submenu) toggle(target, submenu);
    } else if (target.dataset.back) {
      personaApi("back", { hours: Number(target.dataset.back) });
    } else if (target.id === "use-quota") {
      personaApi("quota");
    }
  });

  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    post("/standin/faults", { path: form.get("path"), errcode: Number(form.get("errcode")), times: 1 });
  });

  const bump = (openid) => {
    const badge = document.querySelector(`#people a[data-persona="${openid}"] .badge`);
    if (badge) {
      badge.textContent = String(Number(badge.textContent || 0) + 1);
      badge.hidden = false;
    }
    const total = $("unread-total");
    total.textContent = String(Number(total.textContent || 0) + 1);
    total.hidden = false;
  };

  const handle = (message) => {
    if (message.type === "entry") {
      if (message.openid !== persona) {
        if (message.side === "bot") bump(message.openid);
        return;
      }
      if (!chat.querySelector(`[data-id="${message.id}"]`)) {
        chat.insertAdjacentHTML("beforeend", message.html);
        chat.dataset.last = String(message.id);
        scrollDown();
      }
      if (message.side === "bot") personaApi("seen", { id: message.id });
    } else if (message.type === "status" && message.openid === persona && message.html) {
      $("window").innerHTML = message.html;
      $("follow-cover").hidden = message.following;
    } else if (message.type === "menu") {
      $("menu").innerHTML = message.html;
    } else if (message.type === "faults") {
      $("faults").innerHTML = message.html;
    }
  };

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = `persona=${encodeURIComponent(persona)}&after=${chat.dataset.last || 0}`;
    const socket = new WebSocket(`${scheme}://${location.host}/ws?${query}`);
    socket.onopen = () => { document.body.dataset.live = "1"; };
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = () => {
      delete document.body.dataset.live;
      setTimeout(connect, 1000);
    };
  };
  // Relative times ("3 分钟前", "还剩 47 小时") age: redraw them now and then.
  setInterval(async () => {
    const response = await fetch(`/api/personas/${encodeURIComponent(persona)}/window`).catch(() => null);
    if (response && response.ok) $("window").innerHTML = await response.text();
  }, 30000);
  connect();
  scrollDown();
})();
