/**
 * One download's shared state and its S3 reads: the setup, the progress meter, the signal that
 * stops requests in flight, retries, and ranged GETs that keep If-Match on the object's ETag
 * ([Note: download pipeline] in download.ts). The readers (download-open.ts, download-framed.ts,
 * download-stream.ts, download-range.ts) all read through one session.
 */
import { VeilError } from '../core';
import { pageOrigin } from './cors';
import { downloadRetryContext, explainDownloadError } from './download-errors';
import { DownloadMeter, type DownloadState } from './download-progress';
import type { RangeBytes } from './download-s3';
import {
  DEFAULT_RANGE_BYTES,
  DEFAULT_RANGES_IN_FLIGHT,
  checkSetup,
  type DownloadSetup,
} from './download-setup';
import { DEFAULT_RETRY_POLICY, withRetry } from './retry';

/** A ranged GET's reply whose bytes are a whole ArrayBuffer (transferable). */
export type WholeRange = RangeBytes & { readonly bytes: Uint8Array<ArrayBuffer> };

/** Runs one download's requests; see [Note: download pipeline]. */
export class DownloadSession {
  readonly setup: DownloadSetup;
  readonly meter: DownloadMeter;
  /** The page origin, for the CORS rule in errors. */
  readonly origin: string;
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  #state: DownloadState = 'opening';

  /** @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options (checkSetup). */
  constructor(setup: DownloadSetup) {
    checkSetup(setup);
    this.setup = setup;
    this.meter = new DownloadMeter(setup.nowMs);
    this.origin = setup.origin ?? pageOrigin();
    this.#signal = setup.signal
      ? AbortSignal.any([setup.signal, this.#controller.signal])
      : this.#controller.signal;
  }

  /** Object bytes per ranged GET. */
  get rangeBytes(): number {
    return this.setup.rangeBytes ?? DEFAULT_RANGE_BYTES;
  }

  /** Ranged GETs fetched or decrypted at once. */
  get rangesInFlight(): number {
    return this.setup.rangesInFlight ?? DEFAULT_RANGES_IN_FLIGHT;
  }

  /** True once the caller cancelled. */
  get cancelled(): boolean {
    return this.setup.signal?.aborted === true;
  }

  /** Tells the caller the progress, in `state` when given. */
  report(state?: DownloadState): void {
    if (state) this.#state = state;
    this.setup.onProgress?.(this.meter.snapshot(this.#state));
  }

  /** Stops requests in flight (after a failure). */
  stop(): void {
    this.#controller.abort(new DOMException('stopped', 'AbortError'));
  }

  /** The failure in download codes (explainDownloadError). */
  explain(error: unknown): unknown {
    return explainDownloadError(error, { cancelled: this.cancelled });
  }

  /**
   * [Note: cancel while the sink waits] A sink's write can wait without end: the service-worker
   * sink waits for the browser to pull the next chunk, which it does not while its download is
   * paused or its Save As dialog is open. So each sink call is raced against the cancel signal;
   * on cancel this rejects with DOWNLOAD_CANCELLED at once and the run aborts the sink with it,
   * which also ends the sink's own wait.
   */
  untilCancelled(pending: Promise<void>): Promise<void> {
    const signal = this.setup.signal;
    if (!signal) return pending;
    return new Promise<void>((resolve, reject) => {
      const onCancel = (): void => reject(new VeilError('DOWNLOAD_CANCELLED'));
      if (signal.aborted) onCancel();
      signal.addEventListener('abort', onCancel, { once: true });
      void pending
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onCancel));
    });
  }

  /** Runs one S3 call with retries under the download's signal ([Note: AWS failures]). */
  async send<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withRetry(
        () => call(this.#signal),
        this.setup.retry ?? DEFAULT_RETRY_POLICY,
        this.#signal,
        this.setup.retryHooks,
        downloadRetryContext(this.origin),
      );
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * Bytes [startBytes, endBytes) of the object, as a whole ArrayBuffer (transferable), with
   * If-Match on `etag`.
   * @throws VeilError DOWNLOAD_OBJECT_CHANGED, TRUNCATED, and the errors of send.
   */
  async range(
    etag: string | undefined,
    startBytes: number,
    endBytes: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    return (await this.rangeReply(etag, startBytes, endBytes)).bytes;
  }

  /**
   * As range, with the reply's ETag, size and metadata: without an ETag yet (the first GET when
   * HEAD exposed none), the reply's is the one later requests carry.
   */
  async rangeReply(
    etag: string | undefined,
    startBytes: number,
    endBytes: number,
  ): Promise<WholeRange> {
    const { bucket, key } = this.setup;
    const reply = await this.send((signal) =>
      this.setup.s3.getRange({ bucket, key, startBytes, endBytes, ifMatch: etag }, signal),
    );
    if (etag !== undefined && reply.etag !== undefined && !sameEtag(reply.etag, etag)) {
      throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs between requests');
    }
    if (reply.bytes.length !== endBytes - startBytes) {
      throw new VeilError(
        'TRUNCATED',
        `bytes ${startBytes}..${endBytes} came back as ${reply.bytes.length} bytes`,
      );
    }
    this.meter.addFetched(reply.bytes.length);
    const bytes = reply.bytes;
    const whole =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes as Uint8Array<ArrayBuffer>)
        : new Uint8Array(bytes);
    return { ...reply, bytes: whole };
  }
}

const unquote = (etag: string): string => etag.replace(/^W\//, '').replace(/^"|"$/g, '');

/** True when two ETags name the same version (quotes and a weak prefix aside). */
export const sameEtag = (a: string, b: string): boolean => unquote(a) === unquote(b);
