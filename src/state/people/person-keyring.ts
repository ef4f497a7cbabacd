/**
 * The keyring that opens what was shared with the user's key pair, as downloads and the inbox
 * hold it: one object for the page's life, which asks for the private key only when an object
 * names it ([Note: the key pair under the lock] in person-seal.ts). Under a locked vault that
 * ask opens the app's unlock prompt and goes on once unlocked ([Note: unlock where the user is]
 * in src/state/keys/unlock-request.ts); with no prompt it fails with VAULT_LOCKED
 * (VAULT_ENTRY_TAMPERED for an entry that failed its check), so the user is told to unlock
 * instead of being told that no key opens the file; an object that names
 * another key is not held up by it (undefined, as any keyring whose key is not named).
 */
import { utf8 } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import type { DecryptRequest, EncryptResult, Keyring } from '../../core/keyring';
import { PERSON_PROVIDER_ID } from '../../core/provider-info';
import { RawRsaKeyring } from '../../keyrings/raw-rsa';
import { withUnlockedVault } from '../keys/unlock-request';

export class PersonKeyring implements Keyring {
  readonly keyNamespace = PERSON_PROVIDER_ID;
  readonly keyName: string;
  readonly #keyNameBytes: Uint8Array;
  readonly #privateKey: () => Promise<CryptoKey>;

  /** `privateKey` gives the key while it may be used, and throws (VAULT_LOCKED, …) otherwise. */
  constructor(fingerprint: string, privateKey: () => Promise<CryptoKey>) {
    this.keyName = fingerprint;
    this.#keyNameBytes = utf8(fingerprint);
    this.#privateKey = privateKey;
  }

  /** @throws VeilError KEYRING_INVALID always: this keyring only opens. */
  onEncrypt(): Promise<EncryptResult> {
    return Promise.reject(
      new VeilError('KEYRING_INVALID', `key "${this.keyName}" has no public key to wrap with`),
    );
  }

  /**
   * Undefined when no EDK names this key; else what the raw RSA keyring of the private key says.
   * @throws VeilError VAULT_LOCKED while the key is under a locked vault; WRONG_KEY.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const named = request.encryptedDataKeys.some(
      (edk) =>
        edk.providerId === this.keyNamespace &&
        edk.providerInfo.length === this.#keyNameBytes.length &&
        edk.providerInfo.every((byte, index) => byte === this.#keyNameBytes[index]),
    );
    if (!named) return undefined;
    // Locked: the app's unlock prompt asks, and the file opens once unlocked.
    const privateKey = await withUnlockedVault(() => this.#privateKey());
    return new RawRsaKeyring({ keyName: this.keyName, privateKey }).onDecrypt(request);
  }
}
