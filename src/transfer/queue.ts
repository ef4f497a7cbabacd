/**
 * A queue of file uploads with a limit on how many files upload at once (each file already has
 * several parts in flight, so two or three files saturate most links). Files start in the order
 * they were added; removing a queued file drops it, removing a started one cancels it.
 */
import { VeilError, needs } from '../core';
import type { FileUpload, UploadResult } from './upload';

/** Files uploading at once by default. */
export const DEFAULT_CONCURRENT_FILES = 2;

/** What the queue needs of an upload: a FileUpload (tests may pass a stand-in). */
export interface Queueable {
  readonly done: Promise<UploadResult>;
  cancel(): Promise<void>;
}

/** One file in the queue. */
export interface QueuedUpload<U extends Queueable = FileUpload> {
  /** The running upload once started (pause/resume/progress), undefined while queued. */
  readonly upload: U | undefined;
  readonly state: 'queued' | 'started' | 'removed';
  /** Settles like the upload's `done`; rejects with UPLOAD_CANCELLED when removed first. */
  readonly done: Promise<UploadResult>;
  /** Drops the file from the queue, or cancels its upload. */
  remove(): Promise<void>;
}

interface Entry<U extends Queueable> {
  upload: U | undefined;
  state: 'queued' | 'started' | 'removed';
  readonly start: () => U;
  readonly resolve: (result: UploadResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Runs uploads with at most `maxConcurrentFiles` at once. */
export class UploadQueue<U extends Queueable = FileUpload> {
  readonly #maxConcurrentFiles: number;
  readonly #waiting: Entry<U>[] = [];
  #running = 0;

  /** @throws VeilError OUT_OF_RANGE unless 1 <= maxConcurrentFiles <= 16. */
  constructor(maxConcurrentFiles = DEFAULT_CONCURRENT_FILES) {
    // Precondition: a small positive limit.
    needs(
      Number.isInteger(maxConcurrentFiles) && maxConcurrentFiles >= 1 && maxConcurrentFiles <= 16,
      'OUT_OF_RANGE',
      'maxConcurrentFiles',
    );
    this.#maxConcurrentFiles = maxConcurrentFiles;
  }

  /** Files uploading now. */
  get running(): number {
    return this.#running;
  }

  /** Files waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Adds a file; `start` is called (FileUpload.start or .resume) when a slot is free. */
  add(start: () => U): QueuedUpload<U> {
    let resolve: (result: UploadResult) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const done = new Promise<UploadResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => undefined);
    const entry: Entry<U> = { upload: undefined, state: 'queued', start, resolve, reject };
    this.#waiting.push(entry);
    this.#pump();
    return {
      get upload() {
        return entry.upload;
      },
      get state() {
        return entry.state;
      },
      done,
      remove: async () => {
        if (entry.state === 'queued') {
          entry.state = 'removed';
          this.#waiting.splice(this.#waiting.indexOf(entry), 1);
          entry.reject(new VeilError('UPLOAD_CANCELLED'));
        } else if (entry.upload) {
          await entry.upload.cancel();
        }
      },
    };
  }

  #pump(): void {
    while (this.#running < this.#maxConcurrentFiles) {
      const entry = this.#waiting.shift();
      if (!entry) return;
      entry.state = 'started';
      this.#running += 1;
      let upload: U;
      try {
        upload = entry.start();
      } catch (error) {
        this.#running -= 1;
        entry.reject(error);
        continue;
      }
      entry.upload = upload;
      upload.done.then(entry.resolve, entry.reject).finally(() => {
        this.#running -= 1;
        this.#pump();
      });
    }
  }
}
