/**
 * Rewrap: the header of a stored message written again under other keys, for the same body.
 *
 * [Note: rewrap keeps the body] A v2 message's frames depend only on the data key and the message
 * id: the content key is HKDF(data key, salt = message id), and each frame's IV and AAD come from
 * the message id and its sequence number. The commit key depends on the same two. The encrypted
 * data keys (EDKs) are the only header field that names the keys. So a header with the same
 * suite, message id, encryption context, content type, frame length and commit key, other EDKs,
 * and a new auth tag (whose AAD is the header body, EDKs included) fronts the old body bytes
 * unchanged: the body is kept byte for byte, and only the header is sent again. The commit key
 * is not recomputed into something new but checked: derived from the opened data key and the
 * message id, it must equal the header's. A signed message (0x0578) cannot be rewrapped this
 * way: its footer signs header and body with a key that is not kept, so a new header needs a new
 * signature over the whole message (REWRAP_SIGNED_MESSAGE).
 */
import { asBufferSource, concatBytes, constantTimeEqual } from './bytes';
import { serializeEncryptionContext } from './encryption-context';
import type { EncryptionContext } from './encryption-context';
import { VeilError, needs } from './errors';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  serializeHeaderBody,
} from './header';
import type { MessageHeader } from './header';
import { deriveMessageKeys } from './kdf';
import type { EncryptedDataKey, Keyring } from './keyring';
import {
  checkLocation,
  isLocationEdk,
  keyEdks,
  locationEdk,
  type BindingRule,
  type ObjectLocation,
} from './location';
import { parseHeaderBytes } from './message';
import {
  openPreferringKept,
  proveAccess,
  type AccessProof,
  type AccessRequest,
  type RewrapOpening,
} from './rewrap-access';
import { splitEncryptedDataKeys } from './rewrap-keys';
import type { EdkReEncrypter } from './rewrap-reencrypt';

export { openDataKey } from './rewrap-access';
import type { KeyToRemove } from './rewrap-keys';
import { committingSuite, suiteName } from './suites';

const ZERO_IV = new Uint8Array(12);
/** Content type byte and u32 frame length sit right before the commit key (FORMAT.md section 2). */
const CONTENT_TYPE_FROM_END_BYTES = 1 + 4;

/**
 * Fields 1-10 of the new header: the old header's fields but the EDKs. serializeHeaderBody
 * writes framed content; a legacy non-framed header (content type 0x01, frame length 0) gets its
 * content type byte set after, and the result is parsed again before it is returned.
 */
function serializeRewrittenBody(
  header: MessageHeader,
  encryptedDataKeys: readonly EncryptedDataKey[],
): Uint8Array {
  const body = serializeHeaderBody({
    suiteId: header.suiteId,
    messageId: header.messageId,
    encryptionContext: header.encryptionContext,
    encryptedDataKeys,
    frameBytes: header.contentType === 'framed' ? header.frameBytes : 0,
    commitKey: header.commitKey,
  });
  if (header.contentType === 'non-framed') {
    body[body.length - header.commitKey.length - CONTENT_TYPE_FROM_END_BYTES] = 0x01;
  }
  return body;
}

/** What rewriteHeader needs: an opened header, its data key and the new EDK list. */
export interface RewriteHeaderInput {
  /** The parsed header of the stored message; opened (authenticated) by the caller. */
  readonly header: MessageHeader;
  /** Its plaintext data key (32 bytes). Owned by the caller, who zeroes it; not kept here. */
  readonly dataKey: Uint8Array;
  /** The EDKs of the new header, in order: at least one. */
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  /**
   * Encryption context the old header authenticated without storing it (the Required-EC pairs
   * absent from the header, as in OpenOptions.reproducedContext); the new tag covers it too.
   */
  readonly requiredContext?: EncryptionContext;
  /** Most EDKs the new header may hold (readers refuse more); default 16. */
  readonly maxEncryptedDataKeys?: number;
}

/** A rewritten header: parsed, and serialized (body plus auth tag) to put before the old body. */
export interface RewrittenHeader {
  readonly header: MessageHeader;
  /** The new first bytes of the message; the body follows unchanged. */
  readonly headerBytes: Uint8Array;
}

/**
 * Writes a new header for the same body ([Note: rewrap keeps the body]): the suite, message id,
 * encryption context, content type, frame length and commit key of `input.header`, the EDKs of
 * `input.encryptedDataKeys`, and a new auth tag under the content key derived from `dataKey`.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad arguments, REWRAP_SIGNED_MESSAGE for a
 *   signed suite, REWRAP_LAST_KEY for an empty EDK list, TOO_MANY_EDKS beyond the limit,
 *   COMMITMENT_MISMATCH when `dataKey` is not this header's data key.
 */
export async function rewriteHeader(input: RewriteHeaderInput): Promise<RewrittenHeader> {
  // Precondition: a parsed header, a 32-byte data key and a list of EDKs.
  needs(typeof input === 'object' && input !== null, 'BAD_ARGUMENT', 'input');
  const { header, dataKey, encryptedDataKeys } = input;
  needs(typeof header === 'object' && header !== null, 'BAD_ARGUMENT', 'header');
  needs(header.headerBody instanceof Uint8Array, 'BAD_ARGUMENT', 'header');
  needs(dataKey instanceof Uint8Array, 'BAD_ARGUMENT', 'dataKey');
  needs(dataKey.length === 32, 'OUT_OF_RANGE', 'dataKey must be 32 bytes');
  const isList: boolean = Array.isArray(encryptedDataKeys);
  needs(isList, 'BAD_ARGUMENT', 'encryptedDataKeys');
  for (const edk of encryptedDataKeys) {
    needs(
      typeof edk?.providerId === 'string' &&
        edk.providerInfo instanceof Uint8Array &&
        edk.ciphertext instanceof Uint8Array,
      'BAD_ARGUMENT',
      'encryptedDataKeys: an entry is not an EDK',
    );
  }
  // Precondition: an unsigned suite ([Note: rewrap keeps the body]).
  if (committingSuite(header.suiteId).signed) {
    throw new VeilError('REWRAP_SIGNED_MESSAGE', `suite ${suiteName(header.suiteId)}`);
  }
  // Precondition: at least one EDK, at most the limit.
  if (encryptedDataKeys.length === 0) {
    throw new VeilError('REWRAP_LAST_KEY', 'the new header would have no encrypted data key');
  }
  const maxEdks = input.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
  needs(Number.isSafeInteger(maxEdks) && maxEdks >= 1, 'OUT_OF_RANGE', 'maxEncryptedDataKeys');
  if (encryptedDataKeys.length > maxEdks) {
    throw new VeilError('TOO_MANY_EDKS', `${encryptedDataKeys.length} > ${maxEdks}`);
  }

  const { contentKey, commitKey } = await deriveMessageKeys(
    header.suiteId,
    dataKey,
    header.messageId,
  );
  // The commit key depends only on the data key and the message id: it stays the same.
  if (!constantTimeEqual(commitKey, header.commitKey)) {
    throw new VeilError('COMMITMENT_MISMATCH', 'the data key given is not this header’s');
  }
  const headerBody = serializeRewrittenBody(header, encryptedDataKeys);
  const aad = concatBytes(headerBody, serializeEncryptionContext(input.requiredContext ?? {}));
  const headerAuthTag = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: ZERO_IV, additionalData: asBufferSource(aad), tagLength: 128 },
      contentKey,
      new Uint8Array(0),
    ),
  );
  const headerBytes = concatBytes(headerBody, headerAuthTag);
  const rewritten = parseHeaderBytes(headerBytes, {
    maxEncryptedDataKeys: Math.max(maxEdks, encryptedDataKeys.length),
    maxFrameBytes: Math.max(DEFAULT_MAX_FRAME_BYTES, header.frameBytes),
  });
  // The parse above checks the layout; the fields the body depends on must not have moved.
  needs(
    rewritten.contentType === header.contentType && rewritten.frameBytes === header.frameBytes,
    'INTERNAL_ERROR',
    'the rewritten header differs from the old one',
  );
  return { header: rewritten, headerBytes };
}

/** What rewrapHeader changes: the keyring that opens the header, the keys to add and remove. */
export interface RewrapHeaderOptions {
  /** Opens the stored header: any key the user holds for it. */
  readonly openWith: Keyring;
  /** Wraps the data key for the keys to add (its onEncrypt gets the data key); none if absent. */
  readonly addWith?: Keyring;
  /** Keys whose EDKs are dropped; every other EDK is kept verbatim. */
  readonly remove?: readonly KeyToRemove[];
  /** As OpenOptions.reproducedContext: pairs the header authenticated without storing them. */
  readonly reproducedContext?: EncryptionContext;
  /** Most EDKs the new header may hold; default 16. */
  readonly maxEncryptedDataKeys?: number;
  /**
   * The keys the user will still hold: the new header must open with them, else the rewrap is
   * refused ([Note: rewrap lock-out check] in rewrap-access.ts). Default: `openWith` on a kept
   * EDK, else `addWith` or `openWith` on an added one.
   */
  readonly canOpenWith?: Keyring;
  /**
   * Makes the added EDKs from old ones inside a key service (KMS ReEncrypt), instead of
   * `addWith`; when it answers undefined `addWith` is used ([Note: rewrap and KMS ReEncrypt] in
   * rewrap-reencrypt.ts). The data key is still opened with `openWith` for the header tag.
   */
  readonly reEncrypt?: EdkReEncrypter;
  /**
   * Where the object is read from and, for a rename or move, where it goes ([Note: location
   * binding] in location.ts). The stored binding is checked against `from` under `rule` before
   * anything is written, so a swapped object is never bound anew; with `to` the binding is
   * replaced by one for `to` (an unbound object gets one). Absent: the binding is kept as it is.
   */
  readonly location?: RewrapLocation;
}

/** The location part of a rewrap. */
export interface RewrapLocation {
  readonly from: ObjectLocation;
  readonly to?: ObjectLocation;
  readonly rule: BindingRule;
}

/** A rewrapped header and what changed. */
export interface RewrappedHeader extends RewrittenHeader {
  /** EDKs of the old header that the new one no longer has. */
  readonly removed: readonly EncryptedDataKey[];
  /** EDKs `addWith` made; they follow the kept ones in the new header. */
  readonly added: readonly EncryptedDataKey[];
  /**
   * What proved that the user can open the new header ([Note: rewrap lock-out check]): `kept`
   * when `openWith` opened a kept EDK, else the keyring that opened an EDK of the new list.
   */
  readonly stillOpensWith?: 'kept' | 'openWith' | 'addWith' | 'canOpenWith';
  /** What made the added EDKs: `reEncrypt` (inside the key service) or `addWith`. */
  readonly addedBy?: 'reEncrypt' | 'addWith';
}

/**
 * Rewraps a stored header: opens it with `openWith` (key commitment and header tag checked),
 * keeps every EDK but those `remove` names, appends the EDKs `reEncrypt` makes from old ones or
 * else those `addWith` wraps around the same data key, and writes the new header ([Note: rewrap keeps the body]). The data key is zeroed
 * before this returns.
 * Before the header is written the user must be able to open it ([Note: rewrap lock-out check]).
 * @throws VeilError REWRAP_SIGNED_MESSAGE (before any key is asked for), REWRAP_KEY_NOT_FOUND,
 *   REWRAP_LAST_KEY when no EDK would be left, REWRAP_WOULD_LOCK_OUT when no key the user holds
 *   opens the EDKs that would be left, KEYRING_INVALID when `addWith` returns another
 *   data key or none, the errors of openDataKey and rewriteHeader, and what the keyrings throw.
 */
export async function rewrapHeader(
  header: MessageHeader,
  options: RewrapHeaderOptions,
): Promise<RewrappedHeader> {
  // Precondition: a parsed header of an unsigned suite, and keyrings.
  needs(typeof header === 'object' && header !== null, 'BAD_ARGUMENT', 'header');
  needs(typeof options?.openWith?.onDecrypt === 'function', 'BAD_ARGUMENT', 'openWith');
  needs(
    options.addWith === undefined || typeof options.addWith.onEncrypt === 'function',
    'BAD_ARGUMENT',
    'addWith',
  );
  needs(
    options.canOpenWith === undefined || typeof options.canOpenWith.onDecrypt === 'function',
    'BAD_ARGUMENT',
    'canOpenWith',
  );
  if (committingSuite(header.suiteId).signed) {
    throw new VeilError('REWRAP_SIGNED_MESSAGE', `suite ${suiteName(header.suiteId)}`);
  }
  const split = splitEncryptedDataKeys(header, options.remove ?? []);
  const kept = keyEdks(split.kept);
  const removed = split.removed;
  if (kept.length === 0 && options.addWith === undefined && options.reEncrypt === undefined) {
    throw new VeilError('REWRAP_LAST_KEY', `removing ${removed.length} of ${removed.length} keys`);
  }
  const reproduced = options.reproducedContext ?? {};
  const opening = await openPreferringKept(header, options.openWith, kept, removed, reproduced);
  const dataKey = opening.dataKey;
  try {
    const requiredContext: Record<string, string> = {};
    for (const [key, value] of Object.entries(reproduced)) {
      if (!Object.hasOwn(header.encryptionContext, key)) requiredContext[key] = value;
    }
    const encryptionContext = { ...header.encryptionContext, ...requiredContext };
    const reEncrypted = await options.reEncrypt?.reEncrypt({
      suiteId: header.suiteId,
      encryptionContext,
      encryptedDataKeys: [...removed, ...kept],
    });
    needs(
      reEncrypted === undefined || reEncrypted.length >= 1,
      'KEYRING_INVALID',
      'the re-encrypter returned no encrypted data key',
    );
    const addedBy = reEncrypted ? 'reEncrypt' : options.addWith ? 'addWith' : undefined;
    const added =
      reEncrypted ??
      (options.addWith
        ? await wrapAdded(options.addWith, { suiteId: header.suiteId, encryptionContext, dataKey })
        : []);
    if (kept.length + added.length === 0) {
      throw new VeilError('REWRAP_LAST_KEY', 'no key was kept, and none could be added');
    }
    const stillOpensWith = await checkAccess(options, opening, {
      request: { suiteId: header.suiteId, encryptionContext, dataKey },
      kept,
      added,
    });
    const binding = await bindingFor(header, dataKey, split.kept, options.location);
    const rewritten = await rewriteHeader({
      header,
      dataKey,
      encryptedDataKeys: [...kept, ...added, ...binding],
      requiredContext,
      ...(options.maxEncryptedDataKeys === undefined
        ? {}
        : { maxEncryptedDataKeys: options.maxEncryptedDataKeys }),
    });
    return { ...rewritten, removed, added, stillOpensWith, ...(addedBy ? { addedBy } : {}) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The binding EDKs of the new header: the old ones kept as they are, or, with `location`, the
 * old one checked against `location.from` and replaced when `location.to` is given.
 * @throws VeilError OBJECT_MISMATCH from checkLocation.
 */
async function bindingFor(
  header: MessageHeader,
  dataKey: Uint8Array,
  keptEdks: readonly EncryptedDataKey[],
  location: RewrapLocation | undefined,
): Promise<EncryptedDataKey[]> {
  const old = keptEdks.filter(isLocationEdk);
  if (location === undefined) return old;
  const { locationKey } = await deriveMessageKeys(header.suiteId, dataKey, header.messageId);
  await checkLocation(header, locationKey, location.from, location.rule);
  if (location.to === undefined) return old;
  return [await locationEdk(locationKey, location.to)];
}

/**
 * The EDKs `addWith` wraps around `request.dataKey`.
 * @throws VeilError KEYRING_INVALID when it returns another data key or no EDK.
 */
async function wrapAdded(
  addWith: Keyring,
  request: AccessRequest,
): Promise<readonly EncryptedDataKey[]> {
  const wrapped = await addWith.onEncrypt(request);
  const sameKey =
    wrapped.dataKey instanceof Uint8Array && constantTimeEqual(wrapped.dataKey, request.dataKey);
  if (wrapped.dataKey instanceof Uint8Array && wrapped.dataKey !== request.dataKey) {
    wrapped.dataKey.fill(0);
  }
  needs(sameKey, 'KEYRING_INVALID', 'the keyring to add returned another data key');
  needs(wrapped.encryptedDataKeys.length >= 1, 'KEYRING_INVALID', 'no encrypted data key');
  return [...wrapped.encryptedDataKeys];
}

/** The new header's EDKs and the request every proof is asked with. */
interface AccessCheck {
  readonly request: AccessRequest;
  readonly kept: readonly EncryptedDataKey[];
  readonly added: readonly EncryptedDataKey[];
}

/**
 * The lock-out check of [Note: rewrap lock-out check] in rewrap-access.ts.
 * @throws VeilError REWRAP_WOULD_LOCK_OUT.
 */
async function checkAccess(
  options: RewrapHeaderOptions,
  opening: RewrapOpening,
  check: AccessCheck,
): Promise<NonNullable<RewrappedHeader['stillOpensWith']>> {
  const { openWith, addWith, canOpenWith } = options;
  if (opening.opensKept && (canOpenWith === undefined || canOpenWith === openWith)) return 'kept';
  const proofs: AccessProof[] = canOpenWith
    ? [{ by: 'canOpenWith', keyring: canOpenWith, edks: [...check.kept, ...check.added] }]
    : [
        ...(addWith ? [{ by: 'addWith' as const, keyring: addWith, edks: check.added }] : []),
        { by: 'openWith', keyring: openWith, edks: check.added },
      ];
  return proveAccess(check.request, proofs);
}
