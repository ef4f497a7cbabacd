/**
 * A save target for browsers without the File System Access save picker: the download streams
 * through Veil's service worker (public/veil-download-sw.js) into the browser's own downloads.
 *
 * [Note: service-worker download] The page registers the worker lazily, the first time such a
 * download is needed (and looks its active worker up again for every download, so a deploy that
 * replaced it is followed), with the narrow scope `<root>veil-download/`, so it never controls the
 * app's pages and the app's requests never pass through it. On the first write (or on close, for
 * an empty file) the page announces the download over a MessageChannel, the worker answers with a
 * unique URL inside its scope, and the page follows a hidden link to it (no `download` attribute:
 * with one, Chromium cancels the download; no iframe: the CSP allows no frames). The worker
 * answers that navigation with a streamed `Content-Disposition: attachment` response, so the page
 * stays where it is. Each chunk crosses by transfer; the worker asks for the next one only when
 * the browser has room (a pull), so memory holds a few chunks whatever the object size. Nothing
 * is announced before the first verified bytes, so a download that fails early (wrong key,
 * tampered header) never appears in the browser; one that fails later is aborted, which errors
 * the response body, and the browser marks the download failed instead of keeping a complete-
 * looking truncated file. Cancelling it in the browser's download list cancels the Veil download.
 * While a download runs the page pings the worker every 10 s, so the browser keeps it running.
 */
import { VeilError } from '../../core';
import type { DownloadSink } from '../download-setup';

/** The worker's script, next to index.html in the build (public/). */
export const DOWNLOAD_WORKER_SCRIPT = 'veil-download-sw.js';
/** The worker's scope, relative to its script. */
export const DOWNLOAD_WORKER_SCOPE = 'veil-download/';
/** How long the browser may take to request an announced download, in milliseconds. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_MS = 10_000;

/** Options of serviceWorkerSink. */
export interface ServiceWorkerSinkOptions {
  /** The name the browser saves the file under (it may add a suffix or sanitize it). */
  readonly fileName: string;
  /** The exact plaintext size when known, sent as Content-Length (the browser shows progress). */
  readonly sizeBytes?: number;
  /** The worker's script URL; default DOWNLOAD_WORKER_SCRIPT relative to the page's base URL. */
  readonly scriptUrl?: string | URL;
  /** Opens the announced URL as a download; default: a click on a hidden link. */
  readonly startDownload?: (url: string) => void;
  /** How long the browser may take to request the announced URL, in ms; default 30 s. */
  readonly startTimeoutMs?: number;
}

/** True when this page can register service workers (a secure context with the API). */
export function serviceWorkerDownloadsSupported(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof MessageChannel !== 'undefined' &&
    (typeof isSecureContext === 'undefined' || isSecureContext)
  );
}

function unavailable(cause: unknown): VeilError {
  return new VeilError(
    'DOWNLOAD_SAVE_FAILED',
    'this browser has no save picker and refused the download service worker (private windows ' +
      'of some browsers do); use a browser with the File System Access API or a normal window',
    { cause },
  );
}

/** What downloadWorker uses of navigator.serviceWorker (tests pass a fake). */
export type WorkerContainer = Pick<ServiceWorkerContainer, 'getRegistration' | 'register'>;

/**
 * The active download worker, looked up again for every download: a deploy that updates the
 * script makes the previously active worker redundant, and a cached one would never answer (the
 * download would wait for the start timeout and fail). Registers the worker when its scope has
 * no registration of this script yet, and waits for it to activate.
 */
export async function downloadWorker(
  scriptUrl: URL,
  container: WorkerContainer = navigator.serviceWorker,
): Promise<ServiceWorker> {
  const scope = new URL(DOWNLOAD_WORKER_SCOPE, scriptUrl).href;
  const existing = await container.getRegistration(scope);
  const registration =
    existing?.scope === scope && existing.active?.scriptURL === scriptUrl.href
      ? existing
      : await container.register(scriptUrl, { scope });
  for (;;) {
    if (registration.active) return registration.active;
    const next = registration.installing ?? registration.waiting;
    if (!next) throw new Error('the service worker did not install');
    await new Promise<void>((resolve, reject) => {
      next.addEventListener('statechange', () => {
        if (next.state === 'redundant') reject(new Error('the service worker failed'));
        else if (next.state === 'activated') resolve();
      });
    });
  }
}

function clickHiddenLink(url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

type WorkerMessage =
  { type: 'ready'; url: string } | { type: 'pull' } | { type: 'closed' } | { type: 'cancelled' };

/** One streamed download through the worker (see [Note: service-worker download]). */
class ServiceWorkerSink implements DownloadSink {
  readonly #worker: Pick<ServiceWorker, 'postMessage'>;
  readonly #options: ServiceWorkerSinkOptions;
  #port: MessagePort | undefined;
  #opening: Promise<void> | undefined;
  #started = false;
  #credits = 0;
  #failure: VeilError | undefined;
  #waiter: { resolve: () => void; reject: (error: VeilError) => void } | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Settles when the worker closed the stream (resolves) or the download failed (rejects). */
  readonly #finished: Promise<void>;
  #settleFinished: { resolve: () => void; reject: (error: VeilError) => void } | undefined;

  constructor(worker: Pick<ServiceWorker, 'postMessage'>, options: ServiceWorkerSinkOptions) {
    this.#worker = worker;
    this.#options = options;
    this.#finished = new Promise<void>((resolve, reject) => {
      this.#settleFinished = { resolve, reject };
    });
    // Awaited by close(); a failure is also reported by write(), so none goes unhandled.
    this.#finished.catch(() => undefined);
  }

  #handle(message: WorkerMessage): void {
    if (message.type === 'pull') {
      this.#started = true;
      this.#credits += 1;
    } else if (message.type === 'cancelled') {
      this.#fail(new VeilError('DOWNLOAD_CANCELLED', 'cancelled in the browser’s downloads'));
    } else if (message.type === 'closed') {
      this.#settleFinished?.resolve();
    }
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (!waiter) return;
    if (this.#failure) waiter.reject(this.#failure);
    else waiter.resolve();
  }

  #fail(error: VeilError): void {
    this.#failure ??= error;
    this.#settleFinished?.reject(this.#failure);
    this.#stop();
    this.#wake();
  }

  #stop(): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** Announces the download and has the browser request it. */
  #open(): Promise<void> {
    this.#opening ??= (async () => {
      const channel = new MessageChannel();
      const port = channel.port1;
      this.#port = port;
      const ready = new Promise<string>((resolve) => {
        port.onmessage = (event: MessageEvent<WorkerMessage>) => {
          if (event.data?.type === 'ready') resolve(event.data.url);
          else this.#handle(event.data);
        };
      });
      const { fileName, sizeBytes } = this.#options;
      this.#worker.postMessage({ type: 'veil-download', id: randomId(), fileName, sizeBytes }, [
        channel.port2,
      ]);
      const url = await this.#within(ready, 'the download service worker did not answer');
      port.onmessage = (event: MessageEvent<WorkerMessage>) => this.#handle(event.data);
      this.#keepAlive = setInterval(
        () => this.#worker.postMessage({ type: 'veil-download-keepalive' }),
        KEEP_ALIVE_MS,
      );
      (this.#options.startDownload ?? clickHiddenLink)(url);
    })();
    return this.#opening;
  }

  /** `promise`, or DOWNLOAD_SAVE_FAILED (the sink fails) after the start timeout. */
  async #within<T>(promise: Promise<T>, detail: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new VeilError('DOWNLOAD_SAVE_FAILED', detail);
        this.#fail(error);
        reject(error);
      }, this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the worker asked for a chunk; the first one must come within the timeout. */
  async #credit(): Promise<void> {
    while (this.#credits === 0) {
      if (this.#failure) throw this.#failure;
      const waited = new Promise<void>((resolve, reject) => (this.#waiter = { resolve, reject }));
      await (this.#started
        ? waited
        : this.#within(waited, 'the browser did not start the download'));
    }
    if (this.#failure) throw this.#failure;
    this.#credits -= 1;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    await this.#open();
    await this.#credit();
    // The chunk's buffer is transferred when the chunk is all of it, else copied.
    const whole =
      chunk.byteOffset === 0 &&
      chunk.byteLength === chunk.buffer.byteLength &&
      chunk.buffer instanceof ArrayBuffer
        ? (chunk as Uint8Array<ArrayBuffer>)
        : new Uint8Array(chunk);
    this.#port?.postMessage({ type: 'chunk', bytes: whole }, [whole.buffer]);
  }

  async close(): Promise<void> {
    if (this.#failure) throw this.#failure;
    await this.#open();
    // An empty file: the browser must have requested the URL before the stream can close.
    if (!this.#started) await this.#credit();
    this.#port?.postMessage({ type: 'close' });
    await this.#finished;
    this.#stop();
    this.#port?.close();
  }

  abort(reason?: unknown): Promise<void> {
    this.#fail(
      reason instanceof VeilError ? reason : new VeilError('DOWNLOAD_CANCELLED', String(reason)),
    );
    const detail = reason instanceof VeilError ? reason.code : 'aborted';
    this.#port?.postMessage({ type: 'abort', reason: detail });
    this.#port?.close();
    return Promise.resolve();
  }
}

/**
 * A save target that streams into the browser's downloads through Veil's service worker (see
 * [Note: service-worker download]). Registers the worker on first use; the download itself starts
 * at the first write.
 * @throws VeilError DOWNLOAD_SAVE_FAILED when the browser cannot run the worker.
 */
export async function serviceWorkerSink(options: ServiceWorkerSinkOptions): Promise<DownloadSink> {
  if (!serviceWorkerDownloadsSupported()) throw unavailable(undefined);
  const scriptUrl = new URL(options.scriptUrl ?? DOWNLOAD_WORKER_SCRIPT, document.baseURI);
  let worker: ServiceWorker;
  try {
    worker = await downloadWorker(scriptUrl);
  } catch (cause) {
    throw unavailable(cause);
  }
  return sinkThroughWorker(worker, options);
}

/**
 * The sink over an already active download worker (serviceWorkerSink registers it first); for
 * tests, and for apps that register the worker themselves.
 */
export function sinkThroughWorker(
  worker: Pick<ServiceWorker, 'postMessage'>,
  options: ServiceWorkerSinkOptions,
): DownloadSink {
  return new ServiceWorkerSink(worker, options);
}
