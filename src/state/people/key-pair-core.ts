/**
 * The user's own key pair for sharing with people (people.svelte.ts is the app's reactive wrapper):
 * an RSA-OAEP-4096 key pair whose private key is kept as a non-extractable CryptoKey in a
 * key-value store (IndexedDB in the app: it holds CryptoKey objects as they are; a Map in tests),
 * beside its passphrase backup ([Note: key pair backup] in src/keyrings/rsa-backup.ts).
 *
 * [Note: the key pair's copies] The private key's bytes exist in page memory twice only: when the
 * pair is created (to make the backup, then zeroed) and when the user exports it as PEM after
 * typing the passphrase again (the backup is opened; the CryptoKey is never read back), and,
 * under the lock, while a seal is opened (imported at once, then zeroed). The backup is what "Save backup" downloads and what "Restore" takes on another device.
 *
 * When the vault has a lock, the pair is kept under it instead ([Note: the key pair under the
 * lock] in person-seal.ts): sealed under the vault key, its private key opened only while the
 * vault is unlocked and dropped on lock (vaultLocked). A pair stored before the lock was set
 * stays a plain non-extractable CryptoKey until the user puts it under the lock (putUnderLock,
 * with the backup's passphrase).
 */
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import { createKeyPairBackup, openKeyPairBackup } from '../../keyrings/rsa-backup';
import { generateKeyPair, pemToPkcs8, type PersonKeyPair } from '../../keyrings/rsa-keys';
import { checkPersonName } from '../../transfer/people-directory';
import type { VaultSealing } from '../keys/vault-core';
import type { SealedEntry } from '../keys/vault-seal';
import {
  infoMatchesKey,
  isPlain,
  isSealed,
  keyPairProtection,
  type KeyPairProtection,
} from './key-pair-shape';
import { privateKeyMatches } from './key-match';
import { PersonKeyring } from './person-keyring';
import { openPersonKey, sealPersonKey } from './person-seal';

export { keyPairProtection, type KeyPairProtection } from './key-pair-shape';

/** What the UI shows of the key pair (no key material). */
export interface KeyPairInfo {
  /** The display name published with the public key. */
  readonly name: string;
  /** 64 hex digits ([Note: a person's key]). */
  readonly fingerprint: string;
  readonly publicKeySpki: Uint8Array;
  readonly createdAtMs: number;
  /** The user confirmed saving the backup outside the browser. */
  readonly backupSaved: boolean;
  /** Stored sealed under the vault's lock ([Note: the key pair under the lock]). */
  readonly underLock?: boolean;
}

/** A key pair stored as a non-extractable CryptoKey beside its backup (no lock, or before it). */
export interface PlainKeyPair {
  readonly info: KeyPairInfo;
  readonly privateKey: CryptoKey;
  /** The passphrase backup (a JWE; opens only with the passphrase). */
  readonly backup: string;
}

/** A key pair stored under the vault's lock: the private key and backup sealed together. */
export interface SealedKeyPair {
  readonly info: KeyPairInfo & { readonly underLock: true };
  readonly sealed: SealedEntry;
}

/** One stored key pair. */
export type StoredKeyPair = PlainKeyPair | SealedKeyPair;

/** The store's slots: the pair, and the record that it is under the lock (its fingerprint). */
export type KeyPairSlot = 'mine' | 'sealed-mark';

/** Where the key pair is kept (IndexedDB in the app, a Map in tests). */
export interface KeyPairStore {
  get(slot: KeyPairSlot): Promise<unknown>;
  set(slot: KeyPairSlot, value: StoredKeyPair | string): Promise<void>;
  del(slot: KeyPairSlot): Promise<void>;
}

/** A time in milliseconds since the epoch as ISO 8601 (the directory's `created`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

type Unlocked = Exclude<VaultSealing, 'locked'>;

export class KeyPairCore {
  readonly #store: KeyPairStore;
  #sealing: () => VaultSealing | undefined;
  readonly #isFresh: () => boolean;
  #stored: StoredKeyPair | undefined;
  // A plain CryptoKey entry found where the store records a sealed pair: never used.
  #tampered = false;
  // The opened private key of a sealed pair, and the vault key it was opened under.
  #held: { readonly key: CryptoKey; readonly vaultKey: CryptoKey } | undefined;
  #keyring: PersonKeyring | undefined;
  #loaded: Promise<void> | undefined;

  /**
   * `sealing` says whether the vault has a lock and holds its key (none by default); `isFresh`
   * whether it was unlocked within 2 minutes (Vault.isFresh, [Note: a fresh unlock]).
   */
  constructor(
    store: KeyPairStore,
    sealing: () => VaultSealing | undefined = () => undefined,
    isFresh: () => boolean = () => false,
  ) {
    this.#store = store;
    this.#sealing = sealing;
    this.#isFresh = isFresh;
  }

  /** The key pair, once loaded; undefined when there is none. */
  get info(): KeyPairInfo | undefined {
    return this.#stored?.info;
  }

  /** True when the stored pair was refused ([Note: the key pair under the lock]). */
  get tampered(): boolean {
    return this.#tampered;
  }

  /** How the pair is protected now (undefined without a pair). */
  get protection(): KeyPairProtection | undefined {
    const info = this.#stored?.info;
    if (!info) return undefined;
    const sealing = this.#sealing();
    const status = sealing === undefined ? 'none' : sealing === 'locked' ? 'locked' : 'unlocked';
    return keyPairProtection(info, this.#tampered, status);
  }

  /**
   * Reads the store once (a failed read is tried again on the next call). A plain entry beside
   * the record of a sealed pair, or info whose fingerprint is not its public key's, is kept as
   * tampered, never used.
   */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const [value, mark] = await Promise.all([
        this.#store.get('mine'),
        this.#store.get('sealed-mark'),
      ]);
      this.#held = undefined;
      this.#stored = isSealed(value) || isPlain(value) ? value : undefined;
      this.#tampered = this.#stored !== undefined && !isSealed(value) && mark !== undefined;
      if (this.#stored && !(await infoMatchesKey(this.#stored.info))) this.#tampered = true;
    })().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  /**
   * Creates a key pair for `name`, with its backup under `passphrase`, and keeps both (sealed
   * when the vault has a lock).
   * @returns the backup text, for saving.
   * @throws VeilError BAD_ARGUMENT for a bad name; BACKUP_PASSPHRASE_WEAK; KEY_NAME_TAKEN when a
   *   key pair is already held (delete it first); VAULT_LOCKED when the vault is locked.
   */
  async create(name: string, passphrase: string, nowMs = Date.now()): Promise<string> {
    await this.#needNone();
    const checkedName = checkPersonName(name);
    const pair = await generateKeyPair();
    try {
      const backup = await createKeyPairBackup(pair.pkcs8, pair.fingerprint, passphrase);
      const info = {
        name: checkedName,
        fingerprint: pair.fingerprint,
        publicKeySpki: pair.publicKeySpki,
        createdAtMs: nowMs,
        backupSaved: false,
      };
      await this.#keepNew(info, pair, pair.pkcs8, backup);
      return backup;
    } finally {
      pair.pkcs8.fill(0);
    }
  }

  /**
   * Restores a key pair from its backup (another device's), under `name` (sealed when the vault
   * has a lock).
   * @throws VeilError BACKUP_INVALID, BACKUP_WRONG_PASSPHRASE, PRIVATE_KEY_INVALID; BAD_ARGUMENT
   *   for a bad name; KEY_NAME_TAKEN when a key pair is already held; VAULT_LOCKED.
   */
  async restore(backup: string, passphrase: string, name: string, nowMs = Date.now()) {
    await this.#needNone();
    const checkedName = checkPersonName(name);
    const { pem, pair } = await openKeyPairBackup(backup, passphrase);
    const pkcs8 = pemToPkcs8(pem);
    try {
      const info = {
        name: checkedName,
        fingerprint: pair.fingerprint,
        publicKeySpki: pair.publicKeySpki,
        createdAtMs: nowMs,
        backupSaved: true,
      };
      await this.#keepNew(info, pair, pkcs8, backup.trim());
    } finally {
      pkcs8.fill(0);
    }
  }

  /**
   * Puts a pair stored before the lock was set under it: the backup, opened with its
   * passphrase, gives the private key's bytes (the stored CryptoKey cannot be read back), which
   * are sealed; the plain entry is replaced.
   * @throws VeilError KEY_PAIR_MISSING; VAULT_LOCK_INVALID without a lock; VAULT_LOCKED;
   *   BACKUP_WRONG_PASSPHRASE; PRIVATE_KEY_INVALID when the backup holds another key.
   */
  async putUnderLock(passphrase: string): Promise<void> {
    const stored = this.#require();
    if (!isPlain(stored)) return;
    const sealing = this.#unlocked('to put your key pair under the lock');
    const { pem, pair } = await openKeyPairBackup(stored.backup, passphrase);
    if (pair.fingerprint !== stored.info.fingerprint) {
      throw new VeilError('PRIVATE_KEY_INVALID', 'the backup names another key than it holds');
    }
    const pkcs8 = pemToPkcs8(pem);
    try {
      await this.#seal(stored.info, pair, pkcs8, stored.backup, sealing);
    } finally {
      pkcs8.fill(0);
    }
  }

  /**
   * The backup text, for "Save backup"; of a pair under the lock only after a fresh unlock, as a
   * Model A key's export.
   * @throws VeilError KEY_PAIR_MISSING; VAULT_LOCKED under a locked vault; VAULT_REAUTH_NEEDED
   *   without a fresh unlock; VAULT_ENTRY_TAMPERED.
   */
  async backup(): Promise<string> {
    const stored = this.#usable();
    if (isPlain(stored)) return stored.backup;
    const sealing = this.#unlocked('to save the backup');
    if (!this.#isFresh()) throw new VeilError('VAULT_REAUTH_NEEDED');
    const opened = await openPersonKey(
      sealing.vaultKey,
      stored.sealed,
      this.#binding(stored, sealing),
    );
    return opened.backup;
  }

  /**
   * The info to publish, only once the private key (opened from its seal under the lock) is
   * shown to belong to its public key: stored info rewritten with another key is never
   * published under the user's name.
   * @throws VeilError KEY_PAIR_MISSING; VAULT_LOCKED; VAULT_ENTRY_TAMPERED when the keys differ.
   */
  async publishable(): Promise<KeyPairInfo> {
    await this.load();
    const info = this.#usable().info;
    const privateKey = await this.privateKey();
    if (this.#stored?.info !== info || !(await privateKeyMatches(info.publicKeySpki, privateKey))) {
      throw new VeilError('VAULT_ENTRY_TAMPERED', 'your key pair');
    }
    return info;
  }

  /** Records that the user saved the backup. */
  async markBackupSaved(): Promise<void> {
    const stored = this.#require();
    await this.#keep({ ...stored, info: { ...stored.info, backupSaved: true } } as StoredKeyPair);
  }

  /**
   * The private key as PKCS#8 PEM, opened from the backup with the passphrase typed again
   * ([Note: the key pair's copies]). Secret: hand it to the save and drop it.
   * @throws VeilError KEY_PAIR_MISSING; VAULT_LOCKED; BACKUP_WRONG_PASSPHRASE.
   */
  async exportPem(passphrase: string): Promise<string> {
    return (await openKeyPairBackup(await this.backup(), passphrase)).pem;
  }

  /** Deletes the key pair (and the record that it was sealed) from this browser. */
  async remove(): Promise<void> {
    await this.#store.del('mine');
    await this.#store.del('sealed-mark');
    this.#stored = undefined;
    this.#held = undefined;
    this.#tampered = false;
  }

  /**
   * The keyring that opens what was shared with this key pair; it asks for the private key only
   * when an object names it, so it fails VAULT_LOCKED while the vault is locked.
   * @throws VeilError KEY_PAIR_MISSING.
   */
  keyring(): Keyring {
    const { fingerprint } = this.#require().info;
    if (this.#keyring?.keyName !== fingerprint) {
      this.#keyring = new PersonKeyring(fingerprint, () => this.privateKey());
    }
    return this.#keyring;
  }

  /**
   * The private key, opened from its seal while the vault is unlocked.
   * @throws VeilError KEY_PAIR_MISSING; VAULT_LOCKED; VAULT_ENTRY_TAMPERED.
   */
  async privateKey(): Promise<CryptoKey> {
    await this.load();
    const stored = this.#usable();
    if (isPlain(stored)) return stored.privateKey;
    const sealing = this.#unlocked('to use your key pair');
    if (this.#held?.vaultKey === sealing.vaultKey) return this.#held.key;
    const opened = await openPersonKey(
      sealing.vaultKey,
      stored.sealed,
      this.#binding(stored, sealing),
    );
    // Locked (or unlocked anew) while the seal opened: this key must not come back.
    const now = this.#sealing();
    if (now === undefined || now === 'locked' || now.vaultKey !== sealing.vaultKey) {
      throw new VeilError('VAULT_LOCKED', 'to use your key pair');
    }
    if (this.#stored !== stored) throw new VeilError('KEY_PAIR_MISSING');
    this.#held = { key: opened.pair.privateKey, vaultKey: sealing.vaultKey };
    return opened.pair.privateKey;
  }

  /** True while the opened private key of a sealed pair is held in memory. */
  get holdsKey(): boolean {
    return this.#held !== undefined;
  }

  /** The vault locked: the opened private key leaves memory. */
  vaultLocked(): void {
    this.#held = undefined;
  }

  #require(): StoredKeyPair {
    if (!this.#stored) throw new VeilError('KEY_PAIR_MISSING');
    return this.#stored;
  }

  #usable(): StoredKeyPair {
    const stored = this.#require();
    if (this.#tampered) throw new VeilError('VAULT_ENTRY_TAMPERED', 'your key pair');
    return stored;
  }

  #unlocked(what: string): Unlocked {
    const sealing = this.#sealing();
    if (sealing === undefined) throw new VeilError('VAULT_LOCK_INVALID', 'the vault has no lock');
    if (sealing === 'locked') throw new VeilError('VAULT_LOCKED', what);
    return sealing;
  }

  #binding(stored: StoredKeyPair, sealing: Unlocked) {
    return { vaultId: sealing.vaultId, fingerprint: stored.info.fingerprint };
  }

  async #needNone(): Promise<void> {
    await this.load();
    if (this.#stored) throw new VeilError('KEY_NAME_TAKEN', 'this browser already has a key pair');
  }

  /** Keeps a new pair: sealed under an unlocked lock, plain without one. */
  async #keepNew(
    info: Omit<KeyPairInfo, 'underLock'>,
    pair: PersonKeyPair,
    pkcs8: Uint8Array,
    backup: string,
  ): Promise<void> {
    const sealing = this.#sealing();
    if (sealing === 'locked') throw new VeilError('VAULT_LOCKED', 'to keep a key pair');
    if (sealing) await this.#seal(info, pair, pkcs8, backup, sealing);
    else await this.#keep({ info, privateKey: pair.privateKey, backup });
  }

  async #seal(
    info: KeyPairInfo,
    pair: PersonKeyPair,
    pkcs8: Uint8Array,
    backup: string,
    sealing: Unlocked,
  ): Promise<void> {
    const binding = { vaultId: sealing.vaultId, fingerprint: info.fingerprint };
    const sealed = await sealPersonKey(sealing.vaultKey, pkcs8, backup, binding);
    await this.#keep({ info: { ...info, underLock: true }, sealed });
    // From now on a plain entry in its place is refused ([Note: the key pair under the lock]).
    await this.#store.set('sealed-mark', info.fingerprint);
    this.#tampered = false;
    this.#held = { key: pair.privateKey, vaultKey: sealing.vaultKey };
  }

  async #keep(stored: StoredKeyPair): Promise<void> {
    await this.#store.set('mine', stored);
    this.#stored = stored;
  }
}
