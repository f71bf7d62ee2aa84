// Web push subscription management on the preferences page.
(function () {
  "use strict";
  const section = document.getElementById("push-settings");
  if (!section) return;
  const status = document.getElementById("push-status");
  const subscribeButton = document.getElementById("push-subscribe");
  const unsubscribeButton = document.getElementById("push-unsubscribe");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = "This browser does not support web push.";
    return;
  }

  function keyBytes(base64url) {
    const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  }

  async function refresh() {
    const registration = await navigator.serviceWorker.register(section.dataset.swUrl, { scope: "/" });
    const subscription = await registration.pushManager.getSubscription();
    status.textContent = subscription ? "Push is on in this browser." : "Push is off in this browser.";
    subscribeButton.hidden = Boolean(subscription);
    unsubscribeButton.hidden = !subscription;
    return registration;
  }

  subscribeButton.addEventListener("click", async () => {
    try {
      const registration = await refresh();
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(section.dataset.vapidPublicKey),
      });
      await post(section.dataset.subscribeUrl, subscription.toJSON());
      await refresh();
    } catch (err) {
      status.textContent = "Could not enable push: " + err.message;
    }
  });

  unsubscribeButton.addEventListener("click", async () => {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await post(section.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    await refresh();
  });

  refresh().catch((err) => { status.textContent = "Push unavailable: " + err.message; });
})();
