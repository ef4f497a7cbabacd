/**
 * The rewrap engine: changes the keys of an encrypted object in S3 without downloading its body
 * ([Note: rewrap keeps the body] in core/rewrap-header.ts). HeadObject, the header read with
 * ranged GETs (If-Match on the ETag) and opened with any key the user holds, a new header with
 * the EDKs kept, removed and added, then the plan of [Note: rewrap plan]: one PutObject with
 * If-Match for a small object, else a multipart upload whose part 1 is the new header plus 5 MiB
 * of ciphertext and whose other parts are copied inside S3 (rewrap-multipart.ts). The object is
 * replaced atomically on success and untouched on any failure or cancel; the content headers,
 * user metadata and SSE-at-rest settings are kept, and the model badge is updated.
 *
 * With `destinationKey` the object is moved, bound to its new key ([Note: move by rewrap] in
 * rewrap-move.ts). With a store, a multipart rewrap stopped by the network or a killed process resumes
 * ([Note: rewrap resume] in rewrap-resume.ts). Not yet: object tags and
 * ACLs (the new object has the bucket's defaults), SSE-C objects (REWRAP_UNSUPPORTED_OBJECT).
 */
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  VeilError,
  concatBytes,
  removingLinks,
  rewrapHeader,
  toBase64,
  tryParseHeader,
} from '../core';
import type { MessageHeader, RewrappedHeader } from '../core';
import { crc32, crc32Base64 } from './crc32';
import { SNIFF_BYTES, classifyObject, nextHeaderRange } from './download-plan';
import { FIRST_HEADER_BYTES } from './download-setup';
import { rewrapMultipart, type RecordDraft, type WrittenObject } from './rewrap-multipart';
import { deleteMovedSource, moveByCopy, movesAsCopy } from './rewrap-move';
import {
  checkRewrapSetup,
  isMove,
  replacementParams,
  targetKey,
  writeCondition,
  type RewrapResult,
  type RewrapSetup,
} from './rewrap-options';
import {
  DEFAULT_COPY_PART_BYTES,
  DEFAULT_PUT_MAX_BYTES,
  planRewrap,
  type MultipartPlan,
  type PutPlan,
} from './rewrap-plan';
import type { RewrapHead } from './rewrap-s3';
import { RewrapSession } from './rewrap-session';
import { toStoredEdk } from './rewrap-store';
import { versionsOf } from './rewrap-versions';

/** The old object as the opening found it. */
interface OpenedSource {
  readonly head: RewrapHead;
  readonly etag: string;
  readonly header: MessageHeader;
  /** The object's first bytes read so far (at least the header; all of a small object). */
  readonly firstBytes: Uint8Array;
}

/**
 * Rewraps one object: see the file comment. The keys are changed as `setup` says: EDKs named
 * in `remove` are dropped, those `addWith` wraps are appended, all others stay verbatim.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for a bad setup; REWRAP_NOT_A_MESSAGE,
 *   REWRAP_SIGNED_MESSAGE, REWRAP_UNSUPPORTED_OBJECT, REWRAP_KEY_NOT_FOUND, REWRAP_LAST_KEY,
 *   REWRAP_WOULD_LOCK_OUT (checked before any write),
 *   REWRAP_SOURCE_CHANGED, REWRAP_CANCELLED; the header's parse errors, the keyrings' errors
 *   (NO_MATCHING_EDK, WRONG_KEY, HEADER_TAMPERED, KMS_*, HSM_*), and the S3 codes of withRetry
 *   (S3_REJECTED names the operation refused, e.g. "rewrap UploadPartCopy: AccessDenied").
 */
export async function rewrapObject(setup: RewrapSetup): Promise<RewrapResult> {
  checkRewrapSetup(setup);
  const session = new RewrapSession(setup);
  try {
    session.checkCancelled();
    session.report('opening');
    const source = await openSource(session).catch((error: unknown) => {
      if (movesAsCopy(setup, error)) return undefined;
      throw error;
    });
    if (source === undefined) return await moveByCopy(session);
    // A move drops the file's share links ([Note: a move ends its links] in core/rewrap-keys.ts).
    const remove = isMove(setup) ? removingLinks(source.header, setup.remove ?? []) : setup.remove;
    const rewrapped = await rewrapHeader(source.header, {
      openWith: setup.openWith,
      ...(setup.addWith ? { addWith: setup.addWith } : {}),
      ...(remove && remove.length > 0 ? { remove } : {}),
      ...(setup.canOpenWith ? { canOpenWith: setup.canOpenWith } : {}),
      ...(setup.reEncrypt ? { reEncrypt: setup.reEncrypt } : {}),
      ...(setup.maxEncryptedDataKeys === undefined
        ? {}
        : { maxEncryptedDataKeys: setup.maxEncryptedDataKeys }),
      location: {
        from: { bucket: setup.bucket, key: setup.key },
        to: { bucket: setup.bucket, key: targetKey(setup) },
        rule: setup.bindingRule ?? 'if-present',
      },
    });
    session.checkCancelled();
    const plan = planRewrap({
      objectBytes: source.head.contentLength,
      oldHeaderBytes: source.header.headerBytes,
      newHeaderBytes: rewrapped.headerBytes.length,
      ...(setup.putMaxBytes === undefined ? {} : { putMaxBytes: setup.putMaxBytes }),
      ...(setup.copyPartBytes === undefined ? {} : { copyPartBytes: setup.copyPartBytes }),
    });
    session.sentTotalBytes = plan.sentBytes;
    session.copyTotalBytes = plan.copiedBytes;
    const params = replacementParams(source.head, rewrapped.header, setup.model);
    const written =
      plan.method === 'put'
        ? await putWhole(session, source, plan, rewrapped.headerBytes, params)
        : await rewrapMultipart(session, {
            plan,
            headerBytes: rewrapped.headerBytes,
            etag: source.etag,
            versionId: source.head.versionId,
            params,
            // A move keeps no resume record ([Note: move by rewrap] in rewrap-move.ts).
            ...(setup.store && !isMove(setup)
              ? { record: recordDraft(source, rewrapped, plan, setup) }
              : {}),
          });
    const movedFrom = isMove(setup)
      ? { key: setup.key, deleted: await deleteMovedSource(session, source.etag) }
      : undefined;
    session.report('done');
    return {
      bucket: setup.bucket,
      key: targetKey(setup),
      ...(movedFrom ? { movedFrom } : {}),
      method: plan.method,
      partCount: plan.method === 'put' ? 1 : plan.partCount,
      etag: written.etag,
      oldEtag: source.etag,
      ...versionsOf(source.head.versionId, written.versionId),
      objectBytes: plan.newObjectBytes,
      oldObjectBytes: plan.oldObjectBytes,
      header: rewrapped.header,
      removed: rewrapped.removed,
      added: rewrapped.added,
      ...(rewrapped.stillOpensWith ? { stillOpensWith: rewrapped.stillOpensWith } : {}),
      ...(rewrapped.addedBy ? { addedBy: rewrapped.addedBy } : {}),
      receivedBytes: session.receivedBytes,
      sentBytes: session.sentBytes,
      copiedBytes: session.copiedBytes,
    };
  } catch (error) {
    throw session.explain(error);
  }
}

/**
 * HeadObject and the header: the first GET reads the whole object when it is small enough to be
 * put again, else FIRST_HEADER_BYTES, grown until the header parses; every GET carries If-Match.
 */
async function openSource(session: RewrapSession<RewrapSetup>): Promise<OpenedSource> {
  const { s3, bucket, key } = session.setup;
  const head = await session.send('HeadObject', (signal) => s3.headObject(bucket, key, signal));
  session.sourceSeen = true;
  if (head.sseCustomerAlgorithm) {
    throw new VeilError('REWRAP_UNSUPPORTED_OBJECT', `SSE-C (${head.sseCustomerAlgorithm})`);
  }
  const objectBytes = head.contentLength;
  if (objectBytes === 0) throw new VeilError('REWRAP_NOT_A_MESSAGE', 'the object is empty');
  const putMaxBytes = session.setup.putMaxBytes ?? DEFAULT_PUT_MAX_BYTES;
  const firstEnd = objectBytes <= putMaxBytes ? objectBytes : FIRST_HEADER_BYTES;
  // Some S3 stand-ins (moto) apply CORS to GET but not HEAD: then the first GET's ETag is used,
  // and its size must be HEAD's (download-open.ts does the same).
  const first = await session.send('GetObject', (signal) =>
    s3.getRange(
      { bucket, key, startBytes: 0, endBytes: Math.min(objectBytes, firstEnd), ifMatch: head.etag },
      signal,
    ),
  );
  session.receivedBytes += first.bytes.length;
  const etag = head.etag ?? first.etag;
  if (!etag) {
    throw new VeilError('DOWNLOAD_CORS_HEADERS', 'rewrap: the ETag of the object is not readable');
  }
  if (first.totalBytes !== undefined && first.totalBytes !== objectBytes) {
    throw new VeilError('REWRAP_SOURCE_CHANGED', 'rewrap GetObject: the size differs from HEAD');
  }
  const metadata =
    head.metadata && Object.keys(head.metadata).length > 0 ? head.metadata : first.metadata;
  if (classifyObject(metadata, first.bytes.subarray(0, SNIFF_BYTES)) === 'plain') {
    throw new VeilError('REWRAP_NOT_A_MESSAGE', 'neither its metadata nor its first bytes');
  }
  let fetched = first.bytes;
  for (;;) {
    const parsed = tryParseHeader(fetched, {
      maxEncryptedDataKeys: Math.max(
        DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        session.setup.maxEncryptedDataKeys ?? 0,
      ),
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    });
    if ('header' in parsed) {
      return { head: { ...head, metadata }, etag, header: parsed.header, firstBytes: fetched };
    }
    const next = nextHeaderRange(fetched.length, parsed.needBytes, objectBytes);
    const more = await session.send('GetObject', (signal) =>
      s3.getRange(
        { bucket, key, startBytes: fetched.length, endBytes: next, ifMatch: etag },
        signal,
      ),
    );
    session.receivedBytes += more.bytes.length;
    fetched = concatBytes(fetched, more.bytes);
  }
}

/** The small way: one PutObject of the new header and the whole body, If-Match the old ETag. */
async function putWhole(
  session: RewrapSession<RewrapSetup>,
  source: OpenedSource,
  plan: PutPlan,
  headerBytes: Uint8Array,
  params: ReturnType<typeof replacementParams>,
): Promise<WrittenObject> {
  const { s3, bucket, key } = session.setup;
  let body: Uint8Array;
  if (source.firstBytes.length >= plan.body.endBytes) {
    body = source.firstBytes.subarray(plan.body.startBytes, plan.body.endBytes);
  } else {
    const read = await session.send('GetObject', (signal) =>
      s3.getRange({ bucket, key, ...plan.body, ifMatch: source.etag }, signal),
    );
    session.receivedBytes += read.bytes.length;
    body = read.bytes;
  }
  if (body.length !== plan.body.endBytes - plan.body.startBytes) {
    throw new VeilError('REWRAP_SOURCE_CHANGED', 'rewrap GetObject: the body came back short');
  }
  const whole = concatBytes(headerBytes, body);
  session.report('sending');
  const checksum = crc32Base64(crc32(whole));
  const reply = await session.send('PutObject', (signal) =>
    s3.putObject(
      {
        Bucket: bucket,
        Key: targetKey(session.setup),
        Body: whole,
        ContentLength: whole.length,
        ChecksumAlgorithm: 'CRC32',
        ChecksumCRC32: checksum,
        ...writeCondition(session.setup, source.etag),
        ...params,
      },
      signal,
    ),
  );
  session.sentBytes += whole.length;
  return { etag: reply.ETag, versionId: reply.VersionId };
}

/** What the resume record of a multipart rewrap holds ([Note: no secret in the rewrap record]). */
function recordDraft(
  source: OpenedSource,
  rewrapped: RewrappedHeader,
  plan: MultipartPlan,
  setup: RewrapSetup,
): RecordDraft {
  return {
    bucket: setup.bucket,
    key: setup.key,
    sourceEtag: source.etag,
    ...(source.head.versionId ? { sourceVersionId: source.head.versionId } : {}),
    oldObjectBytes: plan.oldObjectBytes,
    oldHeaderBytes: source.header.headerBytes,
    newHeader: toBase64(rewrapped.headerBytes),
    putMaxBytes: setup.putMaxBytes ?? DEFAULT_PUT_MAX_BYTES,
    copyPartBytes: setup.copyPartBytes ?? DEFAULT_COPY_PART_BYTES,
    removed: rewrapped.removed.map(toStoredEdk),
    added: rewrapped.added.map(toStoredEdk),
    ...(rewrapped.stillOpensWith ? { stillOpensWith: rewrapped.stillOpensWith } : {}),
    ...(rewrapped.addedBy ? { addedBy: rewrapped.addedBy } : {}),
  };
}
