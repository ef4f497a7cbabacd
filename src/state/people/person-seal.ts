/**
 * The user's key pair under the vault's lock ([Note: the vault envelope] in
 * src/state/keys/vault-seal.ts): pure WebCrypto, tested with known inputs in Node.
 *
 * [Note: the key pair under the lock] While the vault has a lock, the key pair is stored sealed:
 * AES-256-GCM under the vault key over the private key's PKCS#8 bytes and its passphrase backup
 * ([Note: key pair backup] in src/keyrings/rsa-backup.ts), the additional data binding a label of
 * its own ("veil vault person key v1", so a sealed Model A key can never stand in for it, nor the
 * other way round), the vault id, the entry's name and namespace (`person-key`, `veil-person`)
 * and the public key's fingerprint. Opening checks the tag, then that the private key belongs to
 * that fingerprint. The private key is imported non-extractable only while the vault is unlocked
 * and dropped on lock; the backup is inside the seal too, so a copy of the browser's storage
 * holds nothing of the key that is not under the lock.
 *
 * A pair stored before the lock was set is a non-extractable CryptoKey whose bytes cannot be read
 * back; the user puts it under the lock with its backup passphrase (the backup gives the bytes).
 * Once sealed, the store also records that fact (`sealed-mark`, the fingerprint), and a plain
 * CryptoKey entry found beside that record is refused (VAULT_ENTRY_TAMPERED), never used: it can
 * only have been planted. Someone able to rewrite all of the browser's storage can remove the
 * record too; they still cannot open the sealed key without the vault's passkey or passphrase.
 */
import { concatBytes, readU32, u32, utf8 } from '../../core/bytes';
import { VeilError, needs } from '../../core/errors';
import { PERSON_PROVIDER_ID } from '../../core/provider-info';
import { importPrivateKey, type PersonKeyPair } from '../../keyrings/rsa-keys';
import { openBytes, sealBytes, type SealedEntry } from '../keys/vault-seal';

/** The name and namespace a sealed key pair is bound to (no Model A key may use the label). */
export const PERSON_ENTRY_NAME = 'person-key';
export const PERSON_ENTRY_NAMESPACE = PERSON_PROVIDER_ID;
const PERSON_AAD = 'veil vault person key v1';
/** Largest PKCS#8 accepted in a seal (an RSA-16384 key is about 9.4 KiB). */
const MAX_PKCS8_BYTES = 16 * 1024;

/** What a sealed key pair is bound to besides its bytes. */
export interface PersonBinding {
  readonly vaultId: string;
  /** The public key's fingerprint (64 hex digits). */
  readonly fingerprint: string;
}

/** What the seal opens into: the key pair and its backup text. */
export interface OpenedPersonKey {
  readonly pair: PersonKeyPair;
  readonly backup: string;
}

function personAad(binding: PersonBinding): Uint8Array {
  const parts = [binding.vaultId, PERSON_ENTRY_NAME, PERSON_ENTRY_NAMESPACE, binding.fingerprint];
  // NUL separates fields; none of them may hold one, so the encoding is unambiguous.
  needs(
    parts.every((p) => typeof p === 'string' && !p.includes('\0')),
    'BAD_ARGUMENT',
    'binding',
  );
  return utf8([PERSON_AAD, ...parts].join('\0'));
}

/**
 * Seals a private key (PKCS#8 DER) and its backup under the vault key. The caller still owns
 * (and zeroes) `pkcs8`.
 * @throws VeilError OUT_OF_RANGE for an empty or oversized key; BAD_ARGUMENT for a bad binding.
 */
export async function sealPersonKey(
  vaultKey: CryptoKey,
  pkcs8: Uint8Array,
  backup: string,
  binding: PersonBinding,
): Promise<SealedEntry> {
  // Precondition: key bytes of a plausible size and a backup text.
  needs(pkcs8 instanceof Uint8Array, 'BAD_ARGUMENT', 'pkcs8');
  needs(pkcs8.length > 0 && pkcs8.length <= MAX_PKCS8_BYTES, 'OUT_OF_RANGE', 'pkcs8');
  needs(typeof backup === 'string', 'BAD_ARGUMENT', 'backup');
  const aad = personAad(binding);
  const payload = concatBytes(u32(pkcs8.length), pkcs8, utf8(backup));
  try {
    return await sealBytes(vaultKey, payload, aad);
  } finally {
    payload.fill(0);
  }
}

/**
 * Opens a sealed key pair: the private key imported non-extractable, checked against the
 * fingerprint it is bound to, and the backup text.
 * @throws VeilError VAULT_ENTRY_TAMPERED when the seal fails (the bytes were changed, the entry
 *   belongs to another vault, fingerprint or kind of entry) or the key is not the fingerprint's.
 */
export async function openPersonKey(
  vaultKey: CryptoKey,
  sealed: SealedEntry,
  binding: PersonBinding,
): Promise<OpenedPersonKey> {
  const payload = await openBytes(vaultKey, sealed, personAad(binding), 'your key pair');
  try {
    const pkcs8Bytes = payload.length >= 4 ? readU32(payload, 0) : -1;
    if (pkcs8Bytes <= 0 || 4 + pkcs8Bytes > payload.length) {
      throw new VeilError('VAULT_ENTRY_TAMPERED', 'your key pair');
    }
    const pkcs8 = payload.subarray(4, 4 + pkcs8Bytes);
    const backup = new TextDecoder('utf-8', { fatal: true }).decode(
      payload.subarray(4 + pkcs8Bytes),
    );
    let pair: PersonKeyPair;
    try {
      pair = await importPrivateKey(pkcs8);
    } catch (cause) {
      throw new VeilError('VAULT_ENTRY_TAMPERED', 'your key pair', { cause });
    }
    if (pair.fingerprint !== binding.fingerprint) {
      throw new VeilError('VAULT_ENTRY_TAMPERED', 'your key pair');
    }
    return { pair, backup };
  } finally {
    payload.fill(0);
  }
}
