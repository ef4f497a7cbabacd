/**
 * Building a header (writer) and opening one (reader): the keyring step, key derivation, key
 * commitment and the header auth tag (FORMAT.md sections 3, 4 and 9 steps 2-5). Both return the
 * derived content key, after which every frame is independent (see frame.ts).
 */
import { asBufferSource, concatBytes, constantTimeEqual } from './bytes';
import { VeilError, needs } from './errors';
import { assertWritableContext, serializeEncryptionContext } from './encryption-context';
import type { EncryptionContext } from './encryption-context';
import type { HeaderLimits, MessageHeader } from './header';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  tryParseHeader,
  serializeHeaderBody,
} from './header';
import { deriveMessageKeys } from './kdf';
import { keysInWords } from './key-words';
import { neededKeyOf } from './provider-info';
import { keyEdks, locationEdk, type ObjectLocation } from './location';
import type { Keyring } from './keyring';
import {
  DEFAULT_FRAME_BYTES,
  MESSAGE_ID_BYTES,
  SUITE_COMMIT_KEY,
  committingSuite,
  suiteName,
} from './suites';

const ZERO_IV = new Uint8Array(12);

/** Options of a message Veil writes. */
export interface WriteOptions {
  /** Wraps the data key (Model A raw AES, a multi-keyring, ...). */
  readonly keyring: Keyring;
  /** Authenticated, stored in clear; no secrets. Keys starting `aws-crypto-` are refused. */
  readonly encryptionContext?: EncryptionContext;
  /** Plaintext bytes per frame, 1..64 MiB; default DEFAULT_FRAME_BYTES (512 KiB). */
  readonly frameBytes?: number;
  /** Most EDKs the keyring may produce (readers refuse more); default 16. */
  readonly maxEncryptedDataKeys?: number;
  /**
   * Where the object will be stored: adds the binding EDK ([Note: location binding] in
   * location.ts), which counts toward maxEncryptedDataKeys. Absent: an unbound message.
   */
  readonly location?: ObjectLocation;
}

/** A header ready to write, with what frame encryption needs. */
export interface WrittenHeader {
  readonly header: MessageHeader;
  /** Serialized header body plus auth tag: the first bytes of the message. */
  readonly headerBytes: Uint8Array;
  /** The derived non-extractable content key. */
  readonly contentKey: CryptoKey;
  /** The resume digest key ([Note: part digest key] in kdf.ts); not part of the format. */
  readonly digestKey: CryptoKey;
  /** Binds the object to its location ([Note: location key] in kdf.ts); not part of the format. */
  readonly locationKey: CryptoKey;
  readonly messageId: Uint8Array;
  readonly frameBytes: number;
}

async function headerTag(contentKey: CryptoKey, aad: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: ZERO_IV, additionalData: asBufferSource(aad), tagLength: 128 },
      contentKey,
      new Uint8Array(0),
    ),
  );
}

/**
 * Builds the header of a new 0x0478 framed message: asks the keyring for a data key and its
 * EDKs, derives the content and commit keys (the data key is zeroed right after), and computes
 * the header auth tag.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options, RESERVED_CONTEXT_KEY,
 *   CONTEXT_TOO_LARGE, KEYRING_INVALID when the keyring returns no EDK or a bad data key,
 *   TOO_MANY_EDKS beyond maxEncryptedDataKeys, and whatever the keyring throws.
 */
export async function createMessageHeader(options: WriteOptions): Promise<WrittenHeader> {
  // Precondition: a keyring object and a frame length of 1..2^32-1.
  needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
  needs(typeof options.keyring?.onEncrypt === 'function', 'BAD_ARGUMENT', 'keyring');
  const frameBytes = options.frameBytes ?? DEFAULT_FRAME_BYTES;
  needs(Number.isInteger(frameBytes), 'BAD_ARGUMENT', 'frameBytes');
  // Precondition: frames no larger than readers accept by default (64 MiB), so every Veil reader
  // opens what Veil writes; the format itself allows up to 2^32-1.
  needs(
    frameBytes >= 1 && frameBytes <= DEFAULT_MAX_FRAME_BYTES,
    'OUT_OF_RANGE',
    `frameBytes must be 1..${DEFAULT_MAX_FRAME_BYTES}`,
  );
  const maxEdks = options.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
  // Precondition: a positive EDK limit.
  needs(Number.isSafeInteger(maxEdks) && maxEdks >= 1, 'OUT_OF_RANGE', 'maxEncryptedDataKeys');
  const encryptionContext = { ...(options.encryptionContext ?? {}) };
  assertWritableContext(encryptionContext);
  serializeEncryptionContext(encryptionContext); // fail early on size

  const { dataKey, encryptedDataKeys } = await options.keyring.onEncrypt({
    suiteId: SUITE_COMMIT_KEY,
    encryptionContext,
  });
  try {
    needs(dataKey instanceof Uint8Array && dataKey.length === 32, 'KEYRING_INVALID', 'data key');
    needs(keyEdks(encryptedDataKeys).length >= 1, 'KEYRING_INVALID', 'no encrypted data key');
    const edkCount = encryptedDataKeys.length + (options.location ? 1 : 0);
    if (edkCount > maxEdks) throw new VeilError('TOO_MANY_EDKS', `${edkCount} > ${maxEdks}`);
    const messageId = crypto.getRandomValues(new Uint8Array(MESSAGE_ID_BYTES));
    const { contentKey, commitKey, digestKey, locationKey } = await deriveMessageKeys(
      SUITE_COMMIT_KEY,
      dataKey,
      messageId,
    );
    const allEdks = options.location
      ? [...encryptedDataKeys, await locationEdk(locationKey, options.location)]
      : [...encryptedDataKeys];
    const headerBody = serializeHeaderBody({
      suiteId: SUITE_COMMIT_KEY,
      messageId,
      encryptionContext,
      encryptedDataKeys: allEdks,
      frameBytes,
      commitKey,
    });
    const headerAuthTag = await headerTag(contentKey, headerBody);
    const headerBytes = concatBytes(headerBody, headerAuthTag);
    const header: MessageHeader = {
      version: 2,
      suiteId: SUITE_COMMIT_KEY,
      messageId,
      encryptionContext,
      encryptedDataKeys: allEdks,
      contentType: 'framed',
      frameBytes,
      commitKey,
      headerBody,
      headerAuthTag,
      headerBytes: headerBytes.length,
    };
    return { header, headerBytes, contentKey, digestKey, locationKey, messageId, frameBytes };
  } finally {
    if (dataKey instanceof Uint8Array) dataKey.fill(0);
  }
}

/** Options to open a message. */
export interface OpenOptions {
  /** Finds and unwraps an EDK. */
  readonly keyring: Keyring;
  /**
   * Encryption context the caller expects. Pairs present in the header must match; pairs absent
   * from it were authenticated but not stored (Required-EC CMM) and are added to the header AAD.
   */
  readonly reproducedContext?: EncryptionContext;
  /**
   * Open a signed (0x0578) header even though the caller will not check the footer signature.
   * Off by default: frames decrypted with decryptFrame are authentic under the data key, but
   * without the signature anyone who can unwrap that key could have written them. Only a caller
   * that verifies the signature itself (as createDecryptStream does) should set it.
   */
  readonly allowUnverifiedSignature?: boolean;
}

/**
 * Opens a parsed header: unwraps the data key through the keyring, derives the keys, checks key
 * commitment (constant time) and then the header auth tag. Returns the content key; only now may
 * anything in the header be trusted.
 * A signed (0x0578) header is refused with SIGNATURE_UNCHECKED unless
 * `options.allowUnverifiedSignature` is set: the frame-level API checks no signature.
 * @throws VeilError SIGNATURE_UNCHECKED, CONTEXT_MISMATCH, NO_MATCHING_EDK, WRONG_KEY,
 *   COMMITMENT_MISMATCH, HEADER_TAMPERED, and whatever the keyring throws.
 */
export async function openMessageHeader(
  header: MessageHeader,
  options: OpenOptions,
): Promise<CryptoKey> {
  return (await openMessageKeys(header, options)).contentKey;
}

/** The keys an opened header gives: the content key and the resume digest key. */
export interface OpenedKeys {
  readonly contentKey: CryptoKey;
  /** [Note: part digest key] in kdf.ts. */
  readonly digestKey: CryptoKey;
  /** Checks the object's binding ([Note: location binding] in location.ts). */
  readonly locationKey: CryptoKey;
}

/**
 * Opens a parsed header as openMessageHeader does and also returns the resume digest key, for an
 * upload that continues this message ([Note: part digest key] in kdf.ts).
 * @throws the errors of openMessageHeader.
 */
export async function openMessageKeys(
  header: MessageHeader,
  options: OpenOptions,
): Promise<OpenedKeys> {
  // Precondition: a parsed header and a keyring.
  needs(typeof header === 'object' && header !== null, 'BAD_ARGUMENT', 'header');
  needs(header.headerBody instanceof Uint8Array, 'BAD_ARGUMENT', 'header');
  needs(typeof options?.keyring?.onDecrypt === 'function', 'BAD_ARGUMENT', 'keyring');
  // Precondition: a signed suite only when the caller verifies the signature (the frame-level
  // API cannot: the signature covers the whole message).
  if (committingSuite(header.suiteId).signed && options.allowUnverifiedSignature !== true) {
    throw new VeilError('SIGNATURE_UNCHECKED', suiteName(header.suiteId));
  }
  const requiredOnly: Record<string, string> = {};
  const materialsContext: Record<string, string> = { ...header.encryptionContext };
  for (const [key, value] of Object.entries(options.reproducedContext ?? {})) {
    if (Object.hasOwn(header.encryptionContext, key)) {
      if (header.encryptionContext[key] !== value) throw new VeilError('CONTEXT_MISMATCH', key);
    } else {
      requiredOnly[key] = value;
      materialsContext[key] = value;
    }
  }
  const dataKey = await options.keyring.onDecrypt({
    suiteId: header.suiteId,
    encryptionContext: materialsContext,
    encryptedDataKeys: header.encryptedDataKeys,
  });
  if (dataKey === undefined) {
    const named = keysInWords(keyEdks(header.encryptedDataKeys).map(neededKeyOf));
    throw new VeilError('NO_MATCHING_EDK', `it opens with ${named}`);
  }
  let contentKey: CryptoKey;
  let commitKey: Uint8Array;
  let digestKey: CryptoKey;
  let locationKey: CryptoKey;
  try {
    needs(dataKey.length === 32, 'WRONG_KEY', 'the unwrapped data key is not 32 bytes');
    ({ contentKey, commitKey, digestKey, locationKey } = await deriveMessageKeys(
      header.suiteId,
      dataKey,
      header.messageId,
    ));
  } finally {
    dataKey.fill(0);
  }
  if (!constantTimeEqual(commitKey, header.commitKey)) throw new VeilError('COMMITMENT_MISMATCH');
  const aad = concatBytes(header.headerBody, serializeEncryptionContext(requiredOnly));
  try {
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: ZERO_IV, additionalData: asBufferSource(aad), tagLength: 128 },
      contentKey,
      asBufferSource(header.headerAuthTag),
    );
  } catch (cause) {
    throw new VeilError('HEADER_TAMPERED', undefined, { cause });
  }
  return { contentKey, digestKey, locationKey };
}

/**
 * Parses a complete serialized header (body plus auth tag, as in WrittenHeader.headerBytes or
 * the first bytes of a message, e.g. a ranged GET of an object). Nothing in it may be trusted
 * before openMessageHeader succeeds. Limits default to the decrypt stream's (16 EDKs, 64 MiB).
 * @throws VeilError MALFORMED when `headerBytes` does not hold a whole header, TOO_MANY_EDKS,
 *   FRAME_TOO_LARGE and the other parse errors of tryParseHeader.
 */
export function parseHeaderBytes(
  headerBytes: Uint8Array,
  limits: Partial<HeaderLimits> = {},
): MessageHeader {
  // Precondition: bytes.
  needs(headerBytes instanceof Uint8Array, 'BAD_ARGUMENT', 'headerBytes');
  const parsed = tryParseHeader(headerBytes, {
    maxEncryptedDataKeys: limits.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    maxFrameBytes: limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
  });
  if (!('header' in parsed)) throw new VeilError('MALFORMED', 'the header is incomplete');
  return parsed.header;
}
