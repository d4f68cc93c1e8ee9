// The app shell for offline starts: a service worker that keeps a copy of the page, its script,
// the Outpost package (JavaScript and WebAssembly) and the demo configuration. Network first, so
// a new build is picked up whenever the server answers; the copy when it does not. Sync requests
// (/v1/..., /healthz) are never touched: Outpost handles the network itself.
const CACHE = 'gogotime-shell-v1';
const SHELL = [
  '/',
  '/index.html',
  '/app.js',
  '/style.css',
  '/demo-config/config.json',
  '/outpost/outpost.js',
  '/outpost/worker.js',
  '/outpost/engine.js',
  '/outpost/storage.js',
  '/outpost/sync.js',
  '/outpost/outpost_web.mjs',
  '/outpost/outpost_web.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/') || url.pathname === '/healthz') return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(event.request);
        if (response.ok) cache.put(event.request, response.clone());
        return response;
      } catch (e) {
        const copy = await cache.match(event.request, { ignoreSearch: true });
        if (copy) return copy;
        throw e;
      }
    })(),
  );
});
