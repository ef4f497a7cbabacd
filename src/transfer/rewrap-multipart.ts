/**
 * The multipart way of a rewrap ([Note: rewrap plan]): Create, part 1 (the new header and the
 * first body bytes, read from the old object with If-Match), the UploadPartCopy parts (each with
 * CopySourceIfMatch on the old ETag), a last look at the source ([Note: rewrap source check]),
 * and Complete with If-Match, which replaces the object atomically. Any failure or a cancel
 * aborts the multipart upload, so the old object stays as it was and no upload is left behind;
 * with a store, a failure S3 may get over keeps the upload and its record for a resume instead
 * ([Note: rewrap resume] in rewrap-resume.ts).
 *
 * [Note: rewrap source check] A concurrent overwrite of the object must fail the rewrap, never be
 * overwritten by it. Every request that reads the old object carries its ETag: the ranged GET
 * (If-Match), each UploadPartCopy (x-amz-copy-source-if-match), and Complete (If-Match, which
 * S3 checks against the object it would replace); S3 answers 412 and the rewrap fails with
 * REWRAP_SOURCE_CHANGED. Before Complete the engine also HEADs the object once more and compares
 * the ETag: that check is what catches a change on S3 stand-ins that ignore the copy condition
 * or Complete's If-Match (moto 5.x ignores both, tests/integration/rewrap-moto-conditions.test.ts), with a
 * window left between that HEAD and Complete. On a versioned bucket each copy names the version
 * HEAD saw, so the copied bytes are that version's whatever happens to the key.
 */
import type { CompletedPart } from '@aws-sdk/client-s3';
import { VeilError, concatBytes } from '../core';
import { crc32, crc32Base64 } from './crc32';
import { abortStrayUploads, createMultipart } from './multipart-create';
import { DEFAULT_RETRY_POLICY, withRetry } from './retry';
import {
  DEFAULT_COPIES_IN_FLIGHT,
  targetKey,
  writeCondition,
  type ReplacementParams,
} from './rewrap-options';
import { copySourceRange, type CopyPart, type MultipartPlan } from './rewrap-plan';
import { RESUMABLE_REWRAP_CODES, type RewrapSession } from './rewrap-session';
import { RewrapLedger, type RewrapRecord } from './rewrap-store';

/** What the multipart way needs from the opening. */
export interface MultipartWork {
  readonly plan: MultipartPlan;
  /** The new header's bytes: the start of part 1. */
  readonly headerBytes: Uint8Array;
  /** The old object's ETag and, on a versioned bucket, the version HEAD saw. */
  readonly etag: string;
  readonly versionId: string | undefined;
  readonly params: ReplacementParams;
  /** What a resume record holds besides the upload (saved when the setup has a store). */
  readonly record?: RecordDraft;
}

/** A RewrapRecord before its upload exists. */
export type RecordDraft = Omit<RewrapRecord, 'id' | 'uploadId' | 'parts' | 'createdAtMs'>;

/** What a write answered: the new object's ETag and, on a versioned bucket, its version. */
export interface WrittenObject {
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
}

/** The `x-amz-copy-source` value: bucket and URL-encoded key, and the version when known. */
export function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  const version = versionId ? `?versionId=${encodeURIComponent(versionId)}` : '';
  return `${bucket}/${encodedKey}${version}`;
}

/** Runs `tasks`, at most `width` at once; the first failure stops the others and is thrown. */
async function runLanes(
  session: RewrapSession,
  tasks: readonly (() => Promise<void>)[],
  width: number,
): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (!failed && next < tasks.length) {
      const task = tasks[next++];
      try {
        await task?.();
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
          session.stop();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
  if (failed) throw failure;
}

/**
 * Writes the new object as a multipart upload ([Note: rewrap plan]), saving a resume record
 * first when the setup has a store ([Note: rewrap resume] in rewrap-resume.ts).
 * @returns the new object's ETag and version.
 * @throws VeilError REWRAP_CANCELLED, REWRAP_SOURCE_CHANGED, REWRAP_RECORD_UNWRITABLE, and the
 *   S3 codes of withRetry; the multipart upload is aborted first unless the failure is resumable
 *   and recorded (finishMultipart).
 */
export async function rewrapMultipart(
  session: RewrapSession,
  work: MultipartWork,
): Promise<WrittenObject> {
  const { setup } = session;
  const { s3, bucket } = setup;
  const key = targetKey(setup);
  const policy = setup.retry ?? DEFAULT_RETRY_POLICY;
  const hooks = setup.retryHooks ?? {};
  const created = await createMultipart(
    s3,
    { Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32', ...work.params },
    { policy, hooks, task: 'rewrap' },
  ).catch((error: unknown) => {
    throw session.explain(error, 'CreateMultipartUpload');
  });
  const uploadId = created.uploadId;
  if (created.attempts > 1) await abortStrayUploads(s3, { bucket, key }, created);
  let ledger: RewrapLedger | undefined;
  if (setup.store && work.record) {
    const record = { ...work.record, id: uploadId, uploadId, parts: [], createdAtMs: Date.now() };
    ledger = await RewrapLedger.open(setup.store, record).catch(async (error: unknown) => {
      await abortRewrapUpload(session, uploadId);
      throw error;
    });
  }
  return finishMultipart(session, work, uploadId, new Map(), ledger);
}

/**
 * Sends the parts not in `done`, looks at the source once more ([Note: rewrap source check]) and
 * completes. A failure S3 may get over (RESUMABLE_REWRAP_CODES) with a `ledger` keeps the upload
 * and its record for resumeRewrap; any other failure, or a cancel, aborts the upload and deletes
 * the record, so the old object stays as it was and nothing is left behind.
 * @throws VeilError REWRAP_CANCELLED, REWRAP_SOURCE_CHANGED, and the S3 codes of withRetry.
 */
export async function finishMultipart(
  session: RewrapSession,
  work: MultipartWork,
  uploadId: string,
  done: ReadonlyMap<number, CompletedPart>,
  ledger: RewrapLedger | undefined,
): Promise<WrittenObject> {
  const { setup } = session;
  const { s3, bucket, key } = setup;
  const policy = setup.retry ?? DEFAULT_RETRY_POLICY;
  const hooks = setup.retryHooks ?? {};
  try {
    session.checkCancelled();
    const parts = await sendParts(session, work, uploadId, done, ledger);
    session.report('completing');
    // [Note: rewrap source check]: the source, which a move reads from another key.
    const again = await session.send('HeadObject', (signal) => s3.headObject(bucket, key, signal));
    if (again.etag !== undefined && again.etag !== work.etag) {
      throw new VeilError('REWRAP_SOURCE_CHANGED', 'rewrap HeadObject: the ETag differs');
    }
    session.checkCancelled();
    // Once Complete is sent a cancel is too late: it runs without the caller's signal.
    const completed = await withRetry(
      () =>
        s3.completeMultipartUpload({
          Bucket: bucket,
          Key: targetKey(setup),
          UploadId: uploadId,
          ...writeCondition(setup, work.etag),
          MultipartUpload: { Parts: parts },
        }),
      policy,
      undefined,
      hooks,
      { task: 'rewrap', operation: 'CompleteMultipartUpload' },
    ).catch((error: unknown) => {
      throw session.explain(error, 'CompleteMultipartUpload');
    });
    await ledger?.discard();
    return { etag: completed.ETag, versionId: completed.VersionId };
  } catch (error) {
    session.stop();
    const explained = session.explain(error);
    if (ledger && RESUMABLE_REWRAP_CODES.has(explained.code)) {
      await ledger.flush();
      throw explained;
    }
    await abortRewrapUpload(session, uploadId);
    await ledger?.discard();
    throw explained;
  }
}

/** Part 1 and the copies, `copiesInFlight` requests at once; the parts in order. */
async function sendParts(
  session: RewrapSession,
  work: MultipartWork,
  uploadId: string,
  done: ReadonlyMap<number, CompletedPart>,
  ledger: RewrapLedger | undefined,
): Promise<CompletedPart[]> {
  const { s3, bucket, key } = session.setup;
  const target = targetKey(session.setup);
  const parts: CompletedPart[] = [...done.values()];
  const finished = (part: CompletedPart & { PartNumber: number; ETag: string }): void => {
    parts.push(part);
    ledger?.partDone({
      partNumber: part.PartNumber,
      etag: part.ETag,
      ...(part.ChecksumCRC32 ? { checksumCrc32: part.ChecksumCRC32 } : {}),
    });
    session.report();
  };
  const firstPart = async (): Promise<void> => {
    const { startBytes, endBytes } = work.plan.firstBody;
    const read = await session.send('GetObject', (signal) =>
      s3.getRange({ bucket, key, startBytes, endBytes, ifMatch: work.etag }, signal),
    );
    if (read.bytes.length !== endBytes - startBytes) {
      throw new VeilError('REWRAP_SOURCE_CHANGED', 'rewrap GetObject: the range came back short');
    }
    session.receivedBytes += read.bytes.length;
    const body = concatBytes(work.headerBytes, read.bytes);
    const checksum = crc32Base64(crc32(body));
    const reply = await session.send('UploadPart', (signal) =>
      s3.uploadPart(
        {
          Bucket: bucket,
          Key: target,
          UploadId: uploadId,
          PartNumber: 1,
          Body: body,
          ContentLength: body.length,
          ChecksumAlgorithm: 'CRC32',
          ChecksumCRC32: checksum,
        },
        signal,
      ),
    );
    session.sentBytes += body.length;
    if (!reply.ETag) throw new VeilError('S3_REJECTED', 'rewrap UploadPart: no ETag');
    finished({ PartNumber: 1, ETag: reply.ETag, ChecksumCRC32: reply.ChecksumCRC32 ?? checksum });
  };
  const copy = (part: CopyPart) => async (): Promise<void> => {
    const reply = await session.send('UploadPartCopy', (signal) =>
      s3.uploadPartCopy(
        {
          Bucket: bucket,
          Key: target,
          UploadId: uploadId,
          PartNumber: part.partNumber,
          CopySource: copySource(bucket, key, work.versionId),
          CopySourceRange: copySourceRange(part.range),
          CopySourceIfMatch: work.etag,
        },
        signal,
      ),
    );
    const result = reply.CopyPartResult;
    if (!result?.ETag) throw new VeilError('S3_REJECTED', 'rewrap UploadPartCopy: no ETag');
    session.copiedBytes += part.range.endBytes - part.range.startBytes;
    finished({
      PartNumber: part.partNumber,
      ETag: result.ETag,
      ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
    });
  };
  session.report('copying');
  await runLanes(
    session,
    [
      ...(done.has(1) ? [] : [firstPart]),
      ...work.plan.copies.filter((part) => !done.has(part.partNumber)).map(copy),
    ],
    session.setup.copiesInFlight ?? DEFAULT_COPIES_IN_FLIGHT,
  );
  return parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
}

/** Aborts the multipart upload with retries, not under the (stopped) session signal. */
export async function abortRewrapUpload(session: RewrapSession, uploadId: string): Promise<void> {
  const { s3, bucket } = session.setup;
  const key = targetKey(session.setup);
  await withRetry(
    () => s3.abortMultipartUpload({ Bucket: bucket, Key: key, UploadId: uploadId }),
    session.setup.retry ?? DEFAULT_RETRY_POLICY,
    undefined,
    session.setup.retryHooks ?? {},
    { task: 'rewrap', operation: 'AbortMultipartUpload' },
  ).catch(() => undefined); // Best effort: the bucket's lifecycle rule aborts what is left.
}
