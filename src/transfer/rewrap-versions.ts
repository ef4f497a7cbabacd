/**
 * Versioned buckets after a rewrap ([Note: rewrap and versions]): deleting the version a rewrap
 * replaced, never the current one.
 *
 * [Note: rewrap and versions] On a bucket with versioning enabled a rewrap writes a new version
 * and S3 keeps the old one, whose header still holds the old EDKs: a removed key still opens
 * that version, so removing a key (for example one that leaked) is only real once the older
 * versions are gone. The rewrap result names the version it replaced (`previousVersionId`, from
 * the HEAD the rewrap read and the version its write made); the app and the command line say so
 * and offer deletePreviousVersion. Deleting a version needs s3:DeleteObjectVersion and is final
 * (no delete marker is written). Versions older than the one replaced, and a version held by
 * Object Lock or a lifecycle rule's noncurrent-version retention, are the caller's to look at:
 * this deletes exactly the version given, and refuses the current one
 * (REWRAP_VERSION_CURRENT), which would delete the file itself.
 */
import { VeilError, httpStatusOf, needs } from '../core';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryHooks, type RetryPolicy } from './retry';
import type { RewrapS3 } from './rewrap-s3';

/**
 * The new version and the one replaced, when the bucket kept it: a write that made a version
 * other than the one HEAD saw left that one behind ([Note: rewrap and versions]).
 */
export function versionsOf(
  oldVersionId: string | undefined,
  newVersionId: string | undefined,
): { versionId?: string; previousVersionId?: string } {
  if (newVersionId === undefined) return {};
  const kept = oldVersionId !== undefined && oldVersionId !== newVersionId;
  return { versionId: newVersionId, ...(kept ? { previousVersionId: oldVersionId } : {}) };
}

/** Options of deletePreviousVersion. */
export interface DeleteVersionOptions {
  readonly signal?: AbortSignal;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
}

/**
 * Deletes version `versionId` of `bucket`/`key` (DeleteObject with VersionId) after a HEAD shows
 * it is not the current version ([Note: rewrap and versions]). A key whose current version is a
 * delete marker (HEAD answers 404) has no current version to protect.
 * @throws VeilError BAD_ARGUMENT for a seam without deleteObjectVersion or an empty argument;
 *   REWRAP_VERSION_CURRENT when `versionId` is the current version (nothing is deleted); the S3
 *   codes of withRetry (S3_REJECTED for a missing s3:DeleteObjectVersion).
 */
export async function deletePreviousVersion(
  s3: RewrapS3,
  bucket: string,
  key: string,
  versionId: string,
  options: DeleteVersionOptions = {},
): Promise<void> {
  // Precondition: a seam that deletes versions, an object and a version to delete.
  needs(typeof s3?.deleteObjectVersion === 'function', 'BAD_ARGUMENT', 's3.deleteObjectVersion');
  needs(typeof bucket === 'string' && bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
  needs(typeof key === 'string' && key.length > 0, 'BAD_ARGUMENT', 'key');
  needs(typeof versionId === 'string' && versionId.length > 0, 'BAD_ARGUMENT', 'versionId');
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const hooks = options.retryHooks ?? {};
  const context = (operation: string) => ({ task: 'rewrap', operation });
  const current = await withRetry(
    () => s3.headObject(bucket, key, options.signal),
    policy,
    options.signal,
    hooks,
    context('HeadObject'),
  ).catch((error: unknown) => {
    const answer = error instanceof VeilError ? error.cause : error;
    if (httpStatusOf(answer) === 404) return undefined;
    throw error;
  });
  if (current?.versionId === versionId) {
    throw new VeilError('REWRAP_VERSION_CURRENT', `version ${versionId}`);
  }
  const deleteVersion = s3.deleteObjectVersion.bind(s3);
  await withRetry(
    () => deleteVersion({ Bucket: bucket, Key: key, VersionId: versionId }, options.signal),
    policy,
    options.signal,
    hooks,
    context('DeleteObject'),
  );
}
