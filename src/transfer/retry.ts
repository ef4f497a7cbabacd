/**
 * Retries with exponential backoff and full jitter for transient S3 failures: 5xx, throttling,
 * request timeouts, network errors and expired credentials (the credentials provider refreshes
 * them on the next call; isTransient in core/aws-failure.ts). Anything else is permanent and fails
 * at once. Waiting is abortable, so pause and cancel do not sit out a backoff. Failures leave as
 * the neutral codes of [Note: AWS failures], the caller's task and operation in the detail.
 */
import { VeilError, isTransient, retriesFailure, s3Failure } from '../core';
import type { AwsCallContext } from '../core';
import { corsAdvice } from './cors';

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

/** What a retried call was for, and where the page runs (for the CORS rule to add). */
export interface RetryContext extends AwsCallContext {
  /** The page origin S3_UNREACHABLE names the CORS rule for; default the page's (corsAdvice). */
  readonly origin?: string;
}

/**
 * Runs `attempt` until it succeeds, a permanent failure occurs, or attempts run out.
 * @param context what the call is for (task, operation), written into the error's detail; the
 *   same failure gives the same code whatever the task.
 * @throws the signal's reason when aborted; a VeilError thrown by `attempt` as it is; for a
 *   permanent failure the code of s3Failure (S3_REJECTED, CREDENTIALS_*, the context's
 *   preconditionFailed code); after `maxAttempts` transient failures the code of retriesFailure
 *   (S3_UNREACHABLE with the CORS rule when nothing answered, CREDENTIALS_EXPIRED,
 *   S3_RETRIES_EXHAUSTED), the last error as cause.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  signal?: AbortSignal,
  hooks: RetryHooks = {},
  context: RetryContext = {},
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (error instanceof VeilError) throw error;
      if (!isTransient(error)) throw s3Failure(error, context);
      if (attemptNumber >= policy.maxAttempts) {
        throw retriesFailure(error, attemptNumber, context, corsAdvice(context.origin));
      }
      const delayMs = backoffMs(attemptNumber, policy, hooks.random);
      hooks.onRetry?.(attemptNumber, error, delayMs);
      await (hooks.sleep ?? sleep)(delayMs, signal);
    }
  }
}
