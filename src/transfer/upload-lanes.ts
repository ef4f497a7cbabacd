/**
 * The lanes of a multipart upload ([Note: upload pipeline] in upload.ts): each lane takes the
 * next run of consecutive part numbers, has the builder make them in one job, pins each part's
 * digest in the ledger, uploads the parts at once with retries, records them, and takes the next
 * run. Paused parts go back to the queue; the first other failure stops every lane. The lanes
 * see the upload's lifecycle only through `UploadControl`.
 */
import { VeilError, needs } from '../core';
import type { BuiltPart } from './build-part';
import { corsError, pageOrigin } from './cors';
import { partJob, partRunJob, partsPerRun, type Prepared } from './prepare';
import type { ProgressMeter, UploadState } from './progress';
import type { UploadS3 } from './s3-api';
import { CHECKSUM_ALGORITHM } from './upload-options';
import type { UploadLedger } from './upload-ledger';
import type { PartBuilder } from './part-builder';

/** What the sending steps see of an upload's lifecycle (FileUpload gives it). */
export interface UploadControl {
  /** The upload's state now: parts are sent only while it is 'uploading'. */
  state(): UploadState;
  /** Waits while paused; false when the upload must stop (cancelled). */
  proceed(): Promise<boolean>;
  /** Runs `request` with retries under an AbortController that pause, cancel and `abort` abort. */
  send<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Aborts every request in flight, with `reason` as the AbortError's message. */
  abort(reason: string): void;
  /** Counts bytes built, thrown away and acknowledged. */
  readonly meter: Pick<ProgressMeter, 'addEncrypted' | 'dropEncrypted' | 'addUploaded'>;
  /** Tells the upload's owner the progress. */
  report(): void;
}

/** The parts of one multipart upload to send, and what sending them needs. */
export interface LaneWork {
  readonly prepared: Prepared;
  readonly file: File;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly s3: Pick<UploadS3, 'uploadPart'>;
  readonly builder: PartBuilder;
  readonly ledger: UploadLedger;
  /** Parts built or uploading at once. */
  readonly partsInFlight: number;
  /** The page origin for the CORS rule in UPLOAD_CORS_HEADERS; default location.origin. */
  readonly origin: string | undefined;
}

interface PartFailure {
  readonly partNumber: number;
  readonly error: unknown;
}

/**
 * Takes from the head of `queue` (part numbers, ascending where consecutive) the next run of at
 * most `runParts` consecutive part numbers, and returns it; empty when `queue` is.
 */
export function takeRun(queue: number[], runParts: number): number[] {
  const run: number[] = [];
  for (let next = queue[0]; next !== undefined; next = queue[0]) {
    const last = run[run.length - 1];
    if (run.length === runParts || (last !== undefined && next !== last + 1)) break;
    run.push(next);
    queue.shift();
  }
  return run;
}

/** The lanes' shared queue and first failure. */
class Lanes {
  readonly #control: UploadControl;
  readonly #work: LaneWork;
  readonly #runParts: number;
  readonly #queue: number[];
  failure: Error | undefined;

  constructor(control: UploadControl, work: LaneWork, runParts: number) {
    this.#control = control;
    this.#work = work;
    this.#runParts = runParts;
    this.#queue = work.ledger.pendingParts(work.prepared.plan.partCount);
  }

  /** Waits while paused; false when the upload must stop (cancelled or failed). */
  async #proceed(): Promise<boolean> {
    return (await this.#control.proceed()) && this.failure === undefined;
  }

  async lane(): Promise<void> {
    while (await this.#proceed()) {
      const run = takeRun(this.#queue, this.#runParts);
      if (run.length === 0) return;
      const failed = await this.#uploadRun(run);
      const first = failed[0];
      if (first === undefined) continue;
      const pausedAway =
        first.error instanceof DOMException &&
        first.error.name === 'AbortError' &&
        first.error.message === 'paused';
      const state = this.#control.state();
      if (state === 'paused' || pausedAway) {
        // Built and sent again on resume (which may already have come), in order, so they can
        // form runs again.
        this.#queue.unshift(...failed.map((failure) => failure.partNumber));
        continue;
      }
      if (state === 'cancelled') return;
      if (this.failure === undefined) {
        const error = first.error;
        this.failure =
          error instanceof Error ? error : new VeilError('INTERNAL_ERROR', String(error));
        this.#control.abort('failed');
      }
      return;
    }
  }

  /** Builds a run of parts (one worker job) and uploads them at once; returns the failures. */
  async #uploadRun(run: number[]): Promise<PartFailure[]> {
    const { builder, prepared, file } = this.#work;
    let built: BuiltPart[];
    try {
      built =
        run.length > 1 && builder.buildParts
          ? await builder.buildParts(partRunJob(prepared, file, run))
          : await Promise.all(run.map((n) => builder.buildPart(partJob(prepared, file, n))));
      needs(built.length === run.length, 'INTERNAL_ERROR', 'parts built');
    } catch (error) {
      return run.map((partNumber) => ({ partNumber, error }));
    }
    for (const part of built) this.#control.meter.addEncrypted(part.plaintextBytes);
    this.#control.report();
    const settled = await Promise.allSettled(
      run.map(async (partNumber, index) => {
        const part = built[index];
        needs(part, 'INTERNAL_ERROR', 'part built');
        try {
          await this.#sendPart(partNumber, part);
        } finally {
          // Sent or failed, the part is done with: its buffer serves a later part.
          builder.recycle?.(part.bytes);
        }
      }),
    );
    const failed: PartFailure[] = [];
    settled.forEach((outcome, index) => {
      const partNumber = run[index];
      if (outcome.status === 'rejected' && partNumber !== undefined) {
        failed.push({ partNumber, error: outcome.reason });
      }
    });
    return failed;
  }

  /** Uploads one built part with retries and records its ETag and checksum. */
  async #sendPart(partNumber: number, built: BuiltPart): Promise<void> {
    const control = this.#control;
    const work = this.#work;
    try {
      if (control.state() !== 'uploading') throw new DOMException(control.state(), 'AbortError');
      if (work.prepared.cipher) await work.ledger.pinDigest(partNumber, built.plaintextDigest);
      if (control.state() !== 'uploading') throw new DOMException(control.state(), 'AbortError');
      const reply = await control.send((signal) =>
        work.s3.uploadPart(
          {
            Bucket: work.bucket,
            Key: work.key,
            UploadId: work.uploadId,
            PartNumber: partNumber,
            Body: built.bytes,
            ContentLength: built.bytes.length,
            ChecksumAlgorithm: CHECKSUM_ALGORITHM,
            ...(built.checksumCrc32 ? { ChecksumCRC32: built.checksumCrc32 } : {}),
          },
          signal,
        ),
      );
      const missing = [
        ...(reply.ETag ? [] : ['ETag']),
        ...(reply.ChecksumCRC32 ? [] : ['x-amz-checksum-crc32']),
      ];
      if (missing.length > 0) throw corsError(work.origin ?? pageOrigin(), missing);
      control.meter.addUploaded(built.bytes.length);
      work.ledger.partDone({
        partNumber,
        etag: reply.ETag ?? '',
        ...(reply.ChecksumCRC32 ? { checksumCrc32: reply.ChecksumCRC32 } : {}),
      });
      control.report();
    } catch (error) {
      control.meter.dropEncrypted(built.plaintextBytes);
      throw error;
    }
  }
}

/**
 * Sends every part of `work` the ledger does not hold yet, in lanes of runs of parts, and
 * resolves when the lanes stop: all parts done, or the upload cancelled.
 * @throws the first failure of a part that was not paused (the builder's, the ledger's, S3's,
 *   UPLOAD_CORS_HEADERS), once every lane has stopped.
 */
export async function runLanes(control: UploadControl, work: LaneWork): Promise<void> {
  const { plan } = work.prepared;
  const runParts = work.builder.buildParts
    ? partsPerRun(plan, work.partsInFlight, work.builder.size ?? 1)
    : 1;
  const lanes = Math.min(Math.max(1, Math.floor(work.partsInFlight / runParts)), plan.partCount);
  const runner = new Lanes(control, work, runParts);
  await Promise.all(Array.from({ length: lanes }, () => runner.lane()));
  if (runner.failure !== undefined) throw runner.failure;
}
