// PocketDev service worker: keeps the app shell for offline starts.
// Network first for everything (the site's files are not content-hashed); the cache is only the
// fallback. The JSON API and its SSE feeds (/api/) are never cached or intercepted.
const CACHE = "pocket-dev-shell-v1";
const SHELL = ["/", "/offline.html", "/pkg/pocket-dev.js", "/pkg/pocket-dev.wasm", "/pkg/pocket-dev.css",
  "/manifest.webmanifest", "/icon.svg", "/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) =>
    Promise.all(SHELL.map((url) => cache.add(url).catch(() => undefined)))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

function cacheable(request, url) {
  return request.method === "GET" && url.origin === self.location.origin && !url.pathname.startsWith("/api/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (!cacheable(request, url)) return; // the browser handles it, untouched
  const shellAsset = url.pathname.startsWith("/pkg/") || SHELL.includes(url.pathname);
  if (request.mode !== "navigate" && !shellAsset) return;
  event.respondWith(fetch(request).then((response) => {
    if (response.ok && (shellAsset || url.pathname === "/")) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  }).catch(async () => {
    const cached = await caches.match(request, { ignoreSearch: request.mode !== "navigate" });
    if (cached) return cached;
    if (request.mode === "navigate") {
      return (await caches.match("/")) || (await caches.match("/offline.html")) || Response.error();
    }
    return Response.error();
  }));
});
