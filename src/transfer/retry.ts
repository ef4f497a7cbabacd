/**
 * Retries with exponential backoff and full jitter for transient S3 failures: 5xx, throttling,
 * request timeouts, network errors and expired credentials (the credentials provider refreshes
 * them on the next call). Anything else is permanent and fails at once. Waiting is abortable, so
 * pause and cancel do not sit out a backoff.
 */
import { VeilError } from '../core';

/** How hard to retry. */
export interface RetryPolicy {
  /** Attempts in all, including the first; at least 1. */
  readonly maxAttempts: number;
  /** Backoff cap before the first retry, in milliseconds; doubles each retry. */
  readonly baseDelayMs: number;
  /** Largest backoff cap, in milliseconds. */
  readonly maxDelayMs: number;
}

/** The engine's default: 6 attempts, 250 ms doubling to at most 10 s (about 16 s worst case). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
};

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'TimeoutError',
  'NetworkingError',
]);

/** The error's name (SDK errors are named after the S3 error code). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** True for a failure worth retrying (see the file comment). Abort errors are never transient. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof VeilError) return false;
  if (error.name === 'AbortError') return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  // fetch rejects with a TypeError when the network fails (or a CORS preflight is refused).
  return error instanceof TypeError;
}

/**
 * Backoff before retry number `retry` (1 for the first retry): a uniform draw from
 * [0, min(maxDelayMs, baseDelayMs * 2^(retry-1))) ("full jitter").
 */
export function backoffMs(retry: number, policy: RetryPolicy, random = Math.random): number {
  const capMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * capMs);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('aborted', 'AbortError');
}

/** Hooks for tests and progress: a clock, a random source and a retry observer. */
export interface RetryHooks {
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (retry: number, error: unknown, delayMs: number) => void;
}

/**
 * Runs `attempt` until it succeeds, a permanent failure occurs, or attempts run out.
 * @throws the signal's reason when aborted; VeilError UPLOAD_RETRIES_EXHAUSTED (with the last
 *   error as cause) after `maxAttempts` transient failures; VeilError UPLOAD_S3_REJECTED for a
 *   permanent S3 failure; a VeilError thrown by `attempt` as it is.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  signal?: AbortSignal,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (error instanceof VeilError) throw error;
      if (!isTransient(error)) {
        throw new VeilError('UPLOAD_S3_REJECTED', errorName(error), { cause: error });
      }
      if (attemptNumber >= policy.maxAttempts) {
        throw new VeilError(
          'UPLOAD_RETRIES_EXHAUSTED',
          `${attemptNumber} attempts, last: ${errorName(error)}`,
          { cause: error },
        );
      }
      const delayMs = backoffMs(attemptNumber, policy, hooks.random);
      hooks.onRetry?.(attemptNumber, error, delayMs);
      await (hooks.sleep ?? sleep)(delayMs, signal);
    }
  }
}
