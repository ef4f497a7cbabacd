// @ts-check
/**
 * Veil's download service worker: streams a decrypted download to disk in browsers without the
 * File System Access save picker ([Note: service-worker download] in
 * src/transfer/browser/download-sw-sink.ts). It holds no keys and sees only plaintext the page
 * chose to save; it serves nothing but the `<scope><id>` URLs the page announced, each once.
 *
 * Protocol (one MessageChannel per download, its port transferred with the announcement):
 *   page -> worker  { type: 'veil-download', id, fileName, sizeBytes? } (+ port)
 *   worker -> page  { type: 'ready', url }            the page then navigates to url
 *   worker -> page  { type: 'pull' }                   the browser wants the next chunk
 *   page -> worker  { type: 'chunk', bytes }           one chunk (its buffer transferred)
 *   page -> worker  { type: 'close' } | { type: 'abort', reason }
 *   worker -> page  { type: 'closed' } | { type: 'cancelled' } (the user cancelled in the browser)
 * Plain JavaScript served as it is from the site root (a static file, no build step), so its URL
 * stays stable across releases and `worker-src 'self'` allows it. Its scope is only
 * `<root>veil-download/`: it never controls the app's pages, so the app's own requests (S3, KMS,
 * config.json) never pass through it.
 */

/**
 * @typedef {{ data: unknown; ports: readonly MessagePort[] }} AnnounceEvent
 * @typedef {{ request: Request; respondWith(response: Promise<Response> | Response): void }} FetchEvent
 * @typedef {{ id: string; fileName: string; sizeBytes: number | undefined; port: MessagePort }} Pending
 */

/**
 * The members of a service worker's global scope used here (the app's type check has the DOM
 * library, not the WebWorker one).
 * @typedef {{
 *   registration: { scope: string };
 *   addEventListener(type: 'message', listener: (event: AnnounceEvent) => void): void;
 *   addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
 * }} WorkerScope
 */
const scope = /** @type {WorkerScope} */ (/** @type {unknown} */ (globalThis));

/** Chunks queued in the worker at most (each one write of the page, about 8 MiB). */
const QUEUED_CHUNKS = 2;

/** Downloads announced and not yet requested, by id. @type {Map<string, Pending>} */
const pending = new Map();

scope.addEventListener('message', (event) => {
  const message =
    /** @type {{ type?: unknown; id?: unknown; fileName?: unknown; sizeBytes?: unknown }} */ (
      event.data ?? {}
    );
  // Keep-alive pings need no answer: receiving one keeps the worker running.
  if (message.type !== 'veil-download') return;
  const port = event.ports[0];
  if (!port || typeof message.id !== 'string' || !/^[\w-]{16,64}$/.test(message.id)) return;
  const fileName = typeof message.fileName === 'string' ? message.fileName : 'download';
  const sizeBytes =
    typeof message.sizeBytes === 'number' && Number.isSafeInteger(message.sizeBytes)
      ? message.sizeBytes
      : undefined;
  const entry = { id: message.id, fileName, sizeBytes, port };
  pending.set(entry.id, entry);
  port.onmessage = (reply) => {
    // An abort before the browser asked for the URL: forget the download.
    if (typeOf(/** @type {unknown} */ (reply.data)) === 'abort') {
      pending.delete(entry.id);
      port.close();
    }
  };
  port.postMessage({ type: 'ready', url: `${scope.registration.scope}${entry.id}` });
});

scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const prefix = new URL(scope.registration.scope);
  if (url.origin !== prefix.origin || !url.pathname.startsWith(prefix.pathname)) return;
  const id = url.pathname.slice(prefix.pathname.length);
  const entry = pending.get(id);
  pending.delete(id);
  event.respondWith(respond(entry));
});

/**
 * The `type` of a message, or undefined.
 * @param {unknown} data
 */
function typeOf(data) {
  return typeof data === 'object' && data !== null && 'type' in data ? data.type : undefined;
}

/**
 * `attachment` with the name as UTF-8 (RFC 6266 / 8187) and an ASCII fallback.
 * @param {string} fileName
 */
function contentDisposition(fileName) {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%;]/g, '_') || 'download';
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * The streamed download. Always an attachment, so the page that navigated here stays where it
 * is; an unknown or reused id gets a body that fails at once (a failed download, not a page).
 * @param {Pending | undefined} entry
 * @returns {Response}
 */
function respond(entry) {
  /** @type {(() => void) | undefined} */
  let wake;
  /** @type {ReadableStream<Uint8Array>} */
  const body = new ReadableStream(
    {
      start(controller) {
        if (!entry) {
          controller.error(new Error('unknown or finished download'));
          return;
        }
        entry.port.onmessage = (event) => {
          const data = /** @type {unknown} */ (event.data);
          const message = /** @type {{ type?: unknown; bytes?: unknown; reason?: unknown }} */ (
            typeof data === 'object' && data !== null ? data : {}
          );
          if (message.type === 'chunk' && message.bytes instanceof Uint8Array) {
            controller.enqueue(message.bytes);
          } else if (message.type === 'close') {
            controller.close();
            entry.port.postMessage({ type: 'closed' });
            entry.port.close();
          } else if (message.type === 'abort') {
            // Erroring the body makes the browser mark the download failed, never complete.
            const reason = typeof message.reason === 'string' ? message.reason : 'aborted';
            controller.error(new Error(reason));
            entry.port.close();
          }
          wake?.();
          wake = undefined;
        };
      },
      pull() {
        if (!entry) return undefined;
        entry.port.postMessage({ type: 'pull' });
        return new Promise((resolve) => (wake = () => resolve(undefined)));
      },
      cancel() {
        entry?.port.postMessage({ type: 'cancelled' });
        entry?.port.close();
      },
    },
    new CountQueuingStrategy({ highWaterMark: QUEUED_CHUNKS }),
  );
  /** @type {Record<string, string>} */
  const headers = {
    'content-type': 'application/octet-stream',
    'content-disposition': contentDisposition(entry?.fileName ?? 'download'),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  if (entry?.sizeBytes !== undefined) headers['content-length'] = String(entry.sizeBytes);
  return new Response(body, { headers });
}
