/**
 * Key derivation for the committing suites (FORMAT.md section 4): one HKDF-SHA-512 extract over
 * the data key with the message id as salt gives the content key (info = suite id || "DERIVEKEY")
 * and the commit key (info = "COMMITKEY").
 *
 * [Note: part digest key] Veil derives one more key beside them, under its own label
 * ("VEIL-PART-DIGEST"): a non-extractable HMAC-SHA-256 key that upload resume uses to record a
 * keyed digest of each part's plaintext before the part is first sent (src/transfer/part-digest.ts).
 * It is a sibling of the content key (same data key and salt, another label), so it is as secret
 * as the content key, is never stored, and is derived again wherever the data key is unwrapped.
 * It plays no part in the message format.
 *
 * [Note: location key] One more sibling, under "VEIL-LOCATION": the HMAC-SHA-256 key that binds
 * an object to its bucket and key ([Note: location binding] in location.ts). Like the digest key
 * it is never stored and is derived again wherever the data key is unwrapped, so only a holder of
 * a key that opens the object can write or check its binding.
 */
import { asBufferSource, concatBytes, u16, utf8 } from './bytes';
import { needs } from './errors';
import { MESSAGE_ID_BYTES } from './suites';
import type { CommittingSuiteId } from './suites';

const COMMIT_KEY_INFO = utf8('COMMITKEY');
const DERIVE_KEY_LABEL = utf8('DERIVEKEY');
const PART_DIGEST_INFO = utf8('VEIL-PART-DIGEST');
const LOCATION_INFO = utf8('VEIL-LOCATION');

/** The two keys derived from a data key for one message. */
export interface DerivedKeys {
  /** Non-extractable AES-256-GCM key for the header tag and every frame. */
  readonly contentKey: CryptoKey;
  /** 32 bytes stored in (or compared with) header field 10. */
  readonly commitKey: Uint8Array;
  /** Non-extractable HMAC-SHA-256 key for resume digests ([Note: part digest key]). */
  readonly digestKey: CryptoKey;
  /** Non-extractable HMAC-SHA-256 key for the location binding ([Note: location key]). */
  readonly locationKey: CryptoKey;
}

/**
 * Derives the content key and commit key for `messageId` (32 bytes) from `dataKey` (32 bytes).
 * The caller still owns `dataKey` and zeroes it afterwards.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for wrong argument types or sizes.
 */
export async function deriveMessageKeys(
  suiteId: CommittingSuiteId,
  dataKey: Uint8Array,
  messageId: Uint8Array,
): Promise<DerivedKeys> {
  // Precondition: a 32-byte data key and a 32-byte message id.
  needs(dataKey instanceof Uint8Array, 'BAD_ARGUMENT', 'dataKey');
  needs(dataKey.length === 32, 'OUT_OF_RANGE', 'dataKey must be 32 bytes');
  needs(messageId instanceof Uint8Array, 'BAD_ARGUMENT', 'messageId');
  needs(messageId.length === MESSAGE_ID_BYTES, 'OUT_OF_RANGE', 'messageId must be 32 bytes');
  const ikm = await crypto.subtle.importKey('raw', asBufferSource(dataKey), 'HKDF', false, [
    'deriveBits',
    'deriveKey',
  ]);
  const salt = asBufferSource(messageId);
  const contentInfo = asBufferSource(concatBytes(u16(suiteId), DERIVE_KEY_LABEL));
  const [contentKey, commitBits, digestKey, locationKey] = await Promise.all([
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-512', salt, info: contentInfo },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    ),
    crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-512', salt, info: asBufferSource(COMMIT_KEY_INFO) },
      ikm,
      256,
    ),
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-512', salt, info: asBufferSource(PART_DIGEST_INFO) },
      ikm,
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    ),
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-512', salt, info: asBufferSource(LOCATION_INFO) },
      ikm,
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    ),
  ]);
  return { contentKey, commitKey: new Uint8Array(commitBits), digestKey, locationKey };
}
