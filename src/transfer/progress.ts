/**
 * Upload progress: bytes encrypted and uploaded, rate over a sliding window, ETA. Bytes count
 * per finished part (fetch reports no upload progress within a request), so the figures move in
 * part-sized steps.
 */

/** Where an upload is in its life. */
export type UploadState =
  'preparing' | 'uploading' | 'paused' | 'completing' | 'done' | 'failed' | 'cancelled';

/** A snapshot for the UI. */
export interface UploadProgress {
  readonly state: UploadState;
  /** The file's size. */
  readonly plaintextBytes: number;
  /** The object's size (the whole message when encrypted). */
  readonly objectBytes: number;
  /** Plaintext bytes read and encrypted so far (parts built, including finished ones). */
  readonly encryptedBytes: number;
  /** Object bytes S3 has acknowledged. */
  readonly uploadedBytes: number;
  readonly partsDone: number;
  readonly partCount: number;
  /** Upload rate over the last RATE_WINDOW_MS, in bytes per second (0 before a sample). */
  readonly rateBytesPerSecond: number;
  /** Seconds left at the current rate; undefined while the rate is unknown. */
  readonly etaSeconds: number | undefined;
}

/** The window the rate is measured over, in milliseconds. */
export const RATE_WINDOW_MS = 10_000;

/** Counts bytes and derives rate and ETA; `nowMs` is injectable for tests. */
export class ProgressMeter {
  readonly #nowMs: () => number;
  #plaintextBytes = 0;
  #objectBytes = 0;
  #partCount = 0;
  #encryptedBytes = 0;
  #uploadedBytes = 0;
  #partsDone = 0;
  /** (time, uploaded bytes) samples, oldest first, spanning at most the window. */
  #samples: { atMs: number; uploadedBytes: number }[] = [];

  constructor(nowMs: () => number = () => performance.now()) {
    this.#nowMs = nowMs;
  }

  /** Sets the totals; `doneParts` finished parts of `doneObjectBytes` count as already there. */
  start(
    totals: { plaintextBytes: number; objectBytes: number; partCount: number },
    done: { parts: number; objectBytes: number; plaintextBytes: number } = {
      parts: 0,
      objectBytes: 0,
      plaintextBytes: 0,
    },
  ): void {
    this.#plaintextBytes = totals.plaintextBytes;
    this.#objectBytes = totals.objectBytes;
    this.#partCount = totals.partCount;
    this.#partsDone = done.parts;
    this.#uploadedBytes = done.objectBytes;
    this.#encryptedBytes = done.plaintextBytes;
    this.#samples = [{ atMs: this.#nowMs(), uploadedBytes: this.#uploadedBytes }];
  }

  /** A part's plaintext was encrypted (or read, in the plain modes). */
  addEncrypted(plaintextBytes: number): void {
    this.#encryptedBytes = Math.min(this.#plaintextBytes, this.#encryptedBytes + plaintextBytes);
  }

  /** Built bytes that were thrown away (a paused part is rebuilt later). */
  dropEncrypted(plaintextBytes: number): void {
    this.#encryptedBytes = Math.max(0, this.#encryptedBytes - plaintextBytes);
  }

  /** S3 acknowledged a part of `objectBytes`. */
  addUploaded(objectBytes: number): void {
    this.#uploadedBytes += objectBytes;
    this.#partsDone += 1;
    const atMs = this.#nowMs();
    this.#samples.push({ atMs, uploadedBytes: this.#uploadedBytes });
    while (this.#samples.length > 2 && (this.#samples[1]?.atMs ?? atMs) < atMs - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
  }

  /** Restarts the rate window (after a pause, whose idle time must not lower the rate). */
  restartRate(): void {
    this.#samples = [{ atMs: this.#nowMs(), uploadedBytes: this.#uploadedBytes }];
  }

  /** The current figures. */
  snapshot(state: UploadState): UploadProgress {
    const first = this.#samples[0];
    const elapsedMs = first ? this.#nowMs() - first.atMs : 0;
    const rateBytesPerSecond =
      first && elapsedMs > 0 ? ((this.#uploadedBytes - first.uploadedBytes) * 1000) / elapsedMs : 0;
    const remainingBytes = this.#objectBytes - this.#uploadedBytes;
    return {
      state,
      plaintextBytes: this.#plaintextBytes,
      objectBytes: this.#objectBytes,
      encryptedBytes: this.#encryptedBytes,
      uploadedBytes: this.#uploadedBytes,
      partsDone: this.#partsDone,
      partCount: this.#partCount,
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
