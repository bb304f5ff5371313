// The service worker: keeps the app shell (the page, its styles and modules)
// so todokit opens while the server cannot be reached. The network comes
// first, so a new version is used as soon as the server serves it; the copy is
// only the fallback. API answers are never kept here (the app keeps the last
// task list itself, per user, and forgets it at sign-out).

const CACHE = "todokit-shell-v2";
const SHELL = [
  "/",
  "/assets/app.css",
  "/assets/favicon.svg",
  "/assets/js/main.js",
  "/assets/js/account.js",
  "/assets/js/api.js",
  "/assets/js/auth.js",
  "/assets/js/chat.js",
  "/assets/js/chatkit.js",
  "/assets/js/dashboard.js",
  "/assets/js/dom.js",
  "/assets/js/format.js",
  "/assets/js/live.js",
  "/assets/js/markdown.js",
  "/assets/js/offline.js",
  "/assets/js/reminders.js",
  "/assets/js/settings.js",
  "/assets/js/shortcuts.js",
  "/assets/js/task-dialog.js",
  "/assets/js/theme.js",
  "/assets/js/toast.js",
  "/assets/js/widgets.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // A calendar feed or API URL opened in a tab is not a page of the app.
  if (url.pathname.startsWith("/calendar/") || url.pathname.startsWith("/api/")) return;
  const isPage = request.mode === "navigate";
  if (!isPage && !url.pathname.startsWith("/assets/")) return; // the API, /healthz, the event stream
  event.respondWith(
    fetch(request)
      .then((response) => {
        const html = (response.headers.get("content-type") || "").startsWith("text/html");
        if (response.ok && (html || !isPage)) {
          const copy = response.clone();
          // Every page is the same shell; keep it under "/".
          caches.open(CACHE).then((cache) => cache.put(isPage ? "/" : request, copy));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(isPage ? "/" : request, { ignoreSearch: true });
        return cached || Response.error();
      }),
  );
});
