/**
 * A vault key's fingerprint: what the Keys view shows of a key so that its copies (vault, key
 * file, backup) can be matched, and what a sealed vault entry is checked against when it opens
 * ([Note: the vault envelope] in vault-seal.ts).
 */
import { asBufferSource, concatBytes, utf8 } from '../../core/bytes';

const FINGERPRINT_LABEL = utf8('veil key fingerprint v1\0');

/**
 * A short, stable, non-secret fingerprint of raw key bytes: the first 8 bytes of
 * SHA-256(label || key), as 4 groups of 4 hex digits. Two copies of a key (vault, key file,
 * backup) show the same fingerprint; it reveals nothing usable about the key. The copy of the
 * key made for hashing is zeroed before this returns.
 */
export async function keyFingerprint(keyBytes: Uint8Array): Promise<string> {
  const labelled = concatBytes(FINGERPRINT_LABEL, keyBytes);
  try {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(labelled)));
    const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
    return hex.match(/.{4}/g)?.join(' ') ?? hex;
  } finally {
    labelled.fill(0);
  }
}
