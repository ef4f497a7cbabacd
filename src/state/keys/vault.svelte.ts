/**
 * Model A's key vault as the app uses it: the logic of vault-core.ts over IndexedDB (database
 * `veil-vault`, object store `keys`, through idb-keyval), with the list of keys in `$state` so
 * views follow it. CryptoKeys never reach that list.
 */
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import { VeilError } from '../../core/errors';
import type { RawAesKeyMaterial } from '../../core/key-file';
import type { RawAesKeyring } from '../../keyrings/raw-aes';
import { preferences } from '../shared/preferences.svelte';
import {
  isStaleVaultKeyId,
  VaultCore,
  type AddOptions,
  type VaultKeyInfo,
  type VaultStore,
} from './vault-core';

export { keyFingerprint, type VaultKeyInfo } from './vault-core';

/** The vault's store in IndexedDB, opened on first use. */
function indexedDbStore(): VaultStore {
  let db: UseStore | undefined;
  const store = (): UseStore => (db ??= createStore('veil-vault', 'keys'));
  return {
    entries: () => entries(store()),
    set: (keyName, value) => set(keyName, value, store()),
    del: (keyName) => del(keyName, store()),
  };
}

export class Vault {
  #keys = $state<readonly VaultKeyInfo[]>([]);
  readonly #core: VaultCore;

  constructor(store: VaultStore = indexedDbStore()) {
    this.#core = new VaultCore(store, (keys) => {
      this.#keys = keys;
    });
  }

  /** Keys in the vault and this page's session keys, by name. */
  get keys(): readonly VaultKeyInfo[] {
    return this.#keys;
  }

  /**
   * Reads the vault from IndexedDB once (later calls wait for the same read). A Model A default
   * (preferences.vaultKeyId) that names no key of the vault is dropped then: the key was deleted
   * or was held for an earlier page only.
   */
  async load(): Promise<void> {
    await this.#core.load();
    if (isStaleVaultKeyId(preferences.values.vaultKeyId, this.#core.keys)) {
      preferences.update({ vaultKeyId: undefined });
    }
  }

  /** See VaultCore.add: takes ownership of `material.keyBytes` (zeroed, also on failure). */
  add(material: RawAesKeyMaterial, options?: AddOptions): Promise<VaultKeyInfo> {
    return this.#core.add(material, options);
  }

  /** Records that the user saved a copy of a key outside the browser. */
  markCopy(keyName: string, copy: 'keyFile' | 'backup'): Promise<void> {
    return this.#core.markCopy(keyName, copy);
  }

  /** Deletes a key from the vault (and this page). */
  remove(keyName: string): Promise<void> {
    return this.#core.remove(keyName);
  }

  /**
   * The raw AES keyring of one key.
   * @throws VeilError VAULT_KEY_MISSING when no key has that name.
   */
  keyring(keyName: string): RawAesKeyring {
    // Read the reactive list first: a view that asks for a key before the vault is loaded (the
    // Upload page right after a reload) then follows the load, instead of keeping the miss.
    if (!this.#keys.some((k) => k.keyName === keyName)) {
      throw new VeilError('VAULT_KEY_MISSING', keyName);
    }
    return this.#core.keyring(keyName);
  }

  /** Keyrings of every key held, for opening downloads. */
  keyrings(): RawAesKeyring[] {
    void this.#keys;
    return this.#core.keyrings();
  }
}

/** The app's one vault. */
export const vault = new Vault();
