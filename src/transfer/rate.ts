/**
 * Transfer rate over a sliding window and the ETA it gives, shared by the upload and download
 * meters. Samples are (time, bytes done so far); `nowMs` is injectable for tests.
 */

/** The window the rate is measured over, in milliseconds. */
export const RATE_WINDOW_MS = 10_000;

export class RateWindow {
  readonly #nowMs: () => number;
  /** (time, bytes done) samples, oldest first, spanning at most the window. */
  #samples: { atMs: number; doneBytes: number }[] = [];

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** Starts a new window at `doneBytes` (at start, and after a pause whose idle time must not count). */
  restart(doneBytes: number): void {
    this.#samples = [{ atMs: this.#nowMs(), doneBytes }];
  }

  /** Records that `doneBytes` are done now, and drops samples older than the window. */
  record(doneBytes: number): void {
    const atMs = this.#nowMs();
    this.#samples.push({ atMs, doneBytes });
    while (this.#samples.length > 2 && (this.#samples[1]?.atMs ?? atMs) < atMs - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
  }

  /** Bytes per second since the oldest sample (0 before any time has passed). */
  rateBytesPerSecond(doneBytes: number): number {
    const first = this.#samples[0];
    const elapsedMs = first ? this.#nowMs() - first.atMs : 0;
    return first && elapsedMs > 0 ? ((doneBytes - first.doneBytes) * 1000) / elapsedMs : 0;
  }

  /** Seconds left for `remainingBytes` at `rate`: 0 when done, undefined while the rate is unknown. */
  static etaSeconds(remainingBytes: number, rateBytesPerSecond: number): number | undefined {
    if (remainingBytes <= 0) return 0;
    return rateBytesPerSecond > 0 ? remainingBytes / rateBytesPerSecond : undefined;
  }
}
