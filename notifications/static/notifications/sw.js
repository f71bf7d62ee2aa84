// adplatform service worker: shows web push notifications and opens their link on click.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = { title: event.data.text() }; }
  const title = data.title || "adplatform";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag,
    data: { url: data.url || "/notifications/" },
    requireInteraction: data.priority === "urgent",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url, self.location.origin);
  if (url.origin !== self.location.origin) return; // only open our own pages
  event.waitUntil(clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const win of windows) {
      if (win.url === url.href && "focus" in win) return win.focus();
    }
    return clients.openWindow(url.href);
  }));
});
