/**
 * What stands in a download's keyring for a vault key that cannot be used now: under the lock
 * while the vault is locked ([Note: the vault envelope] in vault-seal.ts), or refused. It opens
 * nothing by itself, and when an object names that key it fails with why (VAULT_LOCKED, …), so
 * the user is told to unlock instead of being told that no key opens the file. Given an `unlock`
 * (the app's unlock prompt, [Note: unlock where the user is] in unlock-prompt.svelte.ts), a
 * VAULT_LOCKED key first waits for it and then opens with the key, so the download goes on. An
 * object that another key at hand opens is not held up by it (the multi-keyring tries every
 * child and reports the first failure only when none opens).
 */
import { compareBytes, utf8 } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import type { DecryptRequest, EncryptResult, Keyring } from '../../core/keyring';
import { parseRawAesProviderInfo } from '../../core/provider-info';

/** Why a vault key cannot be used now. */
export type LockedCode =
  'VAULT_LOCKED' | 'VAULT_ENTRY_TAMPERED' | 'VAULT_LOCK_INVALID' | 'VAULT_KEY_MISSING';

/** How a VAULT_LOCKED key is opened after all: the unlock prompt, then the key's keyring. */
export interface UnlockThen {
  /** Resolves once the vault is unlocked; rejects (VAULT_UNLOCK_CANCELLED, …) otherwise. */
  readonly unlock?: (() => Promise<void>) | undefined;
  readonly keyring: () => Keyring;
}

export class LockedVaultKeyring implements Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  readonly #keyNameBytes: Uint8Array;
  readonly #code: LockedCode;
  readonly #then: UnlockThen | undefined;

  /** `code` is VAULT_ENTRY_TAMPERED for an entry that failed its check on unlock. */
  constructor(
    keyNamespace: string,
    keyName: string,
    code: LockedCode = 'VAULT_LOCKED',
    then?: UnlockThen,
  ) {
    this.keyNamespace = keyNamespace;
    this.keyName = keyName;
    this.#code = code;
    this.#then = then;
    this.#keyNameBytes = utf8(keyName);
  }

  /** @throws VeilError VAULT_LOCKED (or the code given) always: a locked key wraps nothing. */
  onEncrypt(): Promise<EncryptResult> {
    return Promise.reject(new VeilError(this.#code, `key "${this.keyName}"`));
  }

  /**
   * Undefined when no EDK names this key; when one does and an unlock is at hand for a locked
   * key, what the key opens after the unlock.
   * @throws VeilError VAULT_LOCKED (or the code given) when one does; what the unlock throws.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const named = request.encryptedDataKeys.some((edk) => {
      if (edk.providerId !== this.keyNamespace) return false;
      const info = parseRawAesProviderInfo(edk.providerInfo);
      return info !== undefined && compareBytes(info.keyNameBytes, this.#keyNameBytes) === 0;
    });
    if (!named) return undefined;
    const unlock = this.#then?.unlock;
    if (this.#code !== 'VAULT_LOCKED' || !unlock || !this.#then) {
      throw new VeilError(this.#code, `key "${this.keyName}"`);
    }
    await unlock();
    return this.#then.keyring().onDecrypt(request);
  }
}
