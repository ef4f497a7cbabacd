/**
 * Everything before the body ([Note: download pipeline] in download.ts): HeadObject, the first
 * ranged GET, the sniff that tells a plain object from an ESDK message, the header range grown
 * until the header parses, the keyring, and the check that the body's layout and final frame
 * agree with the header ([Note: body layout from the object size] in download-plan.ts). What it
 * learns decides the reader: plain chunks, the framed ranged reader or the decrypt stream.
 */
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  SUITE_COMMIT_KEY,
  VeilError,
  checkLocation,
  openMessageKeys,
  tryParseHeader,
} from '../core';
import type { MessageHeader } from '../core';
import { corsRuleFor } from './cors';
import {
  SNIFF_BYTES,
  bodyLayout,
  classifyObject,
  finalFrameMatches,
  frameOffsetBytes,
  nextHeaderRange,
} from './download-plan';
import type { ObjectHead } from './download-s3';
import { sameEtag, type DownloadSession } from './download-session';
import { FIRST_HEADER_BYTES, type OpenedObject } from './download-setup';

/**
 * HeadObject, the header, the keyring: what the object is and how to read it.
 * @throws VeilError in download codes (see downloadObject), before any body byte is read.
 */
export async function openObject(session: DownloadSession): Promise<OpenedObject> {
  try {
    return await open(session);
  } catch (error) {
    throw session.explain(error);
  }
}

async function open(session: DownloadSession): Promise<OpenedObject> {
  const { s3, bucket, key, resumeFrom } = session.setup;
  const head: ObjectHead = await session.send((signal) => s3.headObject(bucket, key, signal));
  const objectBytes = head.contentLength;
  const corsError = (): VeilError =>
    new VeilError(
      'DOWNLOAD_CORS_HEADERS',
      `cannot read ETag; add this rule: ${JSON.stringify(corsRuleFor(session.origin))}`,
    );
  if (objectBytes === 0) {
    // An empty object whose metadata names an encrypted message was cut, not uploaded empty
    // (an empty file's message still has a header and a final frame).
    if (head.metadata?.['veil-format']?.startsWith('esdk')) {
      throw new VeilError('TRUNCATED', 'the object is empty but its metadata names a message');
    }
    refusePlain(session, 'an empty object');
    if (!head.etag) throw corsError();
    if (resumeFrom && !sameEtag(head.etag, resumeFrom.etag)) {
      throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs from the interrupted one');
    }
    return {
      objectBytes,
      etag: head.etag,
      metadata: head.metadata,
      kind: 'plain',
      plaintextBytes: 0,
    };
  }
  // The first GET carries If-Match when HEAD exposed the ETag. Some S3 stand-ins (moto) apply
  // CORS to GET but not HEAD; then the first GET's ETag and metadata are used, and its
  // Content-Range total must match the HEAD size (the object did not change in between).
  const resumeEtag = resumeFrom?.etag;
  if (resumeEtag !== undefined && head.etag !== undefined && !sameEtag(head.etag, resumeEtag)) {
    throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs from the interrupted one');
  }
  const firstEtag = head.etag ?? resumeEtag;
  const first = await session.rangeReply(firstEtag, 0, Math.min(objectBytes, FIRST_HEADER_BYTES));
  const etag = firstEtag ?? first.etag;
  if (!etag) throw corsError();
  if (first.totalBytes !== undefined && first.totalBytes !== objectBytes) {
    throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the size differs between requests');
  }
  const metadata =
    head.metadata && Object.keys(head.metadata).length > 0 ? head.metadata : first.metadata;
  const base = { objectBytes, etag, metadata };
  if (classifyObject(metadata, first.bytes.subarray(0, SNIFF_BYTES)) === 'plain') {
    refusePlain(session, 'an unencrypted or non-ESDK object');
    return { ...base, kind: 'plain', plaintextBytes: objectBytes };
  }
  const header = await growHeader(session, etag, objectBytes, first.bytes);
  if (header.suiteId !== SUITE_COMMIT_KEY || header.contentType !== 'framed') {
    return { ...base, kind: 'esdk-stream', header, plaintextBytes: undefined };
  }
  const keyring = session.setup.keyring;
  if (!keyring) {
    // inspectObject without a key: the header only (nothing in it is authenticated yet).
    return { ...base, kind: 'esdk-framed', header, plaintextBytes: undefined };
  }
  const { contentKey, locationKey } = await openMessageKeys(header, { keyring });
  await checkLocation(
    header,
    locationKey,
    { bucket, key },
    session.setup.bindingRule ?? 'if-present',
  );
  const layout = bodyLayout(objectBytes, header.headerBytes, header.frameBytes);
  if (layout) {
    const finalStart = frameOffsetBytes(layout, layout.frameCount);
    const finalFrame = await session.range(etag, finalStart, objectBytes);
    if (finalFrameMatches(layout, finalFrame)) {
      return {
        ...base,
        kind: 'esdk-framed',
        header,
        layout,
        contentKey,
        plaintextBytes: layout.plaintextBytes,
      };
    }
  }
  return { ...base, kind: 'esdk-stream', header, plaintextBytes: undefined };
}

/**
 * Where every object must be an encrypted message bound to its place (a private-names location),
 * an unencrypted one is refused before a byte of it is released, whatever its metadata says.
 * @throws VeilError OBJECT_MISMATCH under bindingRule 'required'.
 */
function refusePlain(session: DownloadSession, what: string): void {
  if (session.setup.bindingRule === 'required') {
    throw new VeilError('OBJECT_MISMATCH', `${what} where only encrypted files are kept`);
  }
}

/**
 * Parses the header from the object's first bytes, fetching more (doubling, at least what the
 * parser asks for) until it parses.
 * @throws VeilError TRUNCATED when the object ends inside the header, and the parser's errors.
 */
async function growHeader(
  session: DownloadSession,
  etag: string,
  objectBytes: number,
  firstBytes: Uint8Array,
): Promise<MessageHeader> {
  let fetched = firstBytes;
  for (;;) {
    const parsed = tryParseHeader(fetched, {
      maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    });
    if ('header' in parsed) return parsed.header;
    const next = nextHeaderRange(fetched.length, parsed.needBytes, objectBytes);
    const more = await session.range(etag, fetched.length, next);
    const grown = new Uint8Array(next);
    grown.set(fetched, 0);
    grown.set(more, fetched.length);
    fetched = grown;
  }
}
