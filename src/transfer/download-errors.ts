/**
 * A download's failure as it reaches the caller: a cancel reads DOWNLOAD_CANCELLED, whatever
 * stopped first. S3 failures need no renaming: retry.ts raises the neutral codes of
 * [Note: AWS failures] (S3_REJECTED, S3_UNREACHABLE, S3_RETRIES_EXHAUSTED) on every path, with
 * "download" in the detail, and a 412 to If-Match arrives as DOWNLOAD_OBJECT_CHANGED because the
 * download's calls say so in their context (downloadRetryContext).
 */
import { VeilError } from '../core';
import type { RetryContext } from './retry';

/** What explainDownloadError needs to know about the download. */
export interface ExplainContext {
  /** The caller's cancel signal fired: every failure then reads DOWNLOAD_CANCELLED. */
  readonly cancelled: boolean;
}

/** The context of a download's S3 calls: its task, its origin, what a 412 means to it. */
export function downloadRetryContext(origin: string | undefined): RetryContext {
  return {
    task: 'download',
    preconditionFailed: 'DOWNLOAD_OBJECT_CHANGED',
    ...(origin === undefined ? {} : { origin }),
  };
}

/**
 * A cancel is DOWNLOAD_CANCELLED (the first cause kept); other errors pass as they are.
 */
export function explainDownloadError(error: unknown, context: ExplainContext): unknown {
  if (!context.cancelled) return error;
  return error instanceof VeilError && error.code === 'DOWNLOAD_CANCELLED'
    ? error
    : new VeilError('DOWNLOAD_CANCELLED', undefined, { cause: error });
}
