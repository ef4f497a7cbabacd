/**
 * [Note: keys vouched for by the lock] A Model A key stored before the vault had a lock is a
 * non-extractable CryptoKey: its bytes cannot be read back, so it cannot be sealed. Anyone who can
 * write the browser's storage (someone with the profile on disk, a script on the origin) could put
 * a CryptoKey of their own beside it in the same shape, and the vault would take it for one stored
 * before the lock: files uploaded under it would be theirs to read.
 *
 * So when a lock is set, the vault vouches for every key it holds unsealed, under the vault key:
 * a vouch is sealed with sealBytes (AES-256-GCM under the vault key, additional data = a label of
 * its own, the vault id, the key's name, namespace and fingerprint) over a check the key itself
 * made: a fresh IV and the AES-GCM tag of an empty message under that key, bound to the same
 * fields. Opening the vouch needs the vault key; the check then passes only for the very key it
 * was made with (GCM's tag under another key fails), so a vouch moved to another entry, another
 * name or another vault, or a planted key under a vouched name, is refused. Verifying needs the
 * vault key: under a lock every stored key, sealed or vouched, is usable only while unlocked.
 *
 * Once a lock exists, an unsealed entry with no vouch that opens is refused (VAULT_ENTRY_TAMPERED)
 * and never used. A lock set before vouches existed is migrated at its first unlock: the unsealed
 * keys then in the store are vouched for (nothing older can tell them apart from a planted one),
 * and the lock record says so from then on (`entriesVouched`).
 */
import { asBufferSource, concatBytes, utf8 } from '../../core/bytes';
import { VeilError, needs } from '../../core/errors';
import {
  openBytes,
  randomBytes,
  sealBytes,
  type EntryBinding,
  type SealedEntry,
} from './vault-seal';

const VOUCH_AAD = 'veil vault pre-lock key v1';
const CHECK_AAD = 'veil vault pre-lock check v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function bound(label: string, binding: EntryBinding): Uint8Array {
  const parts = [binding.vaultId, binding.keyName, binding.keyNamespace, binding.fingerprint];
  // NUL separates fields; none of them may hold one, so the encoding is unambiguous.
  needs(
    parts.every((p) => typeof p === 'string' && !p.includes('\0')),
    'BAD_ARGUMENT',
    'binding',
  );
  return utf8([label, ...parts].join('\0'));
}

/**
 * The vault's vouch for a key stored unsealed: a check made with `key`, sealed under the vault
 * key and bound to `binding`.
 * @throws VeilError BAD_ARGUMENT for a binding field holding a NUL; WebCrypto errors for a key
 *   that cannot encrypt.
 */
export async function vouchFor(
  vaultKey: CryptoKey,
  key: CryptoKey,
  binding: EntryBinding,
): Promise<SealedEntry> {
  const iv = randomBytes(IV_BYTES);
  const tag = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: asBufferSource(iv),
        additionalData: asBufferSource(bound(CHECK_AAD, binding)),
      },
      key,
      new Uint8Array(0),
    ),
  );
  return sealBytes(vaultKey, concatBytes(iv, tag), bound(VOUCH_AAD, binding));
}

/**
 * Checks the vault's vouch for an unsealed `key` stored under `binding`.
 * @throws VeilError VAULT_ENTRY_TAMPERED when the vouch does not open under the vault key and
 *   binding (forged, moved, of another vault) or `key` is not the key it was made with.
 */
export async function checkVouch(
  vaultKey: CryptoKey,
  key: CryptoKey,
  vouch: SealedEntry,
  binding: EntryBinding,
): Promise<void> {
  const what = `"${binding.keyName}"`;
  const check = await openBytes(vaultKey, vouch, bound(VOUCH_AAD, binding), what);
  if (check.length !== IV_BYTES + TAG_BYTES) throw new VeilError('VAULT_ENTRY_TAMPERED', what);
  try {
    await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: asBufferSource(check.subarray(0, IV_BYTES)),
        additionalData: asBufferSource(bound(CHECK_AAD, binding)),
      },
      key,
      asBufferSource(check.subarray(IV_BYTES)),
    );
  } catch (cause) {
    throw new VeilError('VAULT_ENTRY_TAMPERED', what, { cause });
  }
}
