/**
 * Whether a private key belongs to a public key, for what the key pair publishes under the
 * user's name: the public key's SPKI comes from the stored info, which the seal does not cover
 * ([Note: the key pair under the lock] in person-seal.ts), so before it is published a random
 * probe encrypted to it must open with the private key opened from the seal (or the stored
 * non-extractable one, which cannot be read back to compare).
 */
import { RSA_OAEP_SHA256, importPublicKey } from '../../keyrings/rsa-keys';

/** Bytes of the probe (well under RSA-OAEP-SHA-256's limit for a 2048-bit key). */
const PROBE_BYTES = 32;

/**
 * True when `privateKey` opens what is encrypted to `publicKeySpki` (RSA-OAEP, SHA-256).
 * @throws VeilError PERSON_ENTRY_INVALID when the SPKI is not an RSA key of 2048 bits or more.
 */
export async function privateKeyMatches(
  publicKeySpki: Uint8Array,
  privateKey: CryptoKey,
): Promise<boolean> {
  const publicKey = await importPublicKey(publicKeySpki);
  const probe = crypto.getRandomValues(new Uint8Array(PROBE_BYTES));
  const sealed = await crypto.subtle.encrypt(RSA_OAEP_SHA256, publicKey, probe);
  let opened: Uint8Array;
  try {
    opened = new Uint8Array(await crypto.subtle.decrypt(RSA_OAEP_SHA256, privateKey, sealed));
  } catch {
    return false;
  }
  return opened.length === probe.length && opened.every((byte, i) => byte === probe[i]);
}
