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
 */
import { asBufferSource, concatBytes, utf8 } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import type { RawAesKeyMaterial } from '../../core/key-file';
import { RawAesKeyring } from '../../keyrings/raw-aes';

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
  /** True when kept for this page only (not in the store). */
  readonly sessionOnly: boolean;
}

/** The store the vault keeps keys in (idb-keyval's functions bound to one store, or a fake). */
export interface VaultStore {
  entries(): Promise<readonly (readonly [unknown, unknown])[]>;
  set(keyName: string, value: StoredKey): Promise<void>;
  del(keyName: string): Promise<void>;
}

/** One stored entry: what the UI shows and the non-extractable key. */
export interface StoredKey {
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
 * backup) show the same fingerprint; it reveals nothing usable about the key. The copy of the
 * key made for hashing is zeroed before this returns.
 */
export async function keyFingerprint(keyBytes: Uint8Array): Promise<string> {
  const labelled = concatBytes(FINGERPRINT_LABEL, keyBytes);
  try {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(labelled)));
    const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
    return hex.match(/.{4}/g)?.join(' ') ?? hex;
  } finally {
    labelled.fill(0);
  }
}

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
  // CryptoKeys never reach what the UI shows; they stay here.
  readonly #cryptoKeys = new Map<string, CryptoKey>();
  #loaded: Promise<void> | undefined;

  /** `onChange` is called with the new list after every change (the wrapper's $state). */
  constructor(store: VaultStore, onChange: (keys: readonly VaultKeyInfo[]) => void = () => {}) {
    this.#store = store;
    this.#onChange = onChange;
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
        if (!isStoredKey(value)) continue;
        this.#cryptoKeys.set(value.info.keyName, value.key);
        this.#put(value.info);
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
   * @throws VeilError KEY_NAME_TAKEN when another key (other bytes or another namespace) has
   *   the name ([Note: a vault key's name]); errors of the store.
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
      if (!sessionOnly) await this.#store.set(info.keyName, { info, key });
      this.#cryptoKeys.set(info.keyName, key);
      this.#put(info);
      return info;
    } finally {
      keyBytes.fill(0);
    }
  }

  /** Records that the user saved a copy of a key outside the browser (stored with the key). */
  async markCopy(keyName: string, copy: 'keyFile' | 'backup'): Promise<void> {
    const info = this.#keys.find((k) => k.keyName === keyName);
    const key = this.#cryptoKeys.get(keyName);
    if (!info || !key) return;
    const next: VaultKeyInfo = { ...info, copies: { ...info.copies, [copy]: true } };
    if (!next.sessionOnly) await this.#store.set(keyName, { info: next, key });
    this.#put(next);
  }

  /** Deletes a key from the store and this page. */
  async remove(keyName: string): Promise<void> {
    await this.#store.del(keyName);
    this.#cryptoKeys.delete(keyName);
    this.#set(this.#keys.filter((k) => k.keyName !== keyName));
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
    this.#set([...others, info].sort((a, b) => a.keyName.localeCompare(b.keyName)));
  }

  #set(keys: readonly VaultKeyInfo[]): void {
    this.#keys = keys;
    this.#onChange(keys);
  }
}
