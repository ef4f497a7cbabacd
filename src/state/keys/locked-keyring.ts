/**
 * What stands in a download's keyring for a vault key that is under the lock while the vault is
 * locked ([Note: the vault envelope] in vault-seal.ts): it opens nothing, and when an object names
 * that key it fails with VAULT_LOCKED, so the user is told to unlock instead of being told that no
 * key opens the file. An object that another key at hand opens is not held up by it (the
 * multi-keyring tries every child and reports the first failure only when none opens).
 */
import { compareBytes, utf8 } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import type { DecryptRequest, EncryptResult, Keyring } from '../../core/keyring';
import { parseRawAesProviderInfo } from '../../core/provider-info';

export class LockedVaultKeyring implements Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  readonly #keyNameBytes: Uint8Array;
  readonly #code: 'VAULT_LOCKED' | 'VAULT_ENTRY_TAMPERED';

  /** `code` is VAULT_ENTRY_TAMPERED for an entry that failed its seal on unlock. */
  constructor(
    keyNamespace: string,
    keyName: string,
    code: 'VAULT_LOCKED' | 'VAULT_ENTRY_TAMPERED' = 'VAULT_LOCKED',
  ) {
    this.keyNamespace = keyNamespace;
    this.keyName = keyName;
    this.#code = code;
    this.#keyNameBytes = utf8(keyName);
  }

  /** @throws VeilError VAULT_LOCKED (or the code given) always: a locked key wraps nothing. */
  onEncrypt(): Promise<EncryptResult> {
    return Promise.reject(new VeilError(this.#code, `key "${this.keyName}"`));
  }

  /**
   * Undefined when no EDK names this key.
   * @throws VeilError VAULT_LOCKED (or the code given) when one does.
   */
  onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const named = request.encryptedDataKeys.some((edk) => {
      if (edk.providerId !== this.keyNamespace) return false;
      const info = parseRawAesProviderInfo(edk.providerInfo);
      return info !== undefined && compareBytes(info.keyNameBytes, this.#keyNameBytes) === 0;
    });
    return named
      ? Promise.reject(new VeilError(this.#code, `key "${this.keyName}"`))
      : Promise.resolve(undefined);
  }
}
