/**
 * Resuming a rewrap that stopped ([Note: rewrap resume]): resumeRewrap, discardRewrap and
 * findRewraps over a RewrapStore (rewrap-store.ts).
 *
 * [Note: rewrap resume] A multipart rewrap run with a store saves a record before its first part
 * ([Note: no secret in the rewrap record]); a failure S3 may get over (S3_UNREACHABLE,
 * S3_RETRIES_EXHAUSTED, CREDENTIALS_EXPIRED) keeps the upload and the record, as does a killed
 * process. The old object is untouched meanwhile: nothing replaces it before Complete. A resume
 * needs no key: the new header is in the record, already written and authenticated by the run
 * that opened the old one, and nothing is encrypted again (part 1 is the new header plus
 * ciphertext read from the old object, so sending it again reuses no nonce). It:
 * 1. HEADs the object: another ETag means it changed (REWRAP_SOURCE_CHANGED: the upload is
 *    aborted and the record deleted), unless the object is this rewrap's own result, completed
 *    by a Complete whose answer was lost (its first bytes are the new header: then it is done);
 * 2. reads the old header (If-Match) and checks that the record's new header is for the same
 *    body: suite, message id, encryption context, content type, frame length and commit key;
 * 3. asks ListParts what S3 holds (when the seam can), else trusts the record, and keeps the
 *    parts whose size matches the plan;
 * 4. sends what is missing and completes as a new run does (finishMultipart), with the same
 *    last look at the source and the same rule on failure: resumable keeps, anything else or a
 *    cancel aborts and deletes the record.
 * An upload S3 no longer knows (aborted, expired by a lifecycle rule) or a record that does not
 * match fails with REWRAP_RESUME_GONE and the record is deleted: the change is run again.
 */
import type { CompletedPart } from '@aws-sdk/client-s3';
import { VeilError, errorName, fromBase64, needs, parseHeaderBytes } from '../core';
import { serializeEncryptionContext, type MessageHeader } from '../core';
import { abortRewrapUpload, finishMultipart } from './rewrap-multipart';
import type { RewrapResult, RewrapRunSetup } from './rewrap-options';
import { MIN_PART_BYTES, planRewrap, type MultipartPlan } from './rewrap-plan';
import type { RewrapHead } from './rewrap-s3';
import { RESUMABLE_REWRAP_CODES, RewrapSession } from './rewrap-session';
import { RewrapLedger, fromStoredEdk, type RewrapRecord, type RewrapStore } from './rewrap-store';
import { versionsOf } from './rewrap-versions';

/** A header may name at most 65,535 EDKs (a u16); the record's was written by this engine. */
const ANY_EDK_COUNT = 0xffff;
const ANY_FRAME_BYTES = 0xffffffff;

/** What resumeRewrap needs: the seam, the store and the record's id, and the run's options. */
export interface RewrapResumeSetup extends Omit<RewrapRunSetup, 'bucket' | 'key' | 'store'> {
  readonly store: RewrapStore;
  /** The record's id (the upload id), as findRewraps lists it. */
  readonly id: string;
}

/** The unfinished rewraps of `bucket` (and `key`, when given), oldest first. */
export async function findRewraps(
  store: RewrapStore,
  bucket: string,
  key?: string,
): Promise<RewrapRecord[]> {
  const records = await store.list();
  return records.filter((r) => r.bucket === bucket && (key === undefined || r.key === key));
}

/**
 * Resumes an unfinished rewrap ([Note: rewrap resume]). No key is given, so `result.header` is
 * the record's header, checked to front the same body but not authenticated again (the run that
 * wrote it did).
 * @throws VeilError BAD_ARGUMENT for a bad setup; REWRAP_RESUME_GONE (no record, the upload is
 *   gone, or the record does not match the object); REWRAP_SOURCE_CHANGED; REWRAP_CANCELLED;
 *   the S3 codes of withRetry (the resumable ones keep the record for another resume).
 */
export async function resumeRewrap(setup: RewrapResumeSetup): Promise<RewrapResult> {
  // Precondition: a seam, a store and a record id.
  needs(typeof setup?.s3?.headObject === 'function', 'BAD_ARGUMENT', 's3');
  needs(typeof setup.store?.get === 'function', 'BAD_ARGUMENT', 'store');
  needs(typeof setup.id === 'string' && setup.id.length > 0, 'BAD_ARGUMENT', 'id');
  const record = await setup.store.get(setup.id);
  if (!record) throw new VeilError('REWRAP_RESUME_GONE', 'no record of this id');
  const session = new RewrapSession({ ...setup, bucket: record.bucket, key: record.key });
  const headerBytes = fromBase64(record.newHeader, 'newHeader');
  let header: MessageHeader;
  let plan: MultipartPlan;
  let done: Map<number, CompletedPart>;
  try {
    session.checkCancelled();
    session.report('opening');
    header = parseHeaderBytes(headerBytes, {
      maxEncryptedDataKeys: ANY_EDK_COUNT,
      maxFrameBytes: ANY_FRAME_BYTES,
    });
    const planned = planRewrap({
      objectBytes: record.oldObjectBytes,
      oldHeaderBytes: record.oldHeaderBytes,
      newHeaderBytes: headerBytes.length,
      putMaxBytes: record.putMaxBytes,
      copyPartBytes: record.copyPartBytes,
    });
    if (planned.method !== 'multipart') throw gone('the record plans no multipart upload');
    plan = planned;
    session.sourceSeen = true;
    const head = await withEtag(
      session,
      await session.send('HeadObject', (signal) =>
        session.setup.s3.headObject(record.bucket, record.key, signal),
      ),
    );
    if (head.etag !== record.sourceEtag) {
      if (await isOwnResult(session, head, headerBytes, plan)) {
        await setup.store.delete(record.id).catch(() => undefined);
        return resultOf(record, header, plan, session, {
          etag: head.etag,
          versionId: head.versionId,
        });
      }
      throw new VeilError('REWRAP_SOURCE_CHANGED', 'rewrap resume HeadObject: the ETag differs');
    }
    await checkSameBody(session, record, header);
    done = await partsDone(session, record, plan);
  } catch (error) {
    throw await settle(session, record, setup.store, error);
  }
  session.sentTotalBytes = done.has(1) ? 0 : plan.sentBytes;
  session.copyTotalBytes = plan.copies
    .filter((part) => !done.has(part.partNumber))
    .reduce((sum, part) => sum + part.range.endBytes - part.range.startBytes, 0);
  const parts = [...done.values()].map((part) => ({
    partNumber: part.PartNumber ?? 0,
    etag: part.ETag ?? '',
    ...(part.ChecksumCRC32 ? { checksumCrc32: part.ChecksumCRC32 } : {}),
  }));
  const ledger = RewrapLedger.resume(setup.store, { ...record, parts });
  const written = await finishMultipart(
    session,
    {
      plan,
      headerBytes,
      etag: record.sourceEtag,
      versionId: record.sourceVersionId,
      params: {},
    },
    record.uploadId,
    done,
    ledger,
  );
  session.report('done');
  return resultOf(record, header, plan, session, written);
}

/**
 * Abandons an unfinished rewrap: aborts its upload (best effort) and deletes its record. The
 * object is left as it was.
 */
export async function discardRewrap(
  setup: Pick<RewrapResumeSetup, 's3' | 'store' | 'id' | 'retry' | 'retryHooks'>,
): Promise<void> {
  const record = await setup.store.get(setup.id);
  if (!record) return;
  const session = new RewrapSession({ ...setup, bucket: record.bucket, key: record.key });
  await abortRewrapUpload(session, record.uploadId);
  await setup.store.delete(record.id);
}

/** Byte equality (of nothing secret: headers, message ids, commit keys). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** REWRAP_RESUME_GONE with `detail`. */
function gone(detail: string, cause?: unknown): VeilError {
  return new VeilError('REWRAP_RESUME_GONE', detail, { cause });
}

/**
 * What a failure before the parts leaves: a resumable one keeps the upload and the record;
 * REWRAP_RESUME_GONE deletes the record; anything else (a changed source, a cancel) aborts the
 * upload and deletes the record.
 */
async function settle(
  session: RewrapSession,
  record: RewrapRecord,
  store: RewrapStore,
  error: unknown,
): Promise<VeilError> {
  const explained = session.explain(error);
  if (RESUMABLE_REWRAP_CODES.has(explained.code)) return explained;
  if (explained.code !== 'REWRAP_RESUME_GONE') {
    await abortRewrapUpload(session, record.uploadId);
  }
  await store.delete(record.id).catch(() => undefined);
  return explained;
}

/** True when the object is this rewrap's result: its size, and its first bytes the new header. */
/**
 * HEAD's answer with the object's ETag: some S3 stand-ins (moto) apply CORS to GET but not HEAD,
 * so a page may not read HEAD's ETag; then a one-byte GET tells it (openSource in rewrap.ts and
 * download-open.ts do the same). Without it every resume would look like a changed source.
 */
async function withEtag(session: RewrapSession, head: RewrapHead): Promise<RewrapHead> {
  if (head.etag !== undefined || head.contentLength === 0) return head;
  const { s3, bucket, key } = session.setup;
  const read = await session.send('GetObject', (signal) =>
    s3.getRange({ bucket, key, startBytes: 0, endBytes: 1, ifMatch: undefined }, signal),
  );
  session.receivedBytes += read.bytes.length;
  return { ...head, etag: read.etag };
}

async function isOwnResult(
  session: RewrapSession,
  head: RewrapHead,
  headerBytes: Uint8Array,
  plan: MultipartPlan,
): Promise<boolean> {
  if (head.contentLength !== plan.newObjectBytes) return false;
  const { s3, bucket, key } = session.setup;
  const read = await session.send('GetObject', (signal) =>
    s3.getRange(
      { bucket, key, startBytes: 0, endBytes: headerBytes.length, ifMatch: head.etag },
      signal,
    ),
  );
  session.receivedBytes += read.bytes.length;
  return read.bytes.length === headerBytes.length && sameBytes(read.bytes, headerBytes);
}

/**
 * Reads the old header (If-Match the record's ETag) and checks that the record's new header
 * fronts the same body ([Note: rewrap keeps the body]).
 * @throws VeilError REWRAP_RESUME_GONE when it does not.
 */
async function checkSameBody(
  session: RewrapSession,
  record: RewrapRecord,
  header: MessageHeader,
): Promise<void> {
  const { s3, bucket, key } = session.setup;
  const read = await session.send('GetObject', (signal) =>
    s3.getRange(
      { bucket, key, startBytes: 0, endBytes: record.oldHeaderBytes, ifMatch: record.sourceEtag },
      signal,
    ),
  );
  session.receivedBytes += read.bytes.length;
  const old = parseHeaderBytes(read.bytes, {
    maxEncryptedDataKeys: ANY_EDK_COUNT,
    maxFrameBytes: ANY_FRAME_BYTES,
  });
  const sameContext = sameBytes(
    serializeEncryptionContext(old.encryptionContext),
    serializeEncryptionContext(header.encryptionContext),
  );
  const same =
    old.headerBytes === record.oldHeaderBytes &&
    old.suiteId === header.suiteId &&
    old.contentType === header.contentType &&
    old.frameBytes === header.frameBytes &&
    sameBytes(old.messageId, header.messageId) &&
    sameBytes(old.commitKey, header.commitKey) &&
    sameContext;
  if (!same) throw gone('the record’s header is not for this object’s body');
}

/**
 * The parts already in S3: ListParts (all pages) when the seam has it, else the record's. A part
 * counts only when its size is the plan's (ListParts tells) and it has an ETag.
 * @throws VeilError REWRAP_RESUME_GONE when S3 no longer knows the upload.
 */
async function partsDone(
  session: RewrapSession,
  record: RewrapRecord,
  plan: MultipartPlan,
): Promise<Map<number, CompletedPart>> {
  const { s3, bucket, key } = session.setup;
  const sizes = new Map<number, number>([[1, MIN_PART_BYTES]]);
  for (const part of plan.copies)
    sizes.set(part.partNumber, part.range.endBytes - part.range.startBytes);
  const done = new Map<number, CompletedPart>();
  if (!s3.listParts) {
    for (const part of record.parts) {
      if (!sizes.has(part.partNumber)) continue;
      done.set(part.partNumber, {
        PartNumber: part.partNumber,
        ETag: part.etag,
        ...(part.checksumCrc32 ? { ChecksumCRC32: part.checksumCrc32 } : {}),
      });
    }
    return done;
  }
  const listParts = s3.listParts.bind(s3);
  let marker: string | undefined;
  for (;;) {
    const page = await session
      .send('ListParts', (signal) =>
        listParts(
          {
            Bucket: bucket,
            Key: key,
            UploadId: record.uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          },
          signal,
        ),
      )
      .catch((error: unknown) => {
        const answer = error instanceof VeilError ? error.cause : error;
        if (errorName(answer) === 'NoSuchUpload') throw gone('S3 no longer has the upload', answer);
        throw error;
      });
    for (const part of page.Parts ?? []) {
      const number = part.PartNumber ?? 0;
      if (!part.ETag || sizes.get(number) !== part.Size) continue;
      const recorded = record.parts.find((p) => p.partNumber === number && p.etag === part.ETag);
      const checksum = part.ChecksumCRC32 ?? recorded?.checksumCrc32;
      done.set(number, {
        PartNumber: number,
        ETag: part.ETag,
        ...(checksum ? { ChecksumCRC32: checksum } : {}),
      });
    }
    if (!page.IsTruncated || !page.NextPartNumberMarker) return done;
    marker = page.NextPartNumberMarker;
  }
}

/** The result of a resumed rewrap; byte counts are this run's. */
function resultOf(
  record: RewrapRecord,
  header: MessageHeader,
  plan: MultipartPlan,
  session: RewrapSession,
  written: { etag: string | undefined; versionId: string | undefined },
): RewrapResult {
  return {
    bucket: record.bucket,
    key: record.key,
    method: 'multipart',
    partCount: plan.partCount,
    etag: written.etag,
    oldEtag: record.sourceEtag,
    ...versionsOf(record.sourceVersionId, written.versionId),
    objectBytes: plan.newObjectBytes,
    oldObjectBytes: plan.oldObjectBytes,
    header,
    removed: record.removed.map(fromStoredEdk),
    added: record.added.map(fromStoredEdk),
    ...(record.stillOpensWith ? { stillOpensWith: record.stillOpensWith } : {}),
    ...(record.addedBy ? { addedBy: record.addedBy } : {}),
    receivedBytes: session.receivedBytes,
    sentBytes: session.sentBytes,
    copiedBytes: session.copiedBytes,
  };
}
