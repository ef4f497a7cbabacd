/**
 * Upload progress: bytes encrypted and uploaded, rate over a sliding window, ETA. Bytes count
 * per finished part (fetch reports no upload progress within a request), so the figures move in
 * part-sized steps.
 */
import type { ErrorCode } from '../core';
import { RateWindow } from './rate';

/** Where an upload is in its life. */
export type UploadState =
  'preparing' | 'uploading' | 'paused' | 'completing' | 'done' | 'failed' | 'cancelled';

/** Why an upload started over as a new message ([Note: resume digests] in part-digest.ts). */
export interface StartedOver {
  readonly code: Extract<ErrorCode, 'RESUME_FILE_CHANGED' | 'RESUME_UNVERIFIABLE'>;
  /** Which part differed, or what could not be checked. */
  readonly detail: string | undefined;
}

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
  /** Set once the upload abandoned its first message and started over with a fresh data key. */
  readonly startedOver?: StartedOver;
}

export { RATE_WINDOW_MS } from './rate';

/** Counts bytes and derives rate and ETA; `nowMs` is injectable for tests. */
export class ProgressMeter {
  #plaintextBytes = 0;
  #objectBytes = 0;
  #partCount = 0;
  #encryptedBytes = 0;
  #uploadedBytes = 0;
  #partsDone = 0;
  readonly #rate: RateWindow;

  constructor(nowMs: () => number = () => performance.now()) {
    this.#rate = new RateWindow(nowMs);
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
    this.#rate.restart(this.#uploadedBytes);
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
    this.#rate.record(this.#uploadedBytes);
  }

  /** Restarts the rate window (after a pause, whose idle time must not lower the rate). */
  restartRate(): void {
    this.#rate.restart(this.#uploadedBytes);
  }

  /** The current figures. */
  snapshot(state: UploadState): UploadProgress {
    const rateBytesPerSecond = this.#rate.rateBytesPerSecond(this.#uploadedBytes);
    return {
      state,
      plaintextBytes: this.#plaintextBytes,
      objectBytes: this.#objectBytes,
      encryptedBytes: this.#encryptedBytes,
      uploadedBytes: this.#uploadedBytes,
      partsDone: this.#partsDone,
      partCount: this.#partCount,
      rateBytesPerSecond,
      etaSeconds: RateWindow.etaSeconds(
        this.#objectBytes - this.#uploadedBytes,
        rateBytesPerSecond,
      ),
    };
  }
}
