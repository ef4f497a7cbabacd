/**
 * Deleting from the Files view: one object, or a folder, which in S3 is every key under its
 * prefix. The keys are listed first (the confirm dialog shows how many), then deleted with
 * DeleteObjects in batches of at most 1000 keys (S3's limit per request).
 */
import { VeilError } from '../../core/errors';
import type { DeleteFailure, FilesS3 } from '../../aws/bucket-s3';

/** Keys per DeleteObjects request (S3 accepts at most 1000). */
export const DELETE_BATCH_KEYS = 1000;

/** `keys` in consecutive batches of at most `size`. */
export function batchesOf<T>(keys: readonly T[], size = DELETE_BATCH_KEYS): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new VeilError('OUT_OF_RANGE', 'batch size');
  const batches: T[][] = [];
  for (let at = 0; at < keys.length; at += size) batches.push(keys.slice(at, at + size));
  return batches;
}

/** Every key under `prefix` (all pages, no delimiter), with their total size. */
export async function keysUnder(
  s3: Pick<FilesS3, 'list'>,
  prefix: string,
  signal?: AbortSignal,
): Promise<{ keys: string[]; totalBytes: number }> {
  const keys: string[] = [];
  let totalBytes = 0;
  let token: string | undefined;
  do {
    const page = await s3.list({ prefix, ...(token ? { token } : {}) }, signal);
    for (const object of page.objects) {
      keys.push(object.key);
      totalBytes += object.sizeBytes;
    }
    token = page.nextToken;
  } while (token);
  return { keys, totalBytes };
}

/** How a delete went. */
export interface DeleteOutcome {
  readonly deleted: number;
  readonly failures: readonly DeleteFailure[];
}

/**
 * Deletes `keys` in batches, reporting the count done after each batch. Keys S3 refuses are
 * returned (with S3's error code), not thrown; a request that fails outright throws.
 */
export async function deleteKeys(
  s3: Pick<FilesS3, 'deleteKeys'>,
  keys: readonly string[],
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<DeleteOutcome> {
  const failures: DeleteFailure[] = [];
  let done = 0;
  for (const batch of batchesOf(keys)) {
    failures.push(...(await s3.deleteKeys(batch, signal)));
    done += batch.length;
    onProgress?.(done, keys.length);
  }
  return { deleted: keys.length - failures.length, failures };
}
