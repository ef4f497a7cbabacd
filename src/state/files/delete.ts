/**
 * Deleting from the Files view: one object, a folder, which in S3 is every key under its prefix
 * (its zero-byte marker object too), or a selection of both. The keys are listed first (the
 * confirm dialog shows how many and their size), then deleted with DeleteObjects in batches of at
 * most 1000 keys (S3's limit per request); keys S3 refuses are kept to be listed.
 */
import { VeilError } from '../../core/errors';
import type { DeleteFailure, FilesS3 } from '../../aws/bucket-s3';
import type { Row } from './listing';
import { selectionLabel } from './selection';

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

/** What a delete is about to remove (the confirm dialog's content), listed before asking. */
export type DeletePlan =
  | { readonly kind: 'file'; readonly key: string; readonly name: string }
  | {
      readonly kind: 'folder';
      readonly prefix: string;
      readonly name: string;
      /** Every key under the prefix (its marker object too). */
      readonly keys: readonly string[];
      readonly totalBytes: number;
    }
  | {
      /** Several rows: their files, and every key under their folders. */
      readonly kind: 'many';
      /** "2 files and 1 folder". */
      readonly label: string;
      readonly keys: readonly string[];
      /** The stored size of all of them. */
      readonly totalBytes: number;
    };

/**
 * What deleting `rows` removes: one file, one folder (every key under it, listed now), or for
 * several rows all of that together, each key once.
 * @throws what `s3.list` throws when a folder cannot be listed.
 */
export async function planDelete(
  s3: Pick<FilesS3, 'list'>,
  rows: readonly Row[],
  signal?: AbortSignal,
): Promise<DeletePlan> {
  const [only] = rows;
  if (!only) throw new VeilError('BAD_ARGUMENT', 'nothing to delete');
  if (rows.length === 1 && only.kind === 'file')
    return { kind: 'file', key: only.key, name: only.name };
  if (rows.length === 1 && only.kind === 'folder') {
    const { keys, totalBytes } = await keysUnder(s3, only.prefix, signal);
    return { kind: 'folder', prefix: only.prefix, name: only.name, keys, totalBytes };
  }
  const sizes = new Map<string, number>();
  for (const row of rows) {
    if (row.kind === 'file') {
      sizes.set(row.key, row.sizeBytes);
      continue;
    }
    let token: string | undefined;
    do {
      const page = await s3.list({ prefix: row.prefix, ...(token ? { token } : {}) }, signal);
      for (const object of page.objects) sizes.set(object.key, object.sizeBytes);
      token = page.nextToken;
    } while (token);
  }
  let totalBytes = 0;
  for (const bytes of sizes.values()) totalBytes += bytes;
  return { kind: 'many', label: selectionLabel(rows), keys: [...sizes.keys()], totalBytes };
}

/** The keys a plan deletes. */
export function keysOfPlan(plan: DeletePlan): string[] {
  return plan.kind === 'file' ? [plan.key] : [...plan.keys];
}

/** What the live region says once a plan ran. */
export function deletedNotice(plan: DeletePlan, outcome: DeleteOutcome): string {
  const objects = `${outcome.deleted} ${outcome.deleted === 1 ? 'object' : 'objects'}`;
  if (plan.kind === 'file') return `Deleted ${plan.name}.`;
  if (plan.kind === 'folder') return `Deleted folder ${plan.name}: ${objects}.`;
  return `Deleted ${plan.label}: ${objects}.`;
}
