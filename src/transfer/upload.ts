/**
 * The upload engine: one file to one S3 object, encrypted in the browser (an ESDK v2 message,
 * suite 0x0478, framed) or, for the plain server-side modes, as it is.
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
import type { ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { VeilError, needs } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import type { EncryptionContext } from '../core/encryption-context';
import { parseHeaderBytes } from '../core/message';
import type { Keyring } from '../core/keyring';
import { corsError, explainUnreachable, pageOrigin } from './cors';
import { partSpec } from './part-plan';
import { objectParams, type AtRest } from './object-params';
import {
  partJob,
  partRunJob,
  partsPerRun,
  prepareNew,
  prepareResume,
  type Prepared,
} from './prepare';
import { ProgressMeter, type StartedOver, type UploadProgress, type UploadState } from './progress';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryHooks, type RetryPolicy } from './retry';
import type { UploadS3 } from './s3-api';
import { fileIdentity, type StoredPart, type UploadRecord, type UploadStore } from './upload-store';
import type { BuiltPart } from './build-part';
import type { PartBuilder } from './worker-pool';

export { FORMAT_METADATA, type AtRest } from './object-params';
export type { StartedOver } from './progress';

/** Parts in flight (being built or uploaded) by default. */
export const DEFAULT_PARTS_IN_FLIGHT = 4;

const CHECKSUM: ChecksumAlgorithm = 'CRC32';

/** Slack added to the Create attempts' duration when telling strays ([Note: a retried Create]). */
const STRAY_MARGIN_MS = 60_000;

/** What every upload needs. */
export interface UploadSetup {
  readonly s3: UploadS3;
  /** Builds parts: a WorkerPool in the browser. */
  readonly builder: PartBuilder;
  /** Keeps resume records; without it an upload cannot resume after a reload. */
  readonly store?: UploadStore;
  /** Wraps (new upload) or unwraps (resume) the data key; required when encrypting. */
  readonly keyring?: Keyring;
  /**
   * Wraps the data key of a new message when a resumed upload must start over ([Note: resume
   * digests] in part-digest.ts); default `keyring`, which must then be able to encrypt.
   */
  readonly startOverKeyring?: Keyring;
  /**
   * Called with a new multipart upload's id before its resume record is written or any part is
   * sent; the app takes the upload's lock here, so no other tab resumes or discards a live
   * upload. A rejection fails the upload.
   */
  readonly onUploadCreated?: (uploadId: string) => Promise<void>;
  /** Parts built or uploading at once (memory bound), 1..32; default 4. */
  readonly partsInFlight?: number;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
  /** Keep the multipart upload on a permanent failure so it can be resumed (default: abort). */
  readonly keepOnFailure?: boolean;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** The page origin, for the CORS rule in UPLOAD_CORS_HEADERS; default location.origin. */
  readonly origin?: string;
  /** Clock for progress, in milliseconds. */
  readonly nowMs?: () => number;
}

/** A new upload. */
export interface UploadOptions extends UploadSetup {
  readonly file: File;
  readonly bucket: string;
  readonly key: string;
  /** 'client-side' (default): an ESDK message; 'none': the file as it is (comparison only). */
  readonly protection?: 'client-side' | 'none';
  /** Which key model wrapped the data key, for the object's metadata (A, B or C). */
  readonly model?: 'A' | 'B' | 'C';
  /** Authenticated and stored in clear in the header: no file names or secrets. */
  readonly encryptionContext?: EncryptionContext;
  /** Plaintext bytes per frame; default 512 KiB. */
  readonly frameBytes?: number;
  /** Plaintext bytes per part to start from; at least 5 MiB; default 8 MiB. */
  readonly partBytes?: number;
  readonly atRest?: AtRest;
}

const STARTS_OVER: ReadonlySet<ErrorCode> = new Set(['RESUME_FILE_CHANGED', 'RESUME_UNVERIFIABLE']);

/** A finished upload. */
export interface UploadResult {
  readonly bucket: string;
  readonly key: string;
  readonly objectBytes: number;
  readonly partCount: number;
  /** 'put' for one PutObject, 'multipart' otherwise. */
  readonly method: 'put' | 'multipart';
  readonly etag: string | undefined;
}

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
  #state: UploadState = 'preparing';
  #gate: Deferred | undefined;
  #failure: Error | undefined;
  #uploadId: string | undefined;
  #parts = new Map<number, StoredPart>();
  /** Digest of each part's plaintext as first sent ([Note: resume digests]). */
  #digests = new Map<number, string>();
  #startedOver: StartedOver | undefined;
  #queue: number[] = [];
  #storeWrites: Promise<void> = Promise.resolve();
  #storedRecord: UploadRecord | undefined;

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
    this.done = this.#run();
    // The caller may only await `done` later; failures are reported there, not as unhandled.
    this.done.catch(() => undefined);
  }

  /**
   * Starts uploading `options.file` to `options.bucket`/`options.key`.
   * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options (synchronously); `done` rejects
   *   with the keyring's errors, UPLOAD_CORS_HEADERS, UPLOAD_S3_REJECTED,
   *   UPLOAD_RETRIES_EXHAUSTED, UPLOAD_FILE_UNREADABLE or UPLOAD_CANCELLED.
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

  /** Waits while paused; false when the upload must stop (cancelled or failed). */
  async #proceed(): Promise<boolean> {
    while (this.#state === 'paused') await this.#gate?.promise;
    return this.#state !== 'cancelled' && this.#failure === undefined;
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
          const result = prepared.plan.singleRequest
            ? await this.#putObject(prepared)
            : await this.#multipart(prepared);
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
      throw cancelled
        ? new VeilError('UPLOAD_CANCELLED', undefined, { cause: error })
        : explainUnreachable(error, this.#setup.origin ?? pageOrigin());
    }
  }

  async #cleanUp(cancelled: boolean): Promise<void> {
    const uploadId = this.#uploadId;
    if (uploadId === undefined || (!cancelled && this.#setup.keepOnFailure)) return;
    await this.#storeWrites.catch(() => undefined);
    try {
      await withRetry(
        () =>
          this.#setup.s3.abortMultipartUpload({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: uploadId,
          }),
        this.#setup.retry ?? DEFAULT_RETRY_POLICY,
        undefined,
        this.#setup.retryHooks,
      );
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
    this.#failure = undefined;
    this.#abortInFlight('started over');
    await this.#storeWrites.catch(() => undefined);
    // A resume that failed its check has not taken the stored upload id yet.
    const uploadId = this.#uploadId ?? (this.#startedOver ? undefined : this.#record?.uploadId);
    if (uploadId !== undefined) {
      await withRetry(
        () =>
          this.#setup.s3.abortMultipartUpload({
            Bucket: this.bucket,
            Key: this.key,
            UploadId: uploadId,
          }),
        this.#setup.retry ?? DEFAULT_RETRY_POLICY,
        undefined,
        this.#setup.retryHooks,
      ).catch((error: unknown) => {
        if (!(error instanceof VeilError && error.detail === 'NoSuchUpload')) throw error;
      });
      await this.#setup.store?.delete(uploadId);
    }
    this.#uploadId = undefined;
    this.#storedRecord = undefined;
    this.#parts = new Map();
    this.#digests = new Map();
    this.#queue = [];
    this.#startedOver = { code, detail: reason.detail };
    this.#options ??= this.#optionsFromRecord(reason);
    this.#state = 'preparing';
    this.#report();
  }

  /** A new message's options for the object of the stored record, or throws `reason`. */
  #optionsFromRecord(reason: VeilError): UploadOptions {
    const record = this.#record;
    const keyring = this.#setup.startOverKeyring ?? this.#setup.keyring;
    const objectOptions = record?.objectOptions;
    if (!record || !objectOptions || (record.protection === 'client-side' && !keyring)) {
      throw reason;
    }
    const encrypted = record.protection === 'client-side';
    const header = encrypted ? parseHeaderBytes(record.headerBytes) : undefined;
    return {
      ...this.#setup,
      ...(keyring ? { keyring } : {}),
      file: this.file,
      bucket: record.bucket,
      key: record.key,
      protection: encrypted ? 'client-side' : 'none',
      frameBytes: record.frameBytes,
      partBytes: record.framesPerPart * record.frameBytes,
      ...(header ? { encryptionContext: header.encryptionContext } : {}),
      ...(objectOptions.model ? { model: objectOptions.model } : {}),
      ...(objectOptions.atRest ? { atRest: objectOptions.atRest } : {}),
    };
  }

  async #prepareNew(): Promise<Prepared> {
    const options = this.#options;
    needs(options, 'INTERNAL_ERROR', 'options');
    const prepared = await prepareNew(this.file, options);
    this.#meter.start({
      plaintextBytes: prepared.plan.plaintextBytes,
      objectBytes: prepared.plan.objectBytes,
      partCount: prepared.plan.partCount,
    });
    this.#report();
    return prepared;
  }

  async #prepareResume(record: UploadRecord): Promise<Prepared> {
    const { prepared, doneParts } = await prepareResume(record, this.file, this.#setup.keyring, {
      s3: this.#setup.s3,
      ...(this.#setup.retry ? { retry: this.#setup.retry } : {}),
      ...(this.#setup.retryHooks ? { retryHooks: this.#setup.retryHooks } : {}),
    });
    this.#uploadId = record.uploadId;
    this.#storedRecord = record;
    for (const { partNumber, digest } of record.partDigests ?? []) {
      this.#digests.set(partNumber, digest);
    }
    let doneObjectBytes = 0;
    let donePlaintextBytes = 0;
    for (const part of doneParts) {
      this.#parts.set(part.partNumber, part);
      const spec = partSpec(prepared.plan, part.partNumber);
      doneObjectBytes += spec.objectBytes;
      donePlaintextBytes += spec.plaintextBytes;
    }
    const { plan } = prepared;
    this.#meter.start(
      {
        plaintextBytes: plan.plaintextBytes,
        objectBytes: plan.objectBytes,
        partCount: plan.partCount,
      },
      { parts: doneParts.length, objectBytes: doneObjectBytes, plaintextBytes: donePlaintextBytes },
    );
    this.#report();
    return prepared;
  }

  #objectParams(): ReturnType<typeof objectParams> {
    const options = this.#options;
    return objectParams(options?.protection !== 'none', options?.model, options?.atRest);
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
      );
    } finally {
      this.#controllers.delete(controller);
    }
  }

  async #putObject(prepared: Prepared): Promise<UploadResult> {
    for (;;) {
      const built = await this.#setup.builder.buildPart(partJob(prepared, this.file, 1));
      this.#meter.addEncrypted(built.plaintextBytes);
      this.#report();
      if (!(await this.#proceed())) throw new VeilError('UPLOAD_CANCELLED');
      await this.#pinDigest(1, built, prepared);
      try {
        const reply = await this.#send((signal) =>
          this.#setup.s3.putObject(
            {
              Bucket: this.bucket,
              Key: this.key,
              Body: built.bytes,
              ContentLength: built.bytes.length,
              ChecksumAlgorithm: CHECKSUM,
              ...(built.checksumCrc32 ? { ChecksumCRC32: built.checksumCrc32 } : {}),
              ...this.#objectParams(),
            },
            signal,
          ),
        );
        this.#meter.addUploaded(built.bytes.length);
        return {
          bucket: this.bucket,
          key: this.key,
          objectBytes: prepared.plan.objectBytes,
          partCount: 1,
          method: 'put',
          etag: reply.ETag,
        };
      } catch (error) {
        if (this.#state !== 'paused') throw error;
        this.#meter.dropEncrypted(built.plaintextBytes);
      }
    }
  }

  /**
   * [Note: a retried Create] CreateMultipartUpload is not idempotent: when an attempt's answer is
   * lost after S3 created the upload, the retry creates a second one and the first would stay in
   * the bucket until a lifecycle rule aborts it. After a retried Create, the key's uploads are
   * listed and judged against the kept upload's own entry in that listing, so only S3's clock is
   * compared with S3's clock: a stray has the same key, the same Initiator.ID (when both are
   * given), and was initiated no later than the kept upload and no earlier than the kept one
   * minus the time the Create attempts took plus a minute's margin. An upload of the same key
   * started after ours (another tab or person) or by another initiator, and an older upload
   * (perhaps one waiting to be resumed), are left alone. When the kept upload is not in the
   * listing or a date is missing, nothing is aborted. Best effort and inert where
   * s3:ListBucketMultipartUploads is not granted (the role in infra/ does not grant it) or the S3
   * API has no listing: there the bucket's lifecycle rule aborts the strays.
   */
  async #abortStrays(keptUploadId: string, createElapsedMs: number): Promise<void> {
    const list = this.#setup.s3.listMultipartUploads?.bind(this.#setup.s3);
    if (!list) return;
    try {
      const listed = await list({ Bucket: this.bucket, Prefix: this.key });
      const uploads = listed.Uploads ?? [];
      const kept = uploads.find((upload) => upload.UploadId === keptUploadId);
      const keptMs = kept?.Initiated?.getTime();
      if (kept === undefined || keptMs === undefined || Number.isNaN(keptMs)) return;
      const earliestMs = keptMs - (createElapsedMs + STRAY_MARGIN_MS);
      const keptBy = kept.Initiator?.ID;
      const strays = uploads.filter((upload) => {
        const initiatedMs = upload.Initiated?.getTime();
        const by = upload.Initiator?.ID;
        return (
          upload.Key === this.key &&
          upload.UploadId !== undefined &&
          upload.UploadId !== keptUploadId &&
          (keptBy === undefined || by === undefined || by === keptBy) &&
          initiatedMs !== undefined &&
          initiatedMs <= keptMs &&
          initiatedMs >= earliestMs
        );
      });
      for (const stray of strays) {
        await this.#setup.s3
          .abortMultipartUpload({ Bucket: this.bucket, Key: this.key, UploadId: stray.UploadId })
          .catch(() => undefined);
      }
    } catch {
      // Listing refused: the lifecycle rule aborts what is left.
    }
  }

  async #multipart(prepared: Prepared): Promise<UploadResult> {
    const { plan } = prepared;
    if (this.#uploadId === undefined) {
      const identity = await fileIdentity(this.file);
      const createStartedMs = Date.now();
      let createAttempts = 0;
      // Not abortable: a cancel during the call must still learn the upload id to abort it.
      const created = await withRetry(
        (attempt) => {
          createAttempts = attempt;
          return this.#setup.s3.createMultipartUpload({
            Bucket: this.bucket,
            Key: this.key,
            ChecksumAlgorithm: CHECKSUM,
            ...this.#objectParams(),
          });
        },
        this.#setup.retry ?? DEFAULT_RETRY_POLICY,
        undefined,
        this.#setup.retryHooks,
      );
      needs(created.UploadId, 'UPLOAD_S3_REJECTED', 'CreateMultipartUpload returned no upload id');
      this.#uploadId = created.UploadId;
      if (createAttempts > 1) {
        await this.#abortStrays(created.UploadId, Date.now() - createStartedMs);
      }
      await this.#setup.onUploadCreated?.(created.UploadId);
      const options = this.#options;
      this.#storedRecord = {
        id: created.UploadId,
        bucket: this.bucket,
        key: this.key,
        uploadId: created.UploadId,
        protection: prepared.cipher ? 'client-side' : 'none',
        headerBytes: prepared.headerBytes,
        frameBytes: plan.frameBytes,
        framesPerPart: plan.framesPerPart,
        partCount: plan.partCount,
        file: identity,
        parts: [],
        partDigests: [],
        objectOptions: {
          ...(options?.model ? { model: options.model } : {}),
          ...(options?.atRest ? { atRest: options.atRest } : {}),
        },
        createdAtMs: Date.now(),
      };
      this.#saveRecord();
      if (this.#state === 'cancelled') throw new VeilError('UPLOAD_CANCELLED');
    }
    const uploadId = this.#uploadId;
    this.#queue = [];
    for (let partNumber = 1; partNumber <= plan.partCount; partNumber++) {
      if (!this.#parts.has(partNumber)) this.#queue.push(partNumber);
    }
    const inFlight = this.#setup.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT;
    const runParts = this.#setup.builder.buildParts
      ? partsPerRun(plan, inFlight, this.#setup.builder.size ?? 1)
      : 1;
    const lanes = Math.min(Math.max(1, Math.floor(inFlight / runParts)), plan.partCount);
    await Promise.all(
      Array.from({ length: lanes }, () => this.#lane(prepared, uploadId, runParts)),
    );
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state === 'cancelled') throw new VeilError('UPLOAD_CANCELLED');

    this.#state = 'completing';
    this.#report();
    const parts = [...this.#parts.values()].sort((a, b) => a.partNumber - b.partNumber);
    const completed = await this.#send((signal) =>
      this.#setup.s3.completeMultipartUpload(
        {
          Bucket: this.bucket,
          Key: this.key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((part) => ({
              PartNumber: part.partNumber,
              ETag: part.etag,
              ...(part.checksumCrc32 ? { ChecksumCRC32: part.checksumCrc32 } : {}),
            })),
          },
        },
        signal,
      ),
    );
    await this.#storeWrites.catch(() => undefined);
    await this.#setup.store?.delete(uploadId);
    return {
      bucket: this.bucket,
      key: this.key,
      objectBytes: plan.objectBytes,
      partCount: plan.partCount,
      method: 'multipart',
      etag: completed.ETag,
    };
  }

  /** The next run of up to `runParts` consecutive part numbers from the queue. */
  #takeRun(runParts: number): number[] {
    const run: number[] = [];
    for (let next = this.#queue[0]; next !== undefined; next = this.#queue[0]) {
      const last = run[run.length - 1];
      if (run.length === runParts || (last !== undefined && next !== last + 1)) break;
      run.push(next);
      this.#queue.shift();
    }
    return run;
  }

  async #lane(prepared: Prepared, uploadId: string, runParts: number): Promise<void> {
    while (await this.#proceed()) {
      const run = this.#takeRun(runParts);
      if (run.length === 0) return;
      const failed = await this.#uploadRun(prepared, uploadId, run);
      const first = failed[0];
      if (first === undefined) continue;
      const pausedAway =
        first.error instanceof DOMException &&
        first.error.name === 'AbortError' &&
        first.error.message === 'paused';
      if (this.#state === 'paused' || pausedAway) {
        // Built and sent again on resume (which may already have come), in order, so they can
        // form runs again.
        this.#queue.unshift(...failed.map((failure) => failure.partNumber));
        continue;
      }
      if (this.#state === 'cancelled') return;
      if (this.#failure === undefined) {
        const error = first.error;
        this.#failure =
          error instanceof Error ? error : new VeilError('INTERNAL_ERROR', String(error));
        this.#abortInFlight('failed');
      }
      return;
    }
  }

  /** Builds a run of parts (one worker job) and uploads them at once; returns the failures. */
  async #uploadRun(
    prepared: Prepared,
    uploadId: string,
    run: number[],
  ): Promise<{ partNumber: number; error: unknown }[]> {
    let built: BuiltPart[];
    try {
      const { builder } = this.#setup;
      built =
        run.length > 1 && builder.buildParts
          ? await builder.buildParts(partRunJob(prepared, this.file, run))
          : await Promise.all(run.map((n) => builder.buildPart(partJob(prepared, this.file, n))));
      needs(built.length === run.length, 'INTERNAL_ERROR', 'parts built');
    } catch (error) {
      return run.map((partNumber) => ({ partNumber, error }));
    }
    for (const part of built) this.#meter.addEncrypted(part.plaintextBytes);
    this.#report();
    const settled = await Promise.allSettled(
      run.map((partNumber, index) => {
        const part = built[index];
        needs(part, 'INTERNAL_ERROR', 'part built');
        return this.#sendPart(uploadId, partNumber, part, prepared);
      }),
    );
    const failed: { partNumber: number; error: unknown }[] = [];
    settled.forEach((outcome, index) => {
      const partNumber = run[index];
      if (outcome.status === 'rejected' && partNumber !== undefined) {
        failed.push({ partNumber, error: outcome.reason });
      }
    });
    return failed;
  }

  /**
   * Before part `partNumber` is sent: records the digest of the plaintext it was built from and
   * waits until the record holding it is saved, or, when a digest was recorded before, requires
   * the same one ([Note: resume digests]).
   * @throws VeilError RESUME_FILE_CHANGED on a different digest, UPLOAD_RECORD_UNWRITABLE when
   *   the record cannot be saved, INTERNAL_ERROR for an encrypted part without a digest.
   */
  async #pinDigest(partNumber: number, built: BuiltPart, prepared: Prepared): Promise<void> {
    if (!prepared.cipher) return;
    const digest = built.plaintextDigest;
    needs(digest, 'INTERNAL_ERROR', 'the part builder gave no plaintext digest');
    const recorded = this.#digests.get(partNumber);
    if (recorded === digest) return;
    if (recorded !== undefined) throw new VeilError('RESUME_FILE_CHANGED', `part ${partNumber}`);
    this.#digests.set(partNumber, digest);
    if (!this.#setup.store || !this.#storedRecord) return;
    this.#saveRecord();
    try {
      await this.#storeWrites;
    } catch (cause) {
      throw new VeilError('UPLOAD_RECORD_UNWRITABLE', undefined, { cause });
    }
  }

  /** Uploads one built part with retries and records its ETag and checksum. */
  async #sendPart(
    uploadId: string,
    partNumber: number,
    built: BuiltPart,
    prepared: Prepared,
  ): Promise<void> {
    try {
      if (this.#state !== 'uploading') throw new DOMException(this.#state, 'AbortError');
      await this.#pinDigest(partNumber, built, prepared);
      if (this.#state !== 'uploading') throw new DOMException(this.#state, 'AbortError');
      const reply = await this.#send((signal) =>
        this.#setup.s3.uploadPart(
          {
            Bucket: this.bucket,
            Key: this.key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: built.bytes,
            ContentLength: built.bytes.length,
            ChecksumAlgorithm: CHECKSUM,
            ...(built.checksumCrc32 ? { ChecksumCRC32: built.checksumCrc32 } : {}),
          },
          signal,
        ),
      );
      const missing = [
        ...(reply.ETag ? [] : ['ETag']),
        ...(reply.ChecksumCRC32 ? [] : ['x-amz-checksum-crc32']),
      ];
      if (missing.length > 0) throw corsError(this.#setup.origin ?? pageOrigin(), missing);
      const etag = reply.ETag ?? '';
      this.#parts.set(partNumber, {
        partNumber,
        etag,
        ...(reply.ChecksumCRC32 ? { checksumCrc32: reply.ChecksumCRC32 } : {}),
      });
      this.#meter.addUploaded(built.bytes.length);
      this.#saveRecord();
      this.#report();
    } catch (error) {
      this.#meter.dropEncrypted(built.plaintextBytes);
      throw error;
    }
  }

  /** Queues a write of the record with the parts finished so far (writes stay in order). */
  #saveRecord(): void {
    const store = this.#setup.store;
    const base = this.#storedRecord;
    if (!store || !base) return;
    this.#storeWrites = this.#storeWrites
      .catch(() => undefined)
      .then(() =>
        store.put({
          ...base,
          parts: [...this.#parts.values()].sort((a, b) => a.partNumber - b.partNumber),
          partDigests: [...this.#digests]
            .map(([partNumber, digest]) => ({ partNumber, digest }))
            .sort((a, b) => a.partNumber - b.partNumber),
        }),
      );
  }
}
