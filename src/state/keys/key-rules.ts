/**
 * The Keys view's pure rules: key names, new key material, the names of saved files, and what a
 * key's copies mean for the user (see [Note: copies of a vault key]).
 *
 * [Note: copies of a vault key] Vault keys are non-extractable CryptoKeys: once in IndexedDB not
 * even this app can read them back. So the only moments a key file or a backup can be written are
 * when the key is generated or imported, while its bytes are still in memory; the Keys view
 * offers both then and wipes the bytes when the user is done. The vault records which copies were
 * saved (vault.markCopy), and deleting a key with none asks for confirmation in stronger words:
 * every object encrypted with it becomes unreadable.
 */
import { VeilError } from '../../core/errors';
import { DEFAULT_KEY_NAMESPACE, type RawAesKeyMaterial } from '../../core/key-file';
import type { VaultKeyInfo } from './vault-core';

/** Key names: what the HSM labels allow too, so a name reads the same everywhere. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The bytes of a new Model A key (AES-256). */
export const NEW_KEY_BYTES = 32;

/**
 * Checks a key name typed by the user: trimmed, 1 to 64 of `A-Z a-z 0-9 . _ -`, not taken.
 * @throws VeilError KEY_NAME_INVALID saying which rule it breaks.
 */
export function checkKeyName(name: string, taken: readonly string[]): string {
  const trimmed = name.trim();
  if (!KEY_NAME.test(trimmed)) {
    throw new VeilError(
      'KEY_NAME_INVALID',
      trimmed === '' ? 'the name is empty' : `"${trimmed}" has a character not allowed`,
    );
  }
  if (taken.includes(trimmed)) {
    throw new VeilError('KEY_NAME_INVALID', `"${trimmed}" is already used`);
  }
  return trimmed;
}

/** A suggested name for a new key that is not taken: `key-YYYY-MM-DD`, then `-2`, `-3`... */
export function suggestKeyName(taken: readonly string[], now: Date = new Date()): string {
  const base = `key-${now.toISOString().slice(0, 10)}`;
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) {
    const name = `${base}-${n}`;
    if (!taken.includes(name)) return name;
  }
}

/**
 * New random AES-256 key material in the `veil` namespace. The caller owns the bytes (zero them,
 * or hand them to vault.add, which does).
 */
export function generateKeyMaterial(keyName: string): RawAesKeyMaterial {
  const keyBytes = crypto.getRandomValues(new Uint8Array(NEW_KEY_BYTES));
  return { keyBytes, keyName, keyNamespace: DEFAULT_KEY_NAMESPACE };
}

/** A copy of material whose bytes the caller may zero independently. */
export function copyMaterial(material: RawAesKeyMaterial): RawAesKeyMaterial {
  return { ...material, keyBytes: material.keyBytes.slice() };
}

/** The file name a key file is saved under (`<name>.jwk`, what `veil keygen` writes too). */
export function keyFileName(keyName: string): string {
  return `${keyName}.jwk`;
}

/** The file name a passphrase backup is saved under. */
export function backupFileName(keyName: string): string {
  return `${keyName}.backup.jwe`;
}

/** True when the vault holds the only copy of the key (no key file, no backup saved). */
export function isLastCopy(info: Pick<VaultKeyInfo, 'copies'>): boolean {
  return !info.copies.keyFile && !info.copies.backup;
}

/** One line on where a key's copies are, as the Keys view shows it. */
export function copiesLabel(info: Pick<VaultKeyInfo, 'copies' | 'sessionOnly'>): string {
  const saved = [info.copies.keyFile ? 'key file' : '', info.copies.backup ? 'backup' : ''].filter(
    (s) => s !== '',
  );
  const here = info.sessionOnly ? 'this page only (not kept after reload)' : 'this browser';
  if (saved.length === 0) return `Only in ${here}: no key file or backup saved`;
  return `In ${here}, and saved as ${saved.join(' and ')}`;
}

/** What the delete dialog says. */
export function deleteWarning(info: Pick<VaultKeyInfo, 'keyName' | 'copies'>): string {
  if (isLastCopy(info)) {
    return `This is the only copy of “${info.keyName}”: no key file or backup was saved. Every object encrypted with it becomes unreadable, for you and for anyone else, and nothing can bring it back.`;
  }
  return `“${info.keyName}” is removed from this browser. Objects encrypted with it stay readable with the key file or backup you saved: import it again to open them.`;
}

/**
 * The Model A default (preferences.vaultKeyId) after generating `keyName`: a key kept in the
 * vault becomes the default when there is none; a page-only key never does, since it is gone
 * after a reload and the default would name nothing.
 */
export function vaultKeyIdAfterGenerate(
  current: string | undefined,
  keyName: string,
  keepInVault: boolean,
): string | undefined {
  return keepInVault ? (current ?? keyName) : current;
}
