/**
 * The cryptography of the vault's lock, pure WebCrypto (no DOM, no IndexedDB), so it is tested
 * with known inputs in Node.
 *
 * [Note: the vault envelope] A locked vault has one random 256-bit vault key. Each Model A key
 * under the lock is stored sealed: AES-256-GCM under the vault key, its additional data binding
 * the vault id, the key's name, namespace and fingerprint, so an entry cannot be altered, nor
 * moved to another name or vault, without failing its tag. The vault key itself is stored once
 * per unlock method, wrapped (AES-256-GCM, additional data = vault id, method id and kind) under
 * a key encryption key (KEK) that method derives:
 *
 * - passphrase: PBKDF2-HMAC-SHA-256, 600,000 iterations (as the key backups), 16 random salt
 *   bytes of its own;
 * - passkey: the WebAuthn PRF output of the passkey for the vault's PRF input (a 32-byte salt
 *   fixed per vault and stored with the lock), through HKDF-SHA-256 (salt = that same vault salt,
 *   info = "veil vault passkey v1" 0x00 || credential id).
 *
 * So adding or removing a passkey rewraps 32 bytes and never re-encrypts an entry. Unlocking
 * opens the vault key, imports it as a non-extractable AES-GCM key for this page only, and opens
 * each entry into a non-extractable key; locking drops them all from memory.
 */
import { asBufferSource, concatBytes, utf8 } from '../../core/bytes';
import { VeilError, needs } from '../../core/errors';
import { BACKUP_ITERATIONS } from '../../keyrings/key-backup';
import { keyFingerprint } from './vault-fingerprint';

/** Bytes of the vault key and of every KEK (AES-256). */
export const VAULT_KEY_BYTES = 32;
/** PBKDF2 iterations for the vault passphrase (the key backups' figure). */
export const VAULT_PASSPHRASE_ITERATIONS = BACKUP_ITERATIONS;
/** Bytes of the per-vault salt (the PRF input and the HKDF salt) and of a passphrase salt. */
export const VAULT_SALT_BYTES = 32;
export const PASSPHRASE_SALT_BYTES = 16;
const IV_BYTES = 12;

const PASSKEY_INFO = utf8('veil vault passkey v1\0');
const METHOD_AAD = 'veil vault key v1';
const ENTRY_AAD = 'veil vault entry v1';

/** A vault key wrapped under one method's KEK. */
export interface WrappedVaultKey {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** A Model A key sealed under the vault key. */
export interface SealedEntry {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** What an entry's seal binds besides its bytes. */
export interface EntryBinding {
  readonly vaultId: string;
  readonly keyName: string;
  readonly keyNamespace: string;
  readonly fingerprint: string;
}

/** What a method's wrap binds. */
export interface MethodBinding {
  readonly vaultId: string;
  readonly methodId: string;
  readonly kind: 'passphrase' | 'passkey';
}

/** Random bytes of `length` (a salt, an IV, a vault key). */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

function joined(label: string, parts: readonly string[]): Uint8Array {
  // NUL separates fields; none of them may hold one, so the encoding is unambiguous.
  needs(
    parts.every((p) => typeof p === 'string' && !p.includes('\0')),
    'BAD_ARGUMENT',
    'binding',
  );
  return utf8([label, ...parts].join('\0'));
}

async function aesKey(bytes: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', asBufferSource(bytes), { name: 'AES-GCM' }, false, usages);
}

/**
 * The KEK of the vault passphrase: PBKDF2-HMAC-SHA-256 over its UTF-8 bytes.
 * @throws VeilError BAD_ARGUMENT for an empty passphrase; OUT_OF_RANGE for a bad salt or count.
 */
export async function passphraseKek(
  passphrase: string,
  salt: Uint8Array,
  iterations: number = VAULT_PASSPHRASE_ITERATIONS,
): Promise<CryptoKey> {
  // Precondition: a passphrase, a salt of the stored size and a sane iteration count.
  needs(typeof passphrase === 'string' && passphrase.length > 0, 'BAD_ARGUMENT', 'passphrase');
  needs(salt instanceof Uint8Array && salt.length >= 16, 'OUT_OF_RANGE', 'salt');
  needs(
    Number.isSafeInteger(iterations) && iterations >= 1000 && iterations <= 10_000_000,
    'OUT_OF_RANGE',
    'iterations',
  );
  const secret = utf8(passphrase);
  try {
    const base = await crypto.subtle.importKey('raw', asBufferSource(secret), 'PBKDF2', false, [
      'deriveKey',
    ]);
    return await crypto.subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt: asBufferSource(salt), iterations },
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  } finally {
    secret.fill(0);
  }
}

/**
 * The raw 32 KEK bytes of a passkey: HKDF-SHA-256(ikm = PRF output, salt = the vault salt,
 * info = "veil vault passkey v1" 0x00 || credential id). Exported for the known-answer test;
 * the app uses passkeyKek. The caller zeroes the result.
 */
export async function passkeyKekBytes(
  prfOutput: Uint8Array,
  vaultSalt: Uint8Array,
  credentialId: Uint8Array,
): Promise<Uint8Array> {
  // Precondition: a PRF output of 32 bytes (WebAuthn's PRF always gives 32), a vault salt.
  needs(prfOutput instanceof Uint8Array, 'BAD_ARGUMENT', 'prfOutput');
  needs(prfOutput.length === 32, 'OUT_OF_RANGE', 'prfOutput must be 32 bytes');
  needs(vaultSalt instanceof Uint8Array && vaultSalt.length >= 16, 'OUT_OF_RANGE', 'vaultSalt');
  needs(credentialId instanceof Uint8Array && credentialId.length > 0, 'BAD_ARGUMENT', 'id');
  const ikm = await crypto.subtle.importKey('raw', asBufferSource(prfOutput), 'HKDF', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: asBufferSource(vaultSalt),
      info: asBufferSource(concatBytes(PASSKEY_INFO, credentialId)),
    },
    ikm,
    VAULT_KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** The KEK of a passkey (see passkeyKekBytes), non-extractable. */
export async function passkeyKek(
  prfOutput: Uint8Array,
  vaultSalt: Uint8Array,
  credentialId: Uint8Array,
): Promise<CryptoKey> {
  const bytes = await passkeyKekBytes(prfOutput, vaultSalt, credentialId);
  try {
    return await aesKey(bytes, ['encrypt', 'decrypt']);
  } finally {
    bytes.fill(0);
  }
}

/** Wraps the vault key's bytes under one method's KEK. The caller still owns `vaultKey`. */
export async function wrapVaultKey(
  kek: CryptoKey,
  vaultKey: Uint8Array,
  binding: MethodBinding,
): Promise<WrappedVaultKey> {
  // Precondition: a vault key of 32 bytes.
  needs(vaultKey.length === VAULT_KEY_BYTES, 'OUT_OF_RANGE', 'vaultKey must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const aad = joined(METHOD_AAD, [binding.vaultId, binding.methodId, binding.kind]);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad) },
    kek,
    asBufferSource(vaultKey),
  );
  return { iv, ciphertext: new Uint8Array(ciphertext) };
}

/**
 * Opens a wrapped vault key with a method's KEK; the caller zeroes the bytes returned.
 * @throws VeilError VAULT_UNLOCK_FAILED when the KEK is not the one it was wrapped under (a wrong
 *   passphrase, another passkey) or the record was altered.
 */
export async function unwrapVaultKey(
  kek: CryptoKey,
  wrapped: WrappedVaultKey,
  binding: MethodBinding,
): Promise<Uint8Array> {
  const aad = joined(METHOD_AAD, [binding.vaultId, binding.methodId, binding.kind]);
  let opened: Uint8Array;
  try {
    opened = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: asBufferSource(wrapped.iv),
          additionalData: asBufferSource(aad),
        },
        kek,
        asBufferSource(wrapped.ciphertext),
      ),
    );
  } catch (error) {
    throw new VeilError('VAULT_UNLOCK_FAILED', binding.kind, { cause: error });
  }
  if (opened.length !== VAULT_KEY_BYTES) {
    opened.fill(0);
    throw new VeilError('VAULT_LOCK_INVALID', 'vault key size');
  }
  return opened;
}

/** The vault key as this page holds it while unlocked: non-extractable AES-GCM. */
export function vaultKeyFromBytes(vaultKey: Uint8Array): Promise<CryptoKey> {
  return aesKey(vaultKey, ['encrypt', 'decrypt']);
}

/** Seals a Model A key's bytes under the vault key. The caller still owns `keyBytes`. */
export async function sealEntry(
  vaultKey: CryptoKey,
  keyBytes: Uint8Array,
  binding: EntryBinding,
): Promise<SealedEntry> {
  return sealBytes(vaultKey, keyBytes, entryAad(binding));
}

/**
 * AES-256-GCM of `plaintext` under the vault key with a fresh IV, bound to `aad`: the one seal
 * of every entry kind (Model A keys here, the person key pair in state/people/person-seal.ts).
 */
export async function sealBytes(
  vaultKey: CryptoKey,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<SealedEntry> {
  const iv = randomBytes(IV_BYTES);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad) },
    vaultKey,
    asBufferSource(plaintext),
  );
  return { iv, ciphertext: new Uint8Array(ciphertext) };
}

/**
 * Opens what sealBytes sealed under the same `aad`.
 * @throws VeilError VAULT_ENTRY_TAMPERED naming `what` when the seal fails.
 */
export async function openBytes(
  vaultKey: CryptoKey,
  sealed: SealedEntry,
  aad: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: asBufferSource(sealed.iv), additionalData: asBufferSource(aad) },
        vaultKey,
        asBufferSource(sealed.ciphertext),
      ),
    );
  } catch (error) {
    throw new VeilError('VAULT_ENTRY_TAMPERED', what, { cause: error });
  }
}

/**
 * Opens a sealed entry: its bytes, checked against the fingerprint it is stored with. The caller
 * zeroes the bytes returned.
 * @throws VeilError VAULT_ENTRY_TAMPERED when the seal fails (the entry, its name, namespace or
 *   fingerprint was changed, or it belongs to another vault) or the bytes do not match.
 */
export async function openEntry(
  vaultKey: CryptoKey,
  sealed: SealedEntry,
  binding: EntryBinding,
): Promise<Uint8Array> {
  const bytes = await openBytes(vaultKey, sealed, entryAad(binding), `"${binding.keyName}"`);
  if (
    ![16, 24, 32].includes(bytes.length) ||
    (await keyFingerprint(bytes)) !== binding.fingerprint
  ) {
    bytes.fill(0);
    throw new VeilError('VAULT_ENTRY_TAMPERED', `"${binding.keyName}"`);
  }
  return bytes;
}

function entryAad(binding: EntryBinding): Uint8Array {
  return joined(ENTRY_AAD, [
    binding.vaultId,
    binding.keyName,
    binding.keyNamespace,
    binding.fingerprint,
  ]);
}
