/**
 * Retry and Remove of the upload queue's failed rows (uploads-core.ts). A failed upload keeps its
 * multipart upload (`keepOnFailure`): Retry resumes it with the same File, holding its Web Lock
 * first ([Note: upload locks] in locks.ts); Remove aborts it and deletes its record, so
 * nothing stays behind in the bucket.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { UploadStore } from '../../transfer/upload-store';
import type { UploadsDeps } from './uploads-core';
import { rowError, s3Error } from './errors';
import type { UploadRow } from './rows';
import { releaseLocks, type UploadRuns } from './runs';

/** What Retry and Remove need of the queue. */
export interface RowRecovery {
  readonly deps: Pick<UploadsDeps, 's3' | 'holdLock' | 'keys'> & {
    store(): Pick<UploadStore, 'get' | 'delete'>;
  };
  readonly runs: UploadRuns;
  config(): VeilConfig | undefined;
  row(id: number): UploadRow | undefined;
  /** Looks the row's key up again: queues it when free, else a conflict. */
  check(row: UploadRow): Promise<void>;
  /** Drops the row from the queue's rows. */
  drop(id: number): void;
}

/**
 * Tries a failed row again: resumes its kept multipart upload, or looks the name up again and
 * starts over (a conflict when the name was taken meanwhile, so nothing is overwritten
 * silently). The row leaves 'failed' before the first await, so a second click does nothing.
 */
export async function retryRow(queue: RowRecovery, id: number): Promise<void> {
  const row = queue.row(id);
  const handle = queue.runs.handle(id);
  if (!row || !handle || row.phase !== 'failed') return;
  const uploadId = handle.uploadId;
  if (!uploadId && !handle.record) {
    // Nothing kept (it failed before or while starting its multipart upload): look again.
    await queue.check(row);
    return;
  }
  row.phase = 'checking';
  row.error = undefined;
  try {
    const record = uploadId ? await queue.deps.store().get(uploadId) : undefined;
    if (record && handle.keyring === undefined && record.protection === 'client-side') {
      // A row of an earlier session: its keyring is the session's read keyring.
      const config = queue.config();
      const keyring = config ? await queue.deps.keys.read(config) : undefined;
      queue.runs.set(id, { ...handle, keyring });
    }
    if (!record && handle.record) {
      // A resumed upload whose multipart upload is gone: it cannot start over from here, since
      // its choices (SSE layer, context) were made in an earlier session.
      row.phase = 'failed';
      row.error = rowError(new VeilError('RESUME_UPLOAD_GONE'));
      return;
    }
    if (!record) {
      // The kept upload is gone from the store: start over, after looking the name up again.
      handle.uploadId = undefined;
      await queue.check(row);
      return;
    }
    // The row must hold the upload's lock before it continues it ([Note: upload locks]).
    const current = queue.runs.handle(id);
    if (current && !current.releases?.length) {
      (current.releases ??= []).push(await queue.deps.holdLock(record.uploadId));
    }
    void queue.runs.enqueue(row, record);
  } catch (error) {
    row.phase = 'failed';
    row.error = rowError(s3Error(error));
  }
}

/**
 * Removes a finished, cancelled, skipped or failed row. A failed row's kept multipart upload is
 * aborted and its record deleted, so nothing stays behind in the bucket.
 */
export async function removeRow(queue: RowRecovery, id: number): Promise<void> {
  const row = queue.row(id);
  const handle = queue.runs.handle(id);
  if (!row || !handle) return;
  if (row.phase === 'active' || row.phase === 'queued') return;
  if (row.phase === 'failed' && handle.uploadId) {
    try {
      await abortUpload(queue, row.key, handle.uploadId);
    } catch (error) {
      row.error = rowError(s3Error(error));
      return;
    }
  }
  releaseLocks(handle);
  queue.drop(id);
  queue.runs.delete(id);
}

/**
 * Aborts a multipart upload and deletes its resume record; an upload S3 no longer has counts
 * as aborted.
 * @throws whatever S3 throws but NoSuchUpload, or the store's failure.
 */
export async function abortUpload(
  queue: Pick<RowRecovery, 'deps' | 'config'>,
  key: string,
  uploadId: string,
): Promise<void> {
  const config = queue.config();
  if (!config) return;
  try {
    await queue.deps.s3().abortMultipartUpload({
      Bucket: config.bucket,
      Key: key,
      UploadId: uploadId,
    });
  } catch (error) {
    // Already gone (aborted elsewhere or expired): nothing left to clean up in the bucket.
    if (!(error instanceof Error && error.name === 'NoSuchUpload')) throw error;
  }
  await queue.deps.store().delete(uploadId);
}
