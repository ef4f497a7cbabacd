/**
 * The logic of Model A's key vault (vault.svelte.ts is the app's reactive wrapper around it):
 * the user's raw AES keys as non-extractable CryptoKeys in a key-value store (IndexedDB in the
 * app, through idb-keyval; a Map in tests), so page script can use them but never read them
 * back. What the user sees of a key is its name, its namespace, a short fingerprint and whether
 * a copy exists outside the browser (key file or backup), which Keys uses to warn before the
 * last copy is deleted.
 *
 * Keys can also be held for this page only (a key file picked to open one download): those are
 * never written to the store.
 *
 * [Note: a vault key's name] A raw AES key's name and namespace are bound into every object it
 * wraps (the EDK's provider id and info), so the vault holds at most one key per name, and a
 * second key under a taken name, whether its bytes or its namespace differ, is refused
 * (KEY_NAME_TAKEN) instead of replacing the first: replacing it would make every object of the
 * old key unreadable from this browser, or make new objects name a namespace other tools do not
 * expect.
 *
 * Under a lock ([Note: the vault envelope] in vault-seal.ts) a key is stored sealed instead: its
 * bytes encrypted under the vault key, opened into a non-extractable key in memory on unlock
 * (unseal) and dropped on lock (dropSealed). [Note: keys stored before the lock] Keys stored
 * before a lock was set stay non-extractable CryptoKeys (their bytes cannot be read back to seal
 * them), vouched for by the vault key ([Note: keys vouched for by the lock] in vault-vouch.ts):
 * usable only while unlocked, once their vouch checks; an unsealed entry without a vouch that
 * checks is refused. The view says so; importing the key's file or backup again while unlocked
 * puts it under the lock (the same key merges, stored sealed).
 */
import { asBufferSource } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import type { RawAesKeyMaterial } from '../../core/key-file';
import { RawAesKeyring } from '../../keyrings/raw-aes';
import { LockedVaultKeyring, type LockedCode } from './locked-keyring';
import { openEntry, sealEntry, type SealedEntry } from './vault-seal';
import { keyFingerprint } from './vault-fingerprint';
import { checkVouch, vouchFor } from './vault-vouch';

import {
  isSealedKey,
  isStoredKey,
  shownInfo,
  type VaultKeyInfo,
  type VaultSealing,
  type VaultStore,
} from './vault-entry';

export { keyFingerprint } from './vault-fingerprint';
export type { SealedKey, StoredKey, VaultKeyInfo, VaultSealing, VaultStore } from './vault-entry';

/** Options of VaultCore.add. */
export interface AddOptions {
  /** Keep the key for this page only (not in the store). */
  readonly sessionOnly?: boolean;
  /** Copies the key already has outside the browser (imported from a key file or backup). */
  readonly copies?: VaultKeyInfo['copies'];
  readonly nowMs?: number;
}

/**
 * True when the preferred Model A key names no key of a loaded vault (it was deleted, or was a
 * page-only key of an earlier visit), so the preference should be dropped.
 */
export function isStaleVaultKeyId(
  vaultKeyId: string | undefined,
  keys: readonly Pick<VaultKeyInfo, 'keyName'>[],
): boolean {
  return vaultKeyId !== undefined && !keys.some((k) => k.keyName === vaultKeyId);
}

export class VaultCore {
  readonly #store: VaultStore;
  readonly #onChange: (keys: readonly VaultKeyInfo[]) => void;
  #keys: readonly VaultKeyInfo[] = [];
  // CryptoKeys never reach what the UI shows; they stay here. Open sealed keys and this page's
  // keys; unsealed stored entries are in #plain.
  readonly #cryptoKeys = new Map<string, CryptoKey>();
  // Entries stored unsealed (before a lock, or with no lock), with the lock's vouch if any.
  readonly #plain = new Map<string, { key: CryptoKey; vouch?: SealedEntry }>();
  // Unsealed entries whose vouch checked on the last unlock.
  readonly #vouched = new Set<string>();
  // Entries stored under the lock, by name; their keys are in #cryptoKeys only while unlocked.
  readonly #sealed = new Map<string, SealedEntry>();
  // Sealed entries that failed their seal on the last unlock: never used.
  readonly #tampered = new Set<string>();
  #sealing: () => VaultSealing | undefined;
  #loaded: Promise<void> | undefined;

  /**
   * `onChange` is called with the new list after every change (the wrapper's $state);
   * `sealing` says whether the vault has a lock and holds its key (none by default).
   */
  constructor(
    store: VaultStore,
    onChange: (keys: readonly VaultKeyInfo[]) => void = () => {},
    sealing: () => VaultSealing | undefined = () => undefined,
  ) {
    this.#store = store;
    this.#onChange = onChange;
    this.#sealing = sealing;
  }

  /** Sets where the lock's state is read (the app's lock, once both exist). */
  useSealing(sealing: () => VaultSealing | undefined): void {
    this.#sealing = sealing;
  }

  /** Keys in the store and this page's session keys, sorted by name. */
  get keys(): readonly VaultKeyInfo[] {
    return this.#keys;
  }

  /** Reads the store once (later calls wait for the same read; a failed read is retried). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const stored = await this.#store.entries();
      for (const [, value] of stored) {
        if (isSealedKey(value)) {
          this.#sealed.set(value.info.keyName, value.sealed);
          this.#put({ ...value.info, underLock: true });
        } else if (isStoredKey(value)) {
          const { key, vouch } = value;
          this.#plain.set(value.info.keyName, vouch ? { key, vouch } : { key });
          this.#put(shownInfo(value.info));
        }
      }
    })().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  /**
   * Imports key material as a non-extractable key and keeps it (in the store unless
   * `sessionOnly`). Adding a key that is already held (same name, namespace and bytes) merges:
   * copies add up, and a stored key stays stored. Takes ownership of `material.keyBytes`: zeroed
   * when this returns or throws.
   * Under an unlocked lock a stored key is sealed ([Note: keys stored before the lock]).
   * @throws VeilError KEY_NAME_TAKEN when another key (other bytes or another namespace) has
   *   the name ([Note: a vault key's name]); VAULT_LOCKED when the vault is locked and the key
   *   is to be stored; errors of the store.
   */
  async add(material: RawAesKeyMaterial, options: AddOptions = {}): Promise<VaultKeyInfo> {
    const { keyBytes } = material;
    try {
      await this.load();
      const fingerprint = await keyFingerprint(keyBytes);
      const existing = this.#keys.find((k) => k.keyName === material.keyName);
      if (
        existing &&
        (existing.fingerprint !== fingerprint || existing.keyNamespace !== material.keyNamespace)
      ) {
        throw new VeilError(
          'KEY_NAME_TAKEN',
          existing.fingerprint === fingerprint
            ? `"${material.keyName}" is held under namespace "${existing.keyNamespace}", not "${material.keyNamespace}"`
            : `"${material.keyName}"`,
        );
      }
      const key = await crypto.subtle.importKey(
        'raw',
        asBufferSource(keyBytes),
        { name: 'AES-GCM' },
        false,
        ['encrypt', 'decrypt'],
      );
      const sessionOnly = (options.sessionOnly ?? false) && !(existing && !existing.sessionOnly);
      const sealing = sessionOnly ? undefined : this.#sealing();
      if (sealing === 'locked') throw new VeilError('VAULT_LOCKED', 'to store a key');
      const info: VaultKeyInfo = {
        keyName: material.keyName,
        keyNamespace: material.keyNamespace,
        bits: (keyBytes.length * 8) as VaultKeyInfo['bits'],
        fingerprint,
        createdAtMs: existing?.createdAtMs ?? options.nowMs ?? Date.now(),
        copies: {
          keyFile: (existing?.copies.keyFile ?? false) || (options.copies?.keyFile ?? false),
          backup: (existing?.copies.backup ?? false) || (options.copies?.backup ?? false),
        },
        sessionOnly,
        ...(sealing ? { underLock: true } : {}),
      };
      if (sealing) {
        const sealed = await sealEntry(sealing.vaultKey, keyBytes, { ...info, ...sealing });
        await this.#store.set(info.keyName, { info, sealed });
        this.#sealed.set(info.keyName, sealed);
        this.#plain.delete(info.keyName);
        this.#vouched.delete(info.keyName);
        this.#tampered.delete(info.keyName);
      } else if (!sessionOnly) {
        await this.#store.set(info.keyName, { info, key });
        this.#plain.set(info.keyName, { key });
        this.#tampered.delete(info.keyName);
      }
      if (sealing || sessionOnly) this.#cryptoKeys.set(info.keyName, key);
      this.#put(info);
      return info;
    } finally {
      keyBytes.fill(0);
    }
  }

  /** Records that the user saved a copy of a key outside the browser (stored with the key). */
  async markCopy(keyName: string, copy: 'keyFile' | 'backup'): Promise<void> {
    const info = this.#keys.find((k) => k.keyName === keyName);
    const sealed = this.#sealed.get(keyName);
    const plain = this.#plain.get(keyName);
    if (!info || (!sealed && !plain && !this.#cryptoKeys.has(keyName))) return;
    const next: VaultKeyInfo = { ...info, copies: { ...info.copies, [copy]: true } };
    const { refused, ...stored } = next;
    if (sealed) await this.#store.set(keyName, { info: stored, sealed });
    else if (plain) await this.#store.set(keyName, { info: shownInfo(stored), ...plain });
    this.#put(refused ? next : stored);
  }

  /** Deletes a key from the store and this page. */
  async remove(keyName: string): Promise<void> {
    await this.#store.del(keyName);
    this.#cryptoKeys.delete(keyName);
    this.#sealed.delete(keyName);
    this.#plain.delete(keyName);
    this.#vouched.delete(keyName);
    this.#tampered.delete(keyName);
    this.#set(this.#keys.filter((k) => k.keyName !== keyName));
  }

  /**
   * The raw AES keyring of one key.
   * @throws VeilError VAULT_KEY_MISSING when no key has that name; VAULT_LOCKED when the vault
   *   has a lock and is locked (or the entry is not open yet); VAULT_ENTRY_TAMPERED for an entry
   *   that failed its check; VAULT_LOCK_INVALID for an unsealed entry beside a lock record that
   *   is gone.
   */
  keyring(keyName: string): RawAesKeyring {
    const info = this.#keys.find((k) => k.keyName === keyName);
    const key = this.#usable(keyName);
    if (!info || !key) throw new VeilError(this.#refusal(keyName), `"${keyName}"`);
    return new RawAesKeyring({ keyNamespace: info.keyNamespace, keyName, wrappingKey: key });
  }

  /**
   * Keyrings of every key held, for opening downloads; a key that is not usable now stands as a
   * LockedVaultKeyring, which fails with why (VAULT_LOCKED, …) when an object names it, or, for
   * VAULT_LOCKED, first waits for `unlock` (the unlock prompt) and then opens with the key.
   */
  keyrings(unlock?: () => Promise<void>): (RawAesKeyring | LockedVaultKeyring)[] {
    return this.#keys.map((info) =>
      this.#usable(info.keyName)
        ? this.keyring(info.keyName)
        : new LockedVaultKeyring(info.keyNamespace, info.keyName, this.#refusal(info.keyName), {
            unlock,
            keyring: () => this.keyring(info.keyName),
          }),
    );
  }

  /** The key of an entry when it may be used now ([Note: keys stored before the lock]). */
  #usable(keyName: string): CryptoKey | undefined {
    if (this.#tampered.has(keyName)) return undefined;
    const plain = this.#plain.get(keyName);
    if (!plain) return this.#cryptoKeys.get(keyName);
    const sealing = this.#sealing();
    if (sealing === undefined) return this.#lockGone() ? undefined : plain.key;
    return sealing !== 'locked' && this.#vouched.has(keyName) ? plain.key : undefined;
  }

  /** Why an entry cannot be used now. */
  #refusal(keyName: string): LockedCode {
    if (this.#tampered.has(keyName)) return 'VAULT_ENTRY_TAMPERED';
    if (!this.#sealed.has(keyName) && !this.#plain.has(keyName)) return 'VAULT_KEY_MISSING';
    return this.#sealing() === undefined ? 'VAULT_LOCK_INVALID' : 'VAULT_LOCKED';
  }

  /**
   * True when the store holds what only a vault with a lock writes (sealed entries, vouches)
   * but no lock is set: the lock record was removed, so no unsealed entry is trusted.
   */
  #lockGone(): boolean {
    return this.#sealed.size > 0 || [...this.#plain.values()].some((p) => p.vouch !== undefined);
  }

  /**
   * Opens every sealed entry into a non-extractable key (after an unlock). An entry that fails
   * its seal is not used; its error is returned (VAULT_ENTRY_TAMPERED), the others still open.
   */
  async unseal(): Promise<VeilError[]> {
    await this.load();
    const sealing = this.#sealing();
    if (sealing === undefined || sealing === 'locked') return [];
    const errors: VeilError[] = [];
    for (const [keyName, sealed] of this.#sealed) {
      if (this.#cryptoKeys.has(keyName)) continue;
      try {
        const key = await this.#importSealed(keyName, sealed, sealing);
        // Locked while this entry opened (Lock now, the idle lock): it must not come back.
        const now = this.#sealing();
        if (now === undefined || now === 'locked' || now.vaultKey !== sealing.vaultKey) break;
        this.#cryptoKeys.set(keyName, key);
        this.#tampered.delete(keyName);
      } catch (error) {
        this.#refuse(keyName);
        errors.push(
          error instanceof VeilError ? error : new VeilError('VAULT_ENTRY_TAMPERED', keyName),
        );
      }
    }
    for (const [keyName, { key, vouch }] of this.#plain) {
      if (this.#vouched.has(keyName) || this.#tampered.has(keyName)) continue;
      const info = this.#keys.find((k) => k.keyName === keyName);
      try {
        if (!vouch || !info) throw new VeilError('VAULT_ENTRY_TAMPERED', `"${keyName}"`);
        await checkVouch(sealing.vaultKey, key, vouch, { ...info, ...sealing });
        const now = this.#sealing();
        if (now === undefined || now === 'locked' || now.vaultKey !== sealing.vaultKey) break;
        this.#vouched.add(keyName);
      } catch (error) {
        this.#refuse(keyName);
        errors.push(
          error instanceof VeilError ? error : new VeilError('VAULT_ENTRY_TAMPERED', keyName),
        );
      }
    }
    return errors;
  }

  /**
   * Vouches for every unsealed entry under the vault key (when a lock is set, or at the first
   * unlock of a lock set before vouches existed: [Note: keys vouched for by the lock]), so each
   * is usable while unlocked and a planted one is refused.
   * @throws VeilError VAULT_LOCKED when the vault is not unlocked; errors of the store.
   */
  async vouchPlain(): Promise<void> {
    await this.load();
    const sealing = this.#sealing();
    if (sealing === undefined || sealing === 'locked') throw new VeilError('VAULT_LOCKED');
    for (const [keyName, { key }] of this.#plain) {
      const info = this.#keys.find((k) => k.keyName === keyName);
      if (!info || this.#tampered.has(keyName)) continue;
      const vouch = await vouchFor(sealing.vaultKey, key, { ...info, ...sealing });
      await this.#store.set(keyName, { info: shownInfo(info), key, vouch });
      this.#plain.set(keyName, { key, vouch });
      this.#vouched.add(keyName);
    }
  }

  /** Drops the keys of stored entries from memory (on lock); this page's keys stay. */
  dropSealed(): void {
    for (const keyName of this.#sealed.keys()) this.#cryptoKeys.delete(keyName);
    this.#vouched.clear();
  }

  /**
   * The bytes of a key under the lock, for a key file or backup (export later); the caller
   * checks the unlock is fresh and owns (zeroes) the bytes.
   * @throws VeilError VAULT_KEY_MISSING; VAULT_KEY_NOT_EXPORTABLE for a key stored before the
   *   lock or held for this page; VAULT_LOCKED; VAULT_ENTRY_TAMPERED.
   */
  async exportMaterial(keyName: string): Promise<RawAesKeyMaterial> {
    const info = this.#keys.find((k) => k.keyName === keyName);
    if (!info) throw new VeilError('VAULT_KEY_MISSING', keyName);
    const sealed = this.#sealed.get(keyName);
    if (!sealed) throw new VeilError('VAULT_KEY_NOT_EXPORTABLE', `"${keyName}"`);
    const sealing = this.#sealing();
    if (sealing === undefined || sealing === 'locked') {
      throw new VeilError('VAULT_LOCKED', keyName);
    }
    const keyBytes = await openEntry(sealing.vaultKey, sealed, { ...info, ...sealing });
    return { keyBytes, keyName, keyNamespace: info.keyNamespace };
  }

  async #importSealed(
    keyName: string,
    sealed: SealedEntry,
    sealing: Exclude<VaultSealing, 'locked'>,
  ): Promise<CryptoKey> {
    const info = this.#keys.find((k) => k.keyName === keyName);
    if (!info) throw new VeilError('VAULT_KEY_MISSING', keyName);
    const bytes = await openEntry(sealing.vaultKey, sealed, { ...info, ...sealing });
    try {
      return await crypto.subtle.importKey('raw', asBufferSource(bytes), 'AES-GCM', false, [
        'encrypt',
        'decrypt',
      ]);
    } finally {
      bytes.fill(0);
    }
  }

  #refuse(keyName: string): void {
    this.#tampered.add(keyName);
    const info = this.#keys.find((k) => k.keyName === keyName);
    if (info) this.#put({ ...info, refused: true });
  }

  #put(info: VaultKeyInfo): void {
    const others = this.#keys.filter((k) => k.keyName !== info.keyName);
    this.#set([...others, info].sort((a, b) => a.keyName.localeCompare(b.keyName)));
  }

  #set(keys: readonly VaultKeyInfo[]): void {
    this.#keys = keys;
    this.#onChange(keys);
  }
}
