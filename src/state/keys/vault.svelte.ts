/**
 * Model A's key vault as the app uses it: the logic of vault-core.ts over IndexedDB (database
 * `veil-vault`, object store `keys`, through idb-keyval), with the list of keys in `$state` so
 * views follow it. CryptoKeys never reach that list.
 *
 * Its lock (vault-lock-core.ts, [Note: the vault envelope] in vault-seal.ts) lives beside it in
 * database `veil-vault-lock`; while unlocked, the vault locks after the chosen idle time with no
 * key press, pointer or wheel activity on the page (idle-lock.ts), and on demand.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { VeilError } from '../../core/errors';
import type { RawAesKeyMaterial } from '../../core/key-file';
import type { RawAesKeyring } from '../../keyrings/raw-aes';
import { preferences } from '../shared/preferences.svelte';
import { IdleLock } from './idle-lock';
import { browserLockChannel, LockBroadcast, type LockChannel } from './vault-broadcast';
import { unlockPrompter } from './unlock-request';
import type { LockedVaultKeyring } from './locked-keyring';
import {
  VaultLockCore,
  type LockStore,
  type LockView,
  type NewPasskey,
  type UnlockProof,
} from './vault-lock-core';
import {
  isStaleVaultKeyId,
  VaultCore,
  type AddOptions,
  type VaultKeyInfo,
  type VaultSealing,
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

/** The lock's record in IndexedDB, opened on first use. */
function indexedDbLockStore(): LockStore {
  let db: UseStore | undefined;
  const store = (): UseStore => (db ??= createStore('veil-vault-lock', 'lock'));
  return {
    get: () => get('lock', store()),
    set: (record) => set('lock', record, store()),
  };
}

const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

export class Vault {
  #keys = $state<readonly VaultKeyInfo[]>([]);
  #lock = $state<LockView>({ status: 'none', idleMinutes: 15, methods: [] });
  readonly #core: VaultCore;
  readonly #lockCore: VaultLockCore;
  readonly #idle: IdleLock;
  #listening = false;
  // Not reactive: no view reads it.
  #lockListeners: readonly (() => void)[] = [];
  #unlockListeners: readonly (() => void)[] = [];
  readonly #broadcast: LockBroadcast;

  constructor(
    store: VaultStore = indexedDbStore(),
    lockStore: LockStore = indexedDbLockStore(),
    channel: LockChannel | undefined = browserLockChannel(),
  ) {
    this.#broadcast = new LockBroadcast(channel, () => this.#lockHere());
    this.#lockCore = new VaultLockCore(lockStore, (view) => {
      this.#lock = view;
    });
    this.#core = new VaultCore(
      store,
      (keys) => {
        this.#keys = keys;
      },
      () => this.#lockCore.sealing(),
    );
    this.#idle = new IdleLock(
      {
        now: () => Date.now(),
        setTimeout: (run, ms) => setTimeout(run, ms),
        clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      () => this.lockNow(),
    );
  }

  /** The lock as the view shows it: none, locked or unlocked, its methods and idle time. */
  get lock(): LockView {
    return this.#lock;
  }

  /** True while unlocked by a method proved within 2 minutes ([Note: a fresh unlock]). */
  isFresh(): boolean {
    return this.#lockCore.isFresh();
  }

  /** The PRF input and credential ids a passkey request needs (undefined without a lock). */
  passkeyRequest(): { vaultSalt: Uint8Array; credentialIds: Uint8Array[] } | undefined {
    return this.#lockCore.passkeyRequest();
  }

  /**
   * The lock as other stores under it see it: none, locked, or the vault id and key (the user's
   * key pair in state/people, [Note: the key pair under the lock]).
   */
  sealing(): VaultSealing | undefined {
    return this.#lockCore.sealing();
  }

  /**
   * Sets a lock with `passphrase` (see VaultLockCore.setUp); the vault stays unlocked, and the
   * keys stored until now are vouched for ([Note: keys vouched for by the lock]).
   */
  async setUpLock(passphrase: string): Promise<void> {
    await this.#lockCore.setUp(passphrase);
    await this.#vouchOnce();
    this.#keys = [...this.#core.keys];
    this.#watchIdle();
  }

  /**
   * Unlocks and opens every sealed key and checks every vouched one; entries that fail are
   * returned and not used. A lock set before vouches existed vouches for its unsealed keys now.
   * @throws VeilError VAULT_UNLOCK_FAILED.
   */
  async unlock(proof: UnlockProof): Promise<VeilError[]> {
    await this.#lockCore.unlock(proof);
    await this.#vouchOnce();
    const errors = await this.#core.unseal();
    this.#keys = [...this.#core.keys];
    this.#watchIdle();
    for (const listener of this.#unlockListeners) listener();
    return errors;
  }

  /** Adds a passkey, proved by `proof` (see VaultLockCore.addPasskey). */
  async addPasskey(proof: UnlockProof, passkey: NewPasskey): Promise<void> {
    await this.#lockCore.addPasskey(proof, passkey);
    await this.#core.unseal();
    this.#watchIdle();
  }

  removeMethod(id: string): Promise<void> {
    return this.#lockCore.removeMethod(id);
  }

  async setIdleMinutes(minutes: number): Promise<void> {
    await this.#lockCore.setIdleMinutes(minutes);
    this.#watchIdle();
  }

  /**
   * Locks now: the vault key and every sealed key leave memory; listeners (onLock) are told, and
   * so are the other tabs, which lock too ([Note: one lock for every tab]).
   */
  lockNow(): void {
    this.#lockHere();
    this.#broadcast.announce();
  }

  #lockHere(): void {
    this.#idle.stop();
    this.#lockCore.lock();
    this.#core.dropSealed();
    this.#keys = [...this.#core.keys];
    for (const listener of this.#lockListeners) listener();
  }

  /** Calls `listener` each time the vault locks (to wipe key bytes a view holds); returns the undo. */
  onLock(listener: () => void): () => void {
    this.#lockListeners = [...this.#lockListeners, listener];
    return () => {
      this.#lockListeners = this.#lockListeners.filter((other) => other !== listener);
    };
  }

  /** Calls `listener` each time an unlock succeeds (to open again what the lock closed). */
  onUnlock(listener: () => void): () => void {
    this.#unlockListeners = [...this.#unlockListeners, listener];
    return () => {
      this.#unlockListeners = this.#unlockListeners.filter((other) => other !== listener);
    };
  }

  /**
   * The bytes of a key under the lock, for a key file or backup (the caller zeroes them).
   * @throws VeilError VAULT_REAUTH_NEEDED without a fresh unlock; see VaultCore.exportMaterial.
   */
  async exportMaterial(keyName: string): Promise<RawAesKeyMaterial> {
    if (!this.#lockCore.isFresh()) {
      throw new VeilError(
        this.#lockCore.view.status === 'locked' ? 'VAULT_LOCKED' : 'VAULT_REAUTH_NEEDED',
      );
    }
    return this.#core.exportMaterial(keyName);
  }

  /** Vouches for the unsealed keys once per lock; the record says so only after all are done. */
  async #vouchOnce(): Promise<void> {
    if (this.#lockCore.entriesVouched) return;
    await this.#core.vouchPlain();
    await this.#lockCore.markEntriesVouched();
  }

  /** Starts the idle lock while unlocked, with activity listeners added once. */
  #watchIdle(): void {
    if (this.#lockCore.view.status !== 'unlocked') return;
    if (!this.#listening && typeof window !== 'undefined') {
      this.#listening = true;
      const touch = () => this.#idle.touch();
      for (const name of ACTIVITY_EVENTS) {
        window.addEventListener(name, touch, { passive: true, capture: true });
      }
    }
    this.#idle.start(this.#lockCore.view.idleMinutes * 60_000);
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
    await this.#lockCore.load();
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

  /**
   * Keyrings of every key held, for opening downloads: a locked key asks the app's unlock prompt
   * when an object names it, then opens ([Note: unlock where the user is]); without a prompt,
   * or for a refused entry, it fails with VAULT_LOCKED or why.
   */
  keyrings(): (RawAesKeyring | LockedVaultKeyring)[] {
    void this.#keys;
    return this.#core.keyrings(unlockPrompter());
  }
}

/** The app's one vault. */
export const vault = new Vault();
