// Offline reading for council tablets (scope /sessions/): the session's papers are stored whole
// in Cache Storage when the member asks, and PDF.js's range requests are answered from them.
// Pages, scripts and JSON are network-first with the cache as fallback, so a tablet that loses
// the network keeps the papers, its notes and the last state it saw.
// A file or JSON answer marked "no-store" (a confidential paper, its marked download) is never
// kept.  Pages are: every HTML page says no-store to keep it out of the browser's HTTP cache, and
// the session's pages are what this worker keeps on purpose (dropped at logout).
const CACHE = "lt-sessions-v2";
const FILE = /^\/api\/v1\/sessions\/\d+\/papers\/\d+\/file$/;

function storable(resp) {
  if (!resp.ok || resp.status !== 200) return false;
  const page = (resp.headers.get("Content-Type") || "").startsWith("text/html");
  return page || !/\bno-store\b/i.test(resp.headers.get("Cache-Control") || "");
}

self.addEventListener("install", () => self.skipWaiting());
// v1 kept confidential papers too: older caches go when this worker takes over
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
  await self.clients.claim();
})()));

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type !== "cache-session") return;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    let done = 0;
    for (const url of msg.urls) {
      try {
        const resp = await fetch(url, { credentials: "same-origin" });
        if (storable(resp)) { await cache.put(url, resp); done += 1; }
      } catch (_e) { /* offline already: keep what we have */ }
    }
    event.source?.postMessage({ type: "cached", count: done, total: msg.urls.length });
  })());
});

async function fromCacheRange(request, cached) {
  const range = request.headers.get("Range");
  if (!range) return cached;
  const blob = await cached.blob();
  const m = /bytes=(\d+)-(\d*)/.exec(range);
  if (!m) return cached;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), blob.size - 1) : blob.size - 1;
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": "application/pdf",
      "Content-Range": `bytes ${start}-${end}/${blob.size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

function loggedOut(resp) {
  return resp.status === 401 || (resp.redirected && new URL(resp.url).pathname === "/login");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname === "/api/v1/realtime") return;
  if (FILE.test(url.pathname)) {
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      const cached = await cache.match(url.pathname + url.search);
      if (cached) return fromCacheRange(request, cached);
      return fetch(request);
    })());
    return;
  }
  const ours = url.pathname.startsWith("/static/") || url.pathname.startsWith("/sessions/") ||
    url.pathname.startsWith("/api/v1/sessions/");
  if (!ours) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(request);
      if (storable(resp) && !loggedOut(resp)) cache.put(url.pathname + url.search, resp.clone());
      // Logged out (expired, or "log out everywhere" from another device): the papers kept for
      // this person go too.  A logout on this tablet clears them already (Clear-Site-Data).
      if (loggedOut(resp)) await caches.delete(CACHE);
      return resp;
    } catch (e) {
      const cached = await cache.match(url.pathname + url.search);
      if (cached) return cached;
      throw e;
    }
  })());
});
