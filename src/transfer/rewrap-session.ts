/**
 * One rewrap's shared state: the signal that stops its requests (the caller's cancel, or a stop
 * after a failure), retries with the rewrap's task and its 412 meaning, the byte counters and
 * progress reports, and the translation of failures into rewrap codes.
 */
import { VeilError, errorName, httpStatusOf, s3Failure } from '../core';
import type { ErrorCode } from '../core';
import { DEFAULT_RETRY_POLICY, withRetry } from './retry';
import type { RewrapProgress, RewrapRunSetup, RewrapState } from './rewrap-options';

/** S3's answer to a conditional write that raced another write (PutObject, Complete). */
const CONFLICT_NAMES: ReadonlySet<string> = new Set(['ConditionalRequestConflict']);
/** S3's answers for a missing object (GET and conditional writes; HEAD has no body). */
const GONE_NAMES: ReadonlySet<string> = new Set(['NoSuchKey', 'NotFound']);

/**
 * Failures after which an unfinished rewrap is kept for a resume (with a store): S3 could not be
 * reached or kept failing, or the credentials expired. Anything else aborts the upload.
 */
export const RESUMABLE_REWRAP_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'S3_UNREACHABLE',
  'S3_RETRIES_EXHAUSTED',
  'CREDENTIALS_EXPIRED',
]);

/** True when `error` leaves a rewrap that resumeRewrap can continue (RESUMABLE_REWRAP_CODES). */
export function isResumableRewrapFailure(error: unknown): boolean {
  return error instanceof VeilError && RESUMABLE_REWRAP_CODES.has(error.code);
}

/** Runs one rewrap's requests. */
export class RewrapSession<S extends RewrapRunSetup = RewrapRunSetup> {
  readonly setup: S;
  readonly #controller = new AbortController();
  readonly signal: AbortSignal;
  #state: RewrapState = 'opening';
  receivedBytes = 0;
  sentBytes = 0;
  copiedBytes = 0;
  sentTotalBytes: number | undefined;
  copyTotalBytes: number | undefined;
  /** Set once HEAD found the object: from then on, a missing object was changed under us. */
  sourceSeen = false;

  constructor(setup: S) {
    this.setup = setup;
    this.signal = setup.signal
      ? AbortSignal.any([setup.signal, this.#controller.signal])
      : this.#controller.signal;
  }

  /** True once the caller cancelled. */
  get cancelled(): boolean {
    return this.setup.signal?.aborted === true;
  }

  /** Stops the requests in flight (after a failure). */
  stop(): void {
    this.#controller.abort(new DOMException('stopped', 'AbortError'));
  }

  /** Throws REWRAP_CANCELLED once the caller cancelled. */
  checkCancelled(): void {
    if (this.cancelled) throw new VeilError('REWRAP_CANCELLED');
  }

  /**
   * Runs an S3 call with retries under the session's signal. A 412 is REWRAP_SOURCE_CHANGED: every
   * conditional request of a rewrap is on the old object's ETag.
   * @throws the codes of withRetry, and REWRAP_CANCELLED after a cancel (explain).
   */
  async send<T>(operation: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withRetry(
        () => call(this.signal),
        this.setup.retry ?? DEFAULT_RETRY_POLICY,
        this.signal,
        this.setup.retryHooks ?? {},
        {
          task: 'rewrap',
          operation,
          preconditionFailed: this.#preconditionCode(operation),
          ...(this.setup.origin ? { origin: this.setup.origin } : {}),
        },
      );
    } catch (error) {
      throw this.explain(error, operation);
    }
  }

  /**
   * A failure in rewrap codes: REWRAP_CANCELLED once the caller cancelled; REWRAP_SOURCE_CHANGED
   * for S3's 409 ConditionalRequestConflict (a conditional write raced another) and for an object
   * gone after HEAD found it (412 is mapped by withRetry); a VeilError as it is (S3's answer
   * under an S3_REJECTED is looked at); anything else through s3Failure.
   */
  explain(error: unknown, operation?: string): VeilError {
    if (this.cancelled) {
      return error instanceof VeilError && error.code === 'REWRAP_CANCELLED'
        ? error
        : new VeilError('REWRAP_CANCELLED', undefined, { cause: error });
    }
    const answer = error instanceof VeilError && error.code === 'S3_REJECTED' ? error.cause : error;
    const name = errorName(answer);
    const status = httpStatusOf(answer);
    const conflict = status === 409 && CONFLICT_NAMES.has(name);
    const gone = this.sourceSeen && status === 404 && GONE_NAMES.has(name);
    if (conflict || gone) {
      const detail = `rewrap ${operation ?? ''}: ${name}`;
      return new VeilError('REWRAP_SOURCE_CHANGED', detail, { cause: answer });
    }
    if (error instanceof VeilError) return error;
    return s3Failure(error, {
      task: 'rewrap',
      ...(operation ? { operation } : {}),
      preconditionFailed: this.#preconditionCode(operation),
    });
  }

  /**
   * What a 412 means: on a move's write (If-None-Match), that the destination is taken
   * (MOVE_DESTINATION_EXISTS); on anything else (If-Match on the old ETag), that the source
   * changed.
   */
  #preconditionCode(operation: string | undefined): ErrorCode {
    const setup: { key: string; destinationKey?: string } = this.setup;
    const moving = setup.destinationKey !== undefined && setup.destinationKey !== setup.key;
    const write = operation === 'PutObject' || operation === 'CompleteMultipartUpload';
    return moving && write ? 'MOVE_DESTINATION_EXISTS' : 'REWRAP_SOURCE_CHANGED';
  }

  /** Tells the caller the progress, in `state` when given. */
  report(state?: RewrapState): void {
    if (state) this.#state = state;
    this.setup.onProgress?.(this.snapshot());
  }

  snapshot(): RewrapProgress {
    return {
      state: this.#state,
      receivedBytes: this.receivedBytes,
      sentBytes: this.sentBytes,
      sentTotalBytes: this.sentTotalBytes,
      copiedBytes: this.copiedBytes,
      copyTotalBytes: this.copyTotalBytes,
    };
  }
}
