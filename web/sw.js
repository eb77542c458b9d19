// sw.js - the chat app's service worker: keeps the app shell (pages, modules, wasm) so it opens offline; models stay in OPFS.
//
// Its scope is the whole site ("/", allowed by the Service-Worker-Allowed header that `hearth serve`
// sends for it): a dedicated worker - the engine's, and each wasm thread's - is controlled by the
// service worker whose scope holds the worker's own URL, so /web/ alone would not cover
// /build/wasm/hearth-mt.worker.js. Requests outside the shell list (models) pass straight through.
const CACHE = 'hearth-shell-v1';
const SHELL = [
  'app/', 'app/index.html', 'app/app.css', 'app/app.js', 'app/chat-view.js', 'app/markdown.js', 'app/settings.js', 'app/loader-view.js',
  'app/models-view.js', 'app/manifest.webmanifest',
  'hearth.js', 'reasoning.js', 'backend.js', 'client.js', 'errors.js', 'protocol.js', 'worker.js', 'host.js', 'engine.js', 'engine-gpu.js', 'gpu/host.js', 'gpu/driver.js',
  'storage.js', 'download.js', 'sha256.js',
  '../build/wasm/hearth-st.mjs', '../build/wasm/hearth-st.wasm', '../build/wasm/hearth-mt.mjs', '../build/wasm/hearth-mt.wasm',
  '../build/wasm/hearth-mt.worker.js', '../build/vendor/marked.esm.js', '../build/vendor/purify.es.mjs',
].map((p) => new URL(p, self.location.href).href);
const SHELL_SET = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One by one, so a missing optional file (say, no threaded build) does not block the rest.
    await Promise.all(SHELL.map((url) => cache.add(url).catch((e) => console.warn('sw: not cached', url, e))));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith('hearth-shell-') && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

function isShell(request) {
  const url = new URL(request.url);
  url.search = '';
  return request.method === 'GET' && !request.headers.has('Range') && SHELL_SET.has(url.href);
}

// Network first (so a new version is picked up), the cached copy when the network fails.
self.addEventListener('fetch', (event) => {
  if (!isShell(event.request)) return; // models and everything else: straight to the network
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(event.request);
      if (resp.ok && resp.status === 200) await cache.put(event.request.url.split('?')[0], resp.clone());
      return resp;
    } catch (e) {
      const hit = await cache.match(event.request, { ignoreSearch: true });
      // Re-wrapped without its URL: a worker script keeps the URL it was asked for (with its query,
      // e.g. worker.js?store=cache), not the one the cached copy was fetched with.
      if (hit) return new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers: hit.headers });
      throw e;
    }
  })());
});
