// Live notifications: the header bell's count, toasts for high and urgent, and a nudge
// to the notification centre. Reconnects with the last seen id so nothing is missed.
(function () {
  "use strict";
  const bell = document.querySelector("[data-testid='notification-bell']");
  if (!bell || !("WebSocket" in window)) return;
  const countEl = bell.querySelector(".notif-count");
  const toasts = document.getElementById("notif-toasts");
  const organizationId = Number(bell.dataset.organizationId);
  let lastId = Number(bell.dataset.lastId || 0);
  const seen = new Set();
  let retry = 0;
  let socket = null;

  function setCount(n) {
    n = Math.max(0, n);
    countEl.textContent = String(n);
    countEl.hidden = n === 0;
    bell.setAttribute("aria-label", "Notifications, " + n + " unread");
    const centre = document.querySelector("[data-testid='centre-unread']");
    if (centre) centre.textContent = String(n);
  }

  function toast(data) {
    const item = document.createElement("div");
    item.className = "notif-toast notif-toast-" + data.priority;
    item.setAttribute("role", data.priority === "urgent" ? "alert" : "status");
    item.dataset.testid = "notification-toast";
    const title = document.createElement(data.action_url ? "a" : "strong");
    title.className = "notif-toast-title";
    title.textContent = data.title;
    if (data.action_url) title.href = data.action_url;
    const body = document.createElement("p");
    body.textContent = data.body;
    const meta = document.createElement("span");
    meta.className = "notif-toast-meta";
    meta.textContent = data.organization.name + " · " + data.priority;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "notif-toast-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(close, meta, title, body);
    toasts.prepend(item);
    // Urgent ones stay until closed; high ones fade after a while.
    if (data.priority !== "urgent") setTimeout(() => item.remove(), 12000);
  }

  function onMessage(message) {
    if (message.type === "notification.created") {
      if (seen.has(message.id)) return; // replay and live may overlap
      seen.add(message.id);
      lastId = Math.max(lastId, message.id);
      const data = message.data;
      if (data.organization.id === organizationId) setCount(Number(countEl.textContent) + 1);
      if (data.priority === "high" || data.priority === "urgent") toast(data);
      document.body.dispatchEvent(new CustomEvent("notifications-arrived", { detail: data }));
    } else if (message.type === "notification.updated") {
      document.body.dispatchEvent(new CustomEvent("notifications-arrived", { detail: message.data }));
    } else if (message.type === "notifications.read") {
      if (message.data.organization_id === organizationId) setCount(message.data.unread_count);
    } else if (message.type === "replay.complete") {
      retry = 0;
    } else if (message.type) {
      // Live-only signals such as "metrics.updated": pages listen for them to refetch.
      document.body.dispatchEvent(new CustomEvent("live:" + message.type, { detail: message.data }));
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/notifications/?last_id=" + lastId);
    socket.addEventListener("message", (event) => {
      try { onMessage(JSON.parse(event.data)); } catch (err) { console.error(err); }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) return; // signed out or no organization
      retry += 1;
      const delay = Math.min(30000, 500 * 2 ** Math.min(retry, 6)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    });
  }

  bell.dataset.live = "connecting";
  connect();
  socket.addEventListener("open", () => { bell.dataset.live = "open"; });
  window.adplatformNotifications = { get socket() { return socket; }, get lastId() { return lastId; } };
})();
