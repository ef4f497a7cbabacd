/**
 * The upload engine: one file to one S3 object, encrypted in the browser (an ESDK v2 message,
 * suite 0x0478, framed) or, for the plain server-side modes, as it is. `FileUpload` holds the
 * lifecycle (start, resume, pause, cancel, starting over as a new message); PutObject and the
 * multipart upload are in upload-paths.ts, its lanes in upload-lanes.ts, the parts done and the
 * resume record in upload-ledger.ts, the Create and its strays in multipart-create.ts, the
 * options and results in upload-options.ts.
 *
 * [Note: upload pipeline] The header is built on the page (the keyring may call KMS or the HSM
 * proxy); the plan fixes every part's frames and size up front (part-plan.ts). A file of one part
 * goes in one PutObject. Otherwise `partsInFlight` lanes each take the next part number, have a
 * worker build it (read + encrypt), upload it with retries, record its ETag and checksum, and take
 * the next: memory holds at most `partsInFlight` parts, whatever the file size. Frames are
 * deterministic given the key, message id and seq, so a part rebuilt after a pause or a reload is
 * byte-identical, and a resumed upload yields the same object as an uninterrupted one.
 * Complete carries every part's CRC32 (the worker computes it while building the part; the SDK
 * does for builders that do not). Deterministic frames are also why no part is sent before the
 * keyed digest of its plaintext is recorded, and why a part built again from other plaintext is
 * never sent: the upload starts over as a new message ([Note: resume digests] in part-digest.ts).
 */
import { VeilError, errorName, needs, type ErrorCode } from '../core';
import { type Prepared, currentRecord, prepareNew, prepareResume } from './prepare';
import { ProgressMeter, type StartedOver, type UploadProgress, type UploadState } from './progress';
import { DEFAULT_RETRY_POLICY, withRetry } from './retry';
import { UploadLedger, doneTotals } from './upload-ledger';
import {
  DEFAULT_PARTS_IN_FLIGHT,
  startOverOptions,
  type UploadOptions,
  type UploadResult,
  type UploadSetup,
} from './upload-options';
import { putObject, sendMultipart, type MessageControl } from './upload-paths';
import type { UploadRecord } from './upload-store';

export { FORMAT_METADATA, type AtRest } from './object-params';
export type { StartedOver } from './progress';
export {
  DEFAULT_PARTS_IN_FLIGHT,
  type UploadOptions,
  type UploadResult,
  type UploadSetup,
} from './upload-options';

const STARTS_OVER: ReadonlySet<ErrorCode> = new Set(['RESUME_FILE_CHANGED', 'RESUME_UNVERIFIABLE']);

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * One file's upload. Start it with `FileUpload.start`, or continue a stored one with
 * `FileUpload.resume`; await `done`; `pause`, `resume`, `cancel` control it.
 */
export class FileUpload {
  /** Resolves with the result; rejects with a VeilError (UPLOAD_CANCELLED after cancel). */
  readonly done: Promise<UploadResult>;
  readonly file: File;
  readonly bucket: string;
  readonly key: string;

  readonly #setup: UploadSetup;
  /** The new message's options: those of start(), or rebuilt from the record to start over. */
  #options: UploadOptions | undefined;
  readonly #record: UploadRecord | undefined;
  readonly #meter: ProgressMeter;
  readonly #controllers = new Set<AbortController>();
  /** What the put, the multipart upload and its lanes see of this lifecycle. */
  readonly #control: MessageControl;
  #state: UploadState = 'preparing';
  #gate: Deferred | undefined;
  #uploadId: string | undefined;
  /** The current message's parts done, digests and record writes (a new one on start-over). */
  #ledger: UploadLedger;
  #startedOver: StartedOver | undefined;

  private constructor(
    file: File,
    target: { bucket: string; key: string },
    setup: UploadSetup,
    options?: UploadOptions,
    record?: UploadRecord,
  ) {
    // Precondition: a File, a bucket, a key and a part-building service.
    needs(file instanceof Blob, 'BAD_ARGUMENT', 'file');
    needs(typeof target.bucket === 'string' && target.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
    needs(typeof target.key === 'string' && target.key.length > 0, 'BAD_ARGUMENT', 'key');
    needs(typeof setup.s3?.uploadPart === 'function', 'BAD_ARGUMENT', 's3');
    needs(typeof setup.builder?.buildPart === 'function', 'BAD_ARGUMENT', 'builder');
    const inFlight = setup.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT;
    // Precondition: a bounded number of parts in memory.
    needs(
      Number.isInteger(inFlight) && inFlight >= 1 && inFlight <= 32,
      'OUT_OF_RANGE',
      'partsInFlight',
    );
    this.file = file;
    this.bucket = target.bucket;
    this.key = target.key;
    this.#setup = setup;
    this.#options = options;
    this.#record = record;
    this.#meter = new ProgressMeter(setup.nowMs);
    this.#ledger = new UploadLedger(setup.store);
    this.#control = {
      state: () => this.#state,
      proceed: () => this.#proceed(),
      send: (request) => this.#send(request),
      abort: (reason) => this.#abortInFlight(reason),
      meter: this.#meter,
      report: () => this.#report(),
      created: (uploadId) => (this.#uploadId = uploadId),
      completing: () => {
        this.#state = 'completing';
        this.#report();
      },
    };
    this.done = this.#run();
    // The caller may only await `done` later; failures are reported there, not as unhandled.
    this.done.catch(() => undefined);
  }

  /**
   * Starts uploading `options.file` to `options.bucket`/`options.key`.
   * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options (synchronously); `done` rejects
   *   with the keyring's errors, UPLOAD_CORS_HEADERS, S3_REJECTED, S3_UNREACHABLE,
   *   S3_RETRIES_EXHAUSTED, CREDENTIALS_*, UPLOAD_FILE_UNREADABLE or UPLOAD_CANCELLED.
   */
  static start(options: UploadOptions): FileUpload {
    // Precondition: encrypting needs a keyring.
    needs(
      options.protection === 'none' || typeof options.keyring?.onEncrypt === 'function',
      'BAD_ARGUMENT',
      'keyring',
    );
    return new FileUpload(options.file, options, options, options);
  }

  /**
   * Continues the stored upload `record` with `file`, which must be the same file. The data key
   * is unwrapped again through `setup.keyring`; parts S3 already holds (ListParts) are skipped.
   * @throws VeilError BAD_ARGUMENT (synchronously); `done` rejects with RESUME_FILE_MISMATCH,
   *   RESUME_UPLOAD_GONE, the keyring's errors, and the errors of `start`.
   */
  static resume(record: UploadRecord, file: File, setup: UploadSetup): FileUpload {
    // Precondition: a stored record; encrypted uploads need the keyring to unwrap the key.
    needs(typeof record?.uploadId === 'string', 'BAD_ARGUMENT', 'record');
    needs(
      record.protection === 'none' || typeof setup.keyring?.onDecrypt === 'function',
      'BAD_ARGUMENT',
      'keyring',
    );
    return new FileUpload(file, record, setup, undefined, record);
  }

  /** The S3 multipart upload id, once created (undefined for a single PutObject). */
  get uploadId(): string | undefined {
    return this.#uploadId;
  }

  get state(): UploadState {
    return this.#state;
  }

  /** The current progress figures. */
  get progress(): UploadProgress {
    const snapshot = this.#meter.snapshot(this.#state);
    return this.#startedOver ? { ...snapshot, startedOver: this.#startedOver } : snapshot;
  }

  /** Set when the upload abandoned its first message and started over with a fresh data key. */
  get startedOver(): StartedOver | undefined {
    return this.#startedOver;
  }

  /** Stops sending: requests in flight are aborted and their parts sent again on resume(). */
  pause(): void {
    if (this.#state !== 'uploading' && this.#state !== 'preparing') return;
    this.#state = 'paused';
    this.#gate = deferred();
    this.#abortInFlight('paused');
    this.#report();
  }

  /** Continues after pause(). */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#state = 'uploading';
    this.#meter.restartRate();
    this.#gate?.resolve();
    this.#gate = undefined;
    this.#report();
  }

  /**
   * Cancels: aborts requests in flight, then aborts the multipart upload (no orphan parts stay
   * in the bucket) and forgets the resume record. Resolves once that is done. Once Complete has
   * been sent it is too late: cancel then waits for the upload to finish.
   */
  async cancel(): Promise<void> {
    if (this.#state === 'done' || this.#state === 'failed' || this.#state === 'cancelled') return;
    if (this.#state === 'completing') {
      // Too late: Complete is in flight and may already have made the object.
      await this.done.catch(() => undefined);
      return;
    }
    this.#state = 'cancelled';
    this.#abortInFlight('cancelled');
    this.#gate?.resolve();
    await this.done.catch(() => undefined);
  }

  #report(): void {
    this.#setup.onProgress?.(this.progress);
  }

  #abortInFlight(reason: string): void {
    for (const controller of this.#controllers) {
      controller.abort(new DOMException(reason, 'AbortError'));
    }
  }

  /** Waits while paused; false when the upload must stop (cancelled). */
  async #proceed(): Promise<boolean> {
    while (this.#state === 'paused') await this.#gate?.promise;
    return this.#state !== 'cancelled';
  }

  async #run(): Promise<UploadResult> {
    try {
      for (;;) {
        try {
          const prepared =
            this.#record && !this.#startedOver
              ? await this.#prepareResume(this.#record)
              : await this.#prepareNew();
          if (!(await this.#proceed())) throw new VeilError('UPLOAD_CANCELLED');
          if (this.#state === 'preparing') this.#state = 'uploading';
          const work = {
            prepared,
            file: this.file,
            bucket: this.bucket,
            key: this.key,
            setup: this.#setup,
            ledger: this.#ledger,
            options: this.#options,
            uploadId: this.#uploadId,
          };
          const result = prepared.plan.singleRequest
            ? await putObject(this.#control, work)
            : await sendMultipart(this.#control, work);
          this.#state = 'done';
          this.#report();
          return result;
        } catch (error) {
          const startOver =
            error instanceof VeilError && STARTS_OVER.has(error.code) && !this.#startedOver;
          if (!startOver || this.#state === 'cancelled') throw error;
          await this.#abandon(error);
        }
      }
    } catch (error) {
      const cancelled = this.#state === 'cancelled';
      if (!cancelled) this.#state = 'failed';
      await this.#cleanUp(cancelled);
      this.#report();
      throw cancelled ? new VeilError('UPLOAD_CANCELLED', undefined, { cause: error }) : error;
    }
  }

  async #cleanUp(cancelled: boolean): Promise<void> {
    // A resume cancelled before it took the stored upload id still cancels that upload.
    const uploadId =
      this.#uploadId ?? (cancelled && !this.#startedOver ? this.#record?.uploadId : undefined);
    if (uploadId === undefined || (!cancelled && this.#setup.keepOnFailure)) return;
    await this.#ledger.settled();
    try {
      await this.#abortMultipart(uploadId);
      await this.#setup.store?.delete(uploadId);
    } catch {
      // The upload already failed or was cancelled; the record stays so the app can retry the abort.
    }
  }

  /**
   * Abandons the current message ([Note: resume digests]): aborts its multipart upload, forgets
   * its record and digests, and sets up a new message of the same object with a fresh data key.
   * @throws `reason` itself when no new message can be made (a record without its object options
   *   or a keyring that cannot encrypt), after the old upload is gone.
   */
  async #abandon(reason: VeilError): Promise<void> {
    const code = reason.code as StartedOver['code'];
    this.#abortInFlight('started over');
    await this.#ledger.settled();
    // A resume that failed its check has not taken the stored upload id yet.
    const uploadId = this.#uploadId ?? (this.#startedOver ? undefined : this.#record?.uploadId);
    if (uploadId !== undefined) {
      await this.#abortMultipart(uploadId).catch((error: unknown) => {
        if (!(error instanceof VeilError && errorName(error.cause) === 'NoSuchUpload')) throw error;
      });
      await this.#setup.store?.delete(uploadId);
    }
    // A cancel while the old upload was aborted ends here; a pause holds the new message back.
    if (this.#state === 'cancelled') throw new VeilError('UPLOAD_CANCELLED');
    this.#uploadId = undefined;
    this.#ledger = new UploadLedger(this.#setup.store);
    this.#startedOver = { code, detail: reason.detail };
    if (!this.#options) {
      const options = this.#record && startOverOptions(this.#record, this.#setup, this.file);
      if (!options) throw reason;
      this.#options = options;
    }
    if (this.#state !== 'paused') this.#state = 'preparing';
    this.#report();
  }

  async #prepareNew(): Promise<Prepared> {
    const options = this.#options;
    needs(options, 'INTERNAL_ERROR', 'options');
    const prepared = await prepareNew(this.file, options);
    this.#meter.start(prepared.plan);
    this.#report();
    return prepared;
  }

  async #prepareResume(given: UploadRecord): Promise<Prepared> {
    const record = await currentRecord(given, this.#setup.store);
    const { prepared, doneParts } = await prepareResume(record, this.file, this.#setup.keyring, {
      s3: this.#setup.s3,
      ...(this.#setup.retry ? { retry: this.#setup.retry } : {}),
      ...(this.#setup.retryHooks ? { retryHooks: this.#setup.retryHooks } : {}),
    });
    this.#uploadId = record.uploadId;
    this.#ledger.adopt(record, doneParts);
    this.#meter.start(prepared.plan, doneTotals(prepared.plan, doneParts));
    this.#report();
    return prepared;
  }

  /** Runs `send` with retries under a fresh AbortController that pause and cancel abort. */
  async #send<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.#controllers.add(controller);
    try {
      return await withRetry(
        () => send(controller.signal),
        this.#setup.retry ?? DEFAULT_RETRY_POLICY,
        controller.signal,
        this.#setup.retryHooks,
        { task: 'upload', ...this.#origin() },
      );
    } finally {
      this.#controllers.delete(controller);
    }
  }

  /** Aborts the multipart upload `uploadId`, with retries that pause and cancel do not stop. */
  #abortMultipart(uploadId: string): Promise<unknown> {
    return withRetry(
      () =>
        this.#setup.s3.abortMultipartUpload({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: uploadId,
        }),
      this.#setup.retry ?? DEFAULT_RETRY_POLICY,
      undefined,
      this.#setup.retryHooks,
      { task: 'upload', operation: 'AbortMultipartUpload', ...this.#origin() },
    );
  }

  /** The origin for the CORS rule in S3_UNREACHABLE, when the setup names one. */
  #origin(): { origin?: string } {
    return this.#setup.origin === undefined ? {} : { origin: this.#setup.origin };
  }
}
