/**
 * Model A's key vault: the user's raw AES keys, kept in this browser's IndexedDB (database
 * `veil-vault`, object store `keys`, through idb-keyval) as non-extractable CryptoKeys, so page
 * script can use them but never read them back. What the user sees of a key is its name, its
 * namespace, a short fingerprint and whether a copy exists outside the browser (key file or
 * backup), which Keys uses to warn before the last copy is deleted.
 *
 * Keys can also be held for this page only (a key file picked to open one download): those are
 * never written to IndexedDB.
 */
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import { asBufferSource, concatBytes, utf8 } from '../core/bytes';
import { VeilError } from '../core/errors';
import type { RawAesKeyMaterial } from '../core/key-file';
import { RawAesKeyring } from '../keyrings/raw-aes';

/** What the UI shows of a key (no key material). */
export interface VaultKeyInfo {
  /** The raw AES key name (the key file's `kid`), unique in the vault. */
  readonly keyName: string;
  readonly keyNamespace: string;
  readonly bits: 128 | 192 | 256;
  /** 16 hex digits of a hash of the key, in groups of four (see keyFingerprint). */
  readonly fingerprint: string;
  readonly createdAtMs: number;
  /** Copies the user saved outside this browser (key file, passphrase backup). */
  readonly copies: { readonly keyFile: boolean; readonly backup: boolean };
  /** True when kept for this page only (not in IndexedDB). */
  readonly sessionOnly: boolean;
}

interface StoredKey {
  readonly info: VaultKeyInfo;
  readonly key: CryptoKey;
}

function isStoredKey(value: unknown): value is StoredKey {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { info?: { keyName?: unknown }; key?: unknown };
  return typeof v.info?.keyName === 'string' && v.key instanceof CryptoKey;
}

const FINGERPRINT_LABEL = utf8('veil key fingerprint v1\0');

/**
 * A short, stable, non-secret fingerprint of raw key bytes: the first 8 bytes of
 * SHA-256(label || key), as 4 groups of 4 hex digits. Two copies of a key (vault, key file,
 * backup) show the same fingerprint; it reveals nothing usable about the key.
 */
export async function keyFingerprint(keyBytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', asBufferSource(concatBytes(FINGERPRINT_LABEL, keyBytes))),
  );
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

export class Vault {
  #keys = $state<VaultKeyInfo[]>([]);
  // Not reactive on purpose: the UI shows `#keys`; CryptoKeys never reach a template.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #cryptoKeys = new Map<string, CryptoKey>();
  #store: UseStore | undefined;
  #loaded: Promise<void> | undefined;

  /** Keys in the vault and this page's session keys, by name. */
  get keys(): readonly VaultKeyInfo[] {
    return this.#keys;
  }

  #db(): UseStore {
    this.#store ??= createStore('veil-vault', 'keys');
    return this.#store;
  }

  /** Reads the vault from IndexedDB once (later calls wait for the same read). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const stored = await entries(this.#db());
      for (const [, value] of stored) {
        if (!isStoredKey(value)) continue;
        this.#cryptoKeys.set(value.info.keyName, value.key);
        this.#put(value.info);
      }
    })();
    return this.#loaded;
  }

  /**
   * Imports key material as a non-extractable key and keeps it (in IndexedDB unless
   * `sessionOnly`). Takes ownership of `material.keyBytes`: zeroed, also on failure.
   * @throws VeilError KEYRING_INVALID for a name already used by a different key.
   */
  async add(
    material: RawAesKeyMaterial,
    options: {
      readonly sessionOnly?: boolean;
      readonly copies?: VaultKeyInfo['copies'];
      readonly nowMs?: number;
    } = {},
  ): Promise<VaultKeyInfo> {
    const { keyBytes } = material;
    try {
      await this.load();
      const fingerprint = await keyFingerprint(keyBytes);
      const existing = this.#keys.find((k) => k.keyName === material.keyName);
      if (existing && existing.fingerprint !== fingerprint) {
        throw new VeilError(
          'KEYRING_INVALID',
          `another key is already named "${material.keyName}"`,
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
      };
      if (!sessionOnly) await set(info.keyName, { info, key } satisfies StoredKey, this.#db());
      this.#cryptoKeys.set(info.keyName, key);
      this.#put(info);
      return info;
    } finally {
      keyBytes.fill(0);
    }
  }

  /** Records that the user saved a copy of a key outside the browser. */
  async markCopy(keyName: string, copy: 'keyFile' | 'backup'): Promise<void> {
    const info = this.#keys.find((k) => k.keyName === keyName);
    const key = this.#cryptoKeys.get(keyName);
    if (!info || !key) return;
    const next: VaultKeyInfo = { ...info, copies: { ...info.copies, [copy]: true } };
    if (!next.sessionOnly) await set(keyName, { info: next, key } satisfies StoredKey, this.#db());
    this.#put(next);
  }

  /** Deletes a key from the vault (and this page). */
  async remove(keyName: string): Promise<void> {
    await del(keyName, this.#db());
    this.#cryptoKeys.delete(keyName);
    this.#keys = this.#keys.filter((k) => k.keyName !== keyName);
  }

  /**
   * The raw AES keyring of one key.
   * @throws VeilError VAULT_KEY_MISSING when no key has that name.
   */
  keyring(keyName: string): RawAesKeyring {
    const info = this.#keys.find((k) => k.keyName === keyName);
    const key = this.#cryptoKeys.get(keyName);
    if (!info || !key) throw new VeilError('VAULT_KEY_MISSING', keyName);
    return new RawAesKeyring({ keyNamespace: info.keyNamespace, keyName, wrappingKey: key });
  }

  /** Keyrings of every key held, for opening downloads. */
  keyrings(): RawAesKeyring[] {
    return this.#keys.map((info) => this.keyring(info.keyName));
  }

  #put(info: VaultKeyInfo): void {
    const others = this.#keys.filter((k) => k.keyName !== info.keyName);
    this.#keys = [...others, info].sort((a, b) => a.keyName.localeCompare(b.keyName));
  }
}

/** The app's one vault. */
export const vault = new Vault();
