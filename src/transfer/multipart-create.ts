/**
 * CreateMultipartUpload with retries, and the clean-up of the uploads a retried Create may leave
 * behind ([Note: a retried Create]).
 *
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
import type { CreateMultipartUploadCommandInput, MultipartUpload } from '@aws-sdk/client-s3';
import { needs } from '../core';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryHooks, type RetryPolicy } from './retry';
import type { UploadS3 } from './s3-api';

/** Slack added to the Create attempts' duration when telling strays ([Note: a retried Create]). */
export const STRAY_MARGIN_MS = 60_000;

/** A multipart upload S3 created, and what it took. */
export interface CreatedUpload {
  readonly uploadId: string;
  /** Create attempts made: more than 1 means strays may exist ([Note: a retried Create]). */
  readonly attempts: number;
  /** Wall-clock time the attempts took, in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Sends CreateMultipartUpload with retries. Not abortable: a cancel during the call must still
 * learn the upload id to abort it.
 * @throws VeilError S3_REJECTED (also when S3 returns no upload id) and the other codes of
 *   withRetry.
 */
export async function createMultipart(
  s3: Pick<UploadS3, 'createMultipartUpload'>,
  input: CreateMultipartUploadCommandInput,
  retry: {
    readonly policy?: RetryPolicy;
    readonly hooks?: RetryHooks;
    /** The task named in a failure's detail; default 'upload'. */
    readonly task?: string;
  } = {},
): Promise<CreatedUpload> {
  const startedMs = Date.now();
  let attempts = 0;
  const created = await withRetry(
    (attempt) => {
      attempts = attempt;
      return s3.createMultipartUpload(input);
    },
    retry.policy ?? DEFAULT_RETRY_POLICY,
    undefined,
    retry.hooks,
    { task: retry.task ?? 'upload', operation: 'CreateMultipartUpload' },
  );
  needs(created.UploadId, 'S3_REJECTED', 'CreateMultipartUpload returned no upload id');
  return { uploadId: created.UploadId, attempts, elapsedMs: Date.now() - startedMs };
}

/**
 * The upload ids among `uploads` (a listing of `key`'s multipart uploads) that a retried Create
 * of `kept` left behind ([Note: a retried Create]); none when `kept` is not listed with a date.
 */
export function strayUploads(
  uploads: readonly MultipartUpload[],
  key: string,
  kept: Pick<CreatedUpload, 'uploadId' | 'elapsedMs'>,
): string[] {
  const keptEntry = uploads.find((upload) => upload.UploadId === kept.uploadId);
  const keptMs = keptEntry?.Initiated?.getTime();
  if (keptEntry === undefined || keptMs === undefined || Number.isNaN(keptMs)) return [];
  const earliestMs = keptMs - (kept.elapsedMs + STRAY_MARGIN_MS);
  const keptBy = keptEntry.Initiator?.ID;
  const strays: string[] = [];
  for (const upload of uploads) {
    const initiatedMs = upload.Initiated?.getTime();
    const by = upload.Initiator?.ID;
    if (
      upload.Key === key &&
      upload.UploadId !== undefined &&
      upload.UploadId !== kept.uploadId &&
      (keptBy === undefined || by === undefined || by === keptBy) &&
      initiatedMs !== undefined &&
      initiatedMs <= keptMs &&
      initiatedMs >= earliestMs
    ) {
      strays.push(upload.UploadId);
    }
  }
  return strays;
}

/**
 * Lists `target`'s multipart uploads and aborts the strays of `kept` ([Note: a retried Create]).
 * Best effort: never throws; does nothing where `s3` has no listing or the listing is refused.
 */
export async function abortStrayUploads(
  s3: Pick<UploadS3, 'abortMultipartUpload' | 'listMultipartUploads'>,
  target: { readonly bucket: string; readonly key: string },
  kept: Pick<CreatedUpload, 'uploadId' | 'elapsedMs'>,
): Promise<void> {
  const list = s3.listMultipartUploads?.bind(s3);
  if (!list) return;
  try {
    const listed = await list({ Bucket: target.bucket, Prefix: target.key });
    for (const uploadId of strayUploads(listed.Uploads ?? [], target.key, kept)) {
      await s3
        .abortMultipartUpload({ Bucket: target.bucket, Key: target.key, UploadId: uploadId })
        .catch(() => undefined);
    }
  } catch {
    // Listing refused: the lifecycle rule aborts what is left.
  }
}
