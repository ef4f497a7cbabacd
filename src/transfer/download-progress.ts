/**
 * Download progress: object bytes fetched, plaintext bytes written, rate over a sliding window
 * (of written bytes) and ETA. Bytes count per finished ranged GET and per written batch.
 */
import { RATE_WINDOW_MS } from './progress';

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
}

/** Counts bytes and derives rate and ETA; `nowMs` is injectable for tests. */
export class DownloadMeter {
  readonly #nowMs: () => number;
  #objectBytes = 0;
  #totalBytes = 0;
  #fetchedBytes = 0;
  #writtenBytes = 0;
  #samples: { atMs: number; writtenBytes: number }[] = [];

  constructor(nowMs: () => number = () => performance.now()) {
    this.#nowMs = nowMs;
  }

  start(objectBytes: number, totalBytes: number): void {
    this.#objectBytes = objectBytes;
    this.#totalBytes = totalBytes;
    this.#samples = [{ atMs: this.#nowMs(), writtenBytes: this.#writtenBytes }];
  }

  addFetched(bytes: number): void {
    this.#fetchedBytes += bytes;
  }

  addWritten(bytes: number): void {
    this.#writtenBytes += bytes;
    const atMs = this.#nowMs();
    this.#samples.push({ atMs, writtenBytes: this.#writtenBytes });
    while (this.#samples.length > 2 && (this.#samples[1]?.atMs ?? atMs) < atMs - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
  }

  snapshot(state: DownloadState): DownloadProgress {
    const first = this.#samples[0];
    const elapsedMs = first ? this.#nowMs() - first.atMs : 0;
    const rateBytesPerSecond =
      first && elapsedMs > 0 ? ((this.#writtenBytes - first.writtenBytes) * 1000) / elapsedMs : 0;
    const remainingBytes = Math.max(0, this.#totalBytes - this.#writtenBytes);
    return {
      state,
      objectBytes: this.#objectBytes,
      totalBytes: this.#totalBytes,
      fetchedBytes: this.#fetchedBytes,
      writtenBytes: this.#writtenBytes,
      rateBytesPerSecond,
      etaSeconds:
        remainingBytes === 0
          ? 0
          : rateBytesPerSecond > 0
            ? remainingBytes / rateBytesPerSecond
            : undefined,
    };
  }
}
