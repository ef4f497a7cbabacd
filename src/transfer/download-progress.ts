/**
 * Download progress: object bytes fetched, plaintext bytes written, rate over a sliding window
 * (of written bytes) and ETA. Bytes count per finished ranged GET and per written batch.
 */
import { RateWindow } from './rate';

/** Where a download is in its life. */
export type DownloadState = 'opening' | 'downloading' | 'done' | 'failed' | 'cancelled';

/** A snapshot for the UI. */
export interface DownloadProgress {
  readonly state: DownloadState;
  /** The object's size in S3. */
  readonly objectBytes: number;
  /** Bytes the download will write (the plaintext size when known ahead, else objectBytes). */
  readonly totalBytes: number;
  /** Object bytes fetched so far. */
  readonly fetchedBytes: number;
  /** Bytes written to the save target so far (verified plaintext, or the plain object). */
  readonly writtenBytes: number;
  /** Write rate over the last RATE_WINDOW_MS, in bytes per second (0 before a sample). */
  readonly rateBytesPerSecond: number;
  /** Seconds left at the current rate; undefined while the rate is unknown. */
  readonly etaSeconds: number | undefined;
  /** The object's ETag once opened: with `writtenBytes`, where a resume continues from. */
  readonly etag?: string;
}

/** Counts bytes and derives rate and ETA; `nowMs` is injectable for tests. */
export class DownloadMeter {
  #objectBytes = 0;
  #totalBytes = 0;
  #fetchedBytes = 0;
  #writtenBytes = 0;
  #etag: string | undefined;
  readonly #rate: RateWindow;

  constructor(nowMs: () => number = () => performance.now()) {
    this.#rate = new RateWindow(nowMs);
  }

  start(objectBytes: number, totalBytes: number, etag?: string): void {
    this.#objectBytes = objectBytes;
    this.#etag = etag;
    this.#totalBytes = totalBytes;
    this.#rate.restart(this.#writtenBytes);
  }

  addFetched(bytes: number): void {
    this.#fetchedBytes += bytes;
  }

  addWritten(bytes: number): void {
    this.#writtenBytes += bytes;
    this.#rate.record(this.#writtenBytes);
  }

  snapshot(state: DownloadState): DownloadProgress {
    const rateBytesPerSecond = this.#rate.rateBytesPerSecond(this.#writtenBytes);
    return {
      state,
      objectBytes: this.#objectBytes,
      totalBytes: this.#totalBytes,
      fetchedBytes: this.#fetchedBytes,
      writtenBytes: this.#writtenBytes,
      rateBytesPerSecond,
      etaSeconds: RateWindow.etaSeconds(this.#totalBytes - this.#writtenBytes, rateBytesPerSecond),
      ...(this.#etag !== undefined ? { etag: this.#etag } : {}),
    };
  }
}
