/**
 * The message header, format version 2 (FORMAT.md section 2): serialization for the writer and an
 * incremental parser for the reader that fails as soon as a field is wrong (e.g. too many EDKs)
 * and otherwise asks for more bytes.
 */
import { concatBytes, fromUtf8, readU16, readU32, u16, u32, utf8 } from './bytes';
import { VeilError } from './errors';
import { parseEncryptionContext, serializeEncryptionContext } from './encryption-context';
import type { EncryptionContext } from './encryption-context';
import type { EncryptedDataKey } from './keyring';
import { HEADER_AUTH_TAG_BYTES, MESSAGE_ID_BYTES, committingSuite } from './suites';
import type { CommittingSuiteId } from './suites';

/** Content type byte: framed (the only one Veil writes) or non-framed (legacy, read only). */
export type ContentType = 'framed' | 'non-framed';

/** A parsed or built v2 header. */
export interface MessageHeader {
  readonly version: 2;
  readonly suiteId: CommittingSuiteId;
  /** 32 random bytes; the HKDF salt and part of every frame AAD. */
  readonly messageId: Uint8Array;
  /** The EC stored in the header. */
  readonly encryptionContext: EncryptionContext;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  readonly contentType: ContentType;
  /** Plaintext bytes per regular frame; 0 for non-framed content. */
  readonly frameBytes: number;
  /** The commit key (header field 10). */
  readonly commitKey: Uint8Array;
  /** The serialized header body (fields 1-10), the AAD of the header auth tag. */
  readonly headerBody: Uint8Array;
  /** The 16-byte header auth tag. */
  readonly headerAuthTag: Uint8Array;
  /** Bytes of header body plus auth tag: where the body starts in the message. */
  readonly headerBytes: number;
}

/** Limits the reader enforces while parsing. */
export interface HeaderLimits {
  /** Most EDKs accepted, checked as soon as the count is read. */
  readonly maxEncryptedDataKeys: number;
  /** Largest frame length accepted (bytes); bounds memory per frame. */
  readonly maxFrameBytes: number;
}

/** Most EDKs a reader accepts unless told otherwise. */
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 16;
/** Largest frame length a reader accepts unless told otherwise (64 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** What the writer puts in a header. */
export interface HeaderFields {
  readonly suiteId: CommittingSuiteId;
  readonly messageId: Uint8Array;
  readonly encryptionContext: EncryptionContext;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  readonly frameBytes: number;
  readonly commitKey: Uint8Array;
}

/**
 * Serializes header fields 1-10 (framed content). The auth tag is computed separately.
 * @throws VeilError OUT_OF_RANGE when an EDK field exceeds 65535 bytes or there are no EDKs.
 */
export function serializeHeaderBody(fields: HeaderFields): Uint8Array {
  const context = serializeEncryptionContext(fields.encryptionContext);
  const edkCount = fields.encryptedDataKeys.length;
  if (edkCount < 1 || edkCount > 0xffff) throw new VeilError('OUT_OF_RANGE', 'EDK count');
  const parts: Uint8Array[] = [
    Uint8Array.of(0x02),
    u16(fields.suiteId),
    fields.messageId,
    u16(context.length),
    context,
    u16(edkCount),
  ];
  for (const edk of fields.encryptedDataKeys) {
    const providerId = utf8(edk.providerId);
    for (const field of [providerId, edk.providerInfo, edk.ciphertext]) {
      if (field.length > 0xffff) throw new VeilError('OUT_OF_RANGE', 'EDK field over 65535 bytes');
      parts.push(u16(field.length), field);
    }
  }
  parts.push(Uint8Array.of(0x02), u32(fields.frameBytes), fields.commitKey);
  return concatBytes(...parts);
}

/** Thrown internally when the buffer ends before the header does. */
class NeedMoreBytes extends Error {
  constructor(readonly needBytes: number) {
    super('need more bytes');
  }
}

/** A bounds-checked cursor over the bytes received so far. */
class Cursor {
  offsetBytes = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(lengthBytes: number): Uint8Array {
    const endBytes = this.offsetBytes + lengthBytes;
    if (endBytes > this.bytes.length) throw new NeedMoreBytes(endBytes);
    const field = this.bytes.subarray(this.offsetBytes, this.offsetBytes + lengthBytes);
    this.offsetBytes += lengthBytes;
    return field;
  }
  u8(): number {
    return this.take(1)[0] ?? 0;
  }
  u16(): number {
    return readU16(this.take(2), 0);
  }
  u32(): number {
    return readU32(this.take(4), 0);
  }
  lengthPrefixed(): Uint8Array {
    return this.take(this.u16());
  }
}

/**
 * Identifies the version and suite from the first bytes, rejecting what Veil does not read.
 * @throws VeilError BASE64_INPUT, UNSUPPORTED_VERSION, NON_COMMITTING_SUITE, UNSUPPORTED_SUITE.
 */
function checkVersionAndSuite(bytes: Uint8Array): void {
  const version = bytes[0];
  if (version === undefined) return;
  // 'A' then 'g': a v2 message in base64 starts with "AgR4" or "AgV4".
  if (version === 0x41 && (bytes.length < 2 || bytes[1] === 0x67)) {
    throw new VeilError('BASE64_INPUT');
  }
  if (version === 0x01) {
    // v1: version, type 0x80, suite id. Every v1 suite is non-committing or unknown.
    if (bytes.length < 4) return;
    committingSuite(readU16(bytes, 2));
    throw new VeilError('UNSUPPORTED_SUITE', 'a version 1 message with a version 2 suite');
  }
  if (version !== 0x02) {
    throw new VeilError('UNSUPPORTED_VERSION', `version byte 0x${version.toString(16)}`);
  }
}

/**
 * Parses a v2 header and its auth tag from the start of `bytes`; extra bytes after the header
 * are ignored. When the header is incomplete, says how many bytes (from the start) the next
 * field needs, so a streaming reader waits for them instead of re-parsing every chunk.
 * Nothing of a parsed header may be trusted before its auth tag is verified (see message.ts).
 * @throws VeilError UNSUPPORTED_VERSION, NON_COMMITTING_SUITE, UNSUPPORTED_SUITE, MALFORMED,
 *   TOO_MANY_EDKS, FRAME_TOO_LARGE, BASE64_INPUT.
 */
export function tryParseHeader(
  bytes: Uint8Array,
  limits: HeaderLimits,
): { readonly header: MessageHeader } | { readonly needBytes: number } {
  checkVersionAndSuite(bytes);
  const cursor = new Cursor(bytes);
  try {
    cursor.u8();
    const suite = committingSuite(cursor.u16());
    const messageId = cursor.take(MESSAGE_ID_BYTES);
    const encryptionContext = parseEncryptionContext(cursor.lengthPrefixed());
    const edkCount = cursor.u16();
    if (edkCount === 0) throw new VeilError('MALFORMED', 'the header has no encrypted data key');
    if (edkCount > limits.maxEncryptedDataKeys) {
      throw new VeilError('TOO_MANY_EDKS', `${edkCount} > ${limits.maxEncryptedDataKeys}`);
    }
    const encryptedDataKeys: EncryptedDataKey[] = [];
    for (let i = 0; i < edkCount; i++) {
      const providerId = fromUtf8(cursor.lengthPrefixed(), 'an EDK provider id');
      const providerInfo = cursor.lengthPrefixed().slice();
      const ciphertext = cursor.lengthPrefixed().slice();
      encryptedDataKeys.push({ providerId, providerInfo, ciphertext });
    }
    const contentTypeByte = cursor.u8();
    const frameBytes = cursor.u32();
    let contentType: ContentType;
    if (contentTypeByte === 0x02) {
      contentType = 'framed';
      if (frameBytes === 0) throw new VeilError('MALFORMED', 'framed content with frame length 0');
      if (frameBytes > limits.maxFrameBytes) {
        throw new VeilError('FRAME_TOO_LARGE', `${frameBytes} > ${limits.maxFrameBytes} bytes`);
      }
    } else if (contentTypeByte === 0x01) {
      contentType = 'non-framed';
      if (frameBytes !== 0)
        throw new VeilError('MALFORMED', 'non-framed content with a frame length');
    } else {
      throw new VeilError('MALFORMED', `content type 0x${contentTypeByte.toString(16)}`);
    }
    const commitKey = cursor.take(suite.commitKeyBytes).slice();
    const headerBodyBytes = cursor.offsetBytes;
    const headerAuthTag = cursor.take(HEADER_AUTH_TAG_BYTES).slice();
    const header: MessageHeader = {
      version: 2,
      suiteId: suite.id,
      messageId: messageId.slice(),
      encryptionContext,
      encryptedDataKeys,
      contentType,
      frameBytes,
      commitKey,
      headerBody: bytes.slice(0, headerBodyBytes),
      headerAuthTag,
      headerBytes: cursor.offsetBytes,
    };
    return { header };
  } catch (error) {
    if (error instanceof NeedMoreBytes) return { needBytes: error.needBytes };
    throw error;
  }
}
