/**
 * Names a download's failures in download codes. The S3 calls go through retry.ts, whose codes
 * say UPLOAD_*; a download reports them as what they mean for it, and a cancel as a cancel,
 * whatever stopped first.
 */
import { VeilError } from '../core';
import type { ErrorCode } from '../core';
import { corsRuleFor } from './cors';

/** What explainDownloadError needs to know about the download. */
export interface ExplainContext {
  /** The caller's cancel signal fired: every failure then reads DOWNLOAD_CANCELLED. */
  readonly cancelled: boolean;
  /** The page origin, for the CORS rule shown when S3 cannot be reached. */
  readonly origin: string;
}

/**
 * Maps retry.ts's upload codes, S3 error names and aborts to download codes: a cancel is
 * DOWNLOAD_CANCELLED (the first cause kept); S3's 412 to If-Match is DOWNLOAD_OBJECT_CHANGED;
 * another S3 refusal DOWNLOAD_S3_REJECTED; retries spent on network errors DOWNLOAD_UNREACHABLE
 * with the CORS rule to add, on anything else DOWNLOAD_RETRIES_EXHAUSTED. Other errors pass as
 * they are.
 */
export function explainDownloadError(error: unknown, context: ExplainContext): unknown {
  if (context.cancelled) {
    return error instanceof VeilError && error.code === 'DOWNLOAD_CANCELLED'
      ? error
      : new VeilError('DOWNLOAD_CANCELLED', undefined, { cause: error });
  }
  if (!(error instanceof VeilError)) return error;
  const cause = error.cause;
  const map = (code: ErrorCode, detail = error.detail): VeilError =>
    new VeilError(code, detail, { cause });
  if (error.code === 'UPLOAD_S3_REJECTED') {
    return error.detail === 'PreconditionFailed'
      ? map('DOWNLOAD_OBJECT_CHANGED', 'S3 answered 412 to If-Match')
      : map('DOWNLOAD_S3_REJECTED');
  }
  if (error.code === 'UPLOAD_RETRIES_EXHAUSTED') {
    return cause instanceof TypeError
      ? map(
          'DOWNLOAD_UNREACHABLE',
          `${error.detail ?? ''}; the CORS rule: ${JSON.stringify(corsRuleFor(context.origin))}`,
        )
      : map('DOWNLOAD_RETRIES_EXHAUSTED');
  }
  return error;
}
