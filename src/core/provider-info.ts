/**
 * What an encrypted data key's provider fields say: the raw AES keyring's provider info
 * (FORMAT.md section 6), and which keys a header needs.
 *
 * [Note: raw AES provider info] The ESDK raw AES keyring writes provider info =
 * UTF-8(key name) || u32 tag bits || u32 IV bytes || IV, with 128 tag bits and a 12-byte IV
 * (AES-GCM as every ESDK wraps). One rule reads it everywhere (the keyring's match, `veil
 * inspect`, the Files details, the keys a download needs): the last 20 bytes are u32 128,
 * u32 12 and the IV, and the key name before them is at least one byte. Anything else (an HSM key
 * label, a KMS key ARN, other parameters) is not raw AES provider info.
 */
import { concatBytes, readU32, u32 } from './bytes';
import { needs } from './errors';
import type { MessageHeader } from './header';
import type { EncryptedDataKey } from './keyring';
import { isLocationEdk } from './location';

/** GCM tag bits of a raw AES wrap, as stored in provider info. */
export const RAW_AES_TAG_BITS = 128;
/** IV bytes of a raw AES wrap, as stored in provider info. */
export const RAW_AES_IV_BYTES = 12;
/** Bytes after the key name: u32 tag bits, u32 IV bytes, the IV. */
const TRAILER_BYTES = 4 + 4 + RAW_AES_IV_BYTES;
/** Provider info is a u16-length field of the EDK entry. */
const MAX_PROVIDER_INFO_BYTES = 0xffff;

/** Raw AES provider info, read by parseRawAesProviderInfo. */
export interface RawAesProviderInfo {
  /** The key name as stored (a view into the provider info). */
  readonly keyNameBytes: Uint8Array;
  /** The key name decoded as UTF-8, invalid bytes replaced (unauthenticated: escape to show). */
  readonly keyName: string;
  /** Always RAW_AES_TAG_BITS. */
  readonly tagBits: number;
  /** Always RAW_AES_IV_BYTES. */
  readonly ivBytes: number;
  /** The wrap IV (a view into the provider info). */
  readonly iv: Uint8Array;
}

/**
 * Reads raw AES provider info, see [Note: raw AES provider info].
 * @returns undefined when `providerInfo` is not raw AES provider info.
 * @throws VeilError BAD_ARGUMENT when `providerInfo` is not a Uint8Array.
 */
export function parseRawAesProviderInfo(providerInfo: Uint8Array): RawAesProviderInfo | undefined {
  // Precondition: provider info bytes.
  needs(providerInfo instanceof Uint8Array, 'BAD_ARGUMENT', 'providerInfo');
  const nameBytes = providerInfo.length - TRAILER_BYTES;
  if (nameBytes < 1) return undefined;
  if (readU32(providerInfo, nameBytes) !== RAW_AES_TAG_BITS) return undefined;
  if (readU32(providerInfo, nameBytes + 4) !== RAW_AES_IV_BYTES) return undefined;
  const keyNameBytes = providerInfo.subarray(0, nameBytes);
  return {
    keyNameBytes,
    keyName: new TextDecoder('utf-8', { fatal: false }).decode(keyNameBytes),
    tagBits: RAW_AES_TAG_BITS,
    ivBytes: RAW_AES_IV_BYTES,
    iv: providerInfo.subarray(nameBytes + 8),
  };
}

/**
 * Raw AES provider info for a key name and a wrap IV, see [Note: raw AES provider info].
 * @throws VeilError BAD_ARGUMENT when an argument is not a Uint8Array; OUT_OF_RANGE for an empty
 *   key name, an IV that is not 12 bytes, or provider info over 65,535 bytes.
 */
export function serializeRawAesProviderInfo(keyNameBytes: Uint8Array, iv: Uint8Array): Uint8Array {
  // Precondition: a non-empty key name that fits the u16 field, and a 12-byte IV.
  needs(keyNameBytes instanceof Uint8Array, 'BAD_ARGUMENT', 'keyNameBytes');
  needs(keyNameBytes.length >= 1, 'OUT_OF_RANGE', 'keyNameBytes: the key name is empty');
  needs(
    keyNameBytes.length + TRAILER_BYTES <= MAX_PROVIDER_INFO_BYTES,
    'OUT_OF_RANGE',
    'keyNameBytes: provider info over 65,535 bytes',
  );
  needs(iv instanceof Uint8Array, 'BAD_ARGUMENT', 'iv');
  needs(iv.length === RAW_AES_IV_BYTES, 'OUT_OF_RANGE', 'iv must be 12 bytes');
  return concatBytes(keyNameBytes, u32(RAW_AES_TAG_BITS), u32(RAW_AES_IV_BYTES), iv);
}

/**
 * [Note: a person's key] Sharing with a person adds an EDK of the ESDK raw RSA keyring
 * (src/keyrings/raw-rsa.ts) under the namespace `veil-person`, whose key name is the fingerprint
 * of the person's public key: 64 lowercase hex digits of SHA-256 over its SubjectPublicKeyInfo
 * DER. People compare fingerprints out of band in groups of four (formatFingerprint), and a
 * recipient finds the EDK meant for them by their own fingerprint.
 */
export const PERSON_PROVIDER_ID = 'veil-person';

/** True for a fingerprint as stored: 64 lowercase hex digits ([Note: a person's key]). */
export function isFingerprint(text: unknown): text is string {
  return typeof text === 'string' && /^[0-9a-f]{64}$/.test(text);
}

/**
 * A fingerprint for people to read and compare: groups of four hex digits, e.g. `3f2a 91c0 …`
 * (16 groups). Text that is not a fingerprint is returned as it is.
 */
export function formatFingerprint(fingerprint: string): string {
  return isFingerprint(fingerprint) ? (fingerprint.match(/.{4}/g) ?? []).join(' ') : fingerprint;
}

/**
 * The kind of key an EDK names, in words, when it is a person's key ([Note: a person's key]):
 * `a person’s key (fingerprint 3f2a 91c0 …)`; undefined for any other key. The words come from
 * the unauthenticated header: escape them to show them.
 */
export function personKeyWords(key: NeededKey): string | undefined {
  if (key.providerId !== PERSON_PROVIDER_ID) return undefined;
  return `a person’s key (fingerprint ${formatFingerprint(key.keyName)})`;
}

/** One key an object's header names, for asking the user for the right one. */
export interface NeededKey {
  readonly providerId: string;
  /** Raw AES key name, HSM key label or KMS key ARN, as the header spells it (unauthenticated). */
  readonly keyName: string;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

/** The key one EDK names: the raw AES key name, else the provider info as text. */
export function neededKeyOf(edk: EncryptedDataKey): NeededKey {
  return {
    providerId: edk.providerId,
    keyName:
      parseRawAesProviderInfo(edk.providerInfo)?.keyName ?? lenientUtf8.decode(edk.providerInfo),
  };
}

/**
 * The keys an ESDK header names, one per encrypted data key that is a key (the location binding
 * is not: [Note: location binding] in location.ts): the raw AES key name ([Note: raw AES
 * provider info]), else the provider info as text (HSM proxy: key label; KMS: key ARN). Nothing in
 * a header is authenticated before it is opened: escape these texts to show them.
 * @throws VeilError BAD_ARGUMENT when `header` has no list of encrypted data keys.
 */
export function keysNeeded(header: MessageHeader): NeededKey[] {
  // Precondition: a parsed header.
  const hasKeys: boolean = Array.isArray(header?.encryptedDataKeys);
  needs(hasKeys, 'BAD_ARGUMENT', 'header');
  return header.encryptedDataKeys.filter((edk) => !isLocationEdk(edk)).map(neededKeyOf);
}

/**
 * The kind of key an EDK names, in words, when it is a share link's key ([Note: share links]
 * in share-link.ts): `a share link (id …)`; undefined for any other key. From the
 * unauthenticated header: escape the words to show them.
 */
export function linkKeyWords(key: NeededKey): string | undefined {
  if (key.providerId !== 'veil-link') return undefined;
  return `a share link (id ${key.keyName})`;
}
