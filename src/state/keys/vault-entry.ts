/**
 * What the vault stores per key and how an entry read back from IndexedDB is recognised: the
 * shapes of a key stored unsealed (a non-extractable CryptoKey, with the lock's vouch once the
 * vault has a lock: [Note: keys vouched for by the lock] in vault-vouch.ts) and of one stored
 * sealed ([Note: the vault envelope] in vault-seal.ts). vault-core.ts holds the logic.
 */
import type { SealedEntry } from './vault-seal';

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
  /** True when stored sealed under the vault's lock (usable only while unlocked). */
  readonly underLock?: boolean;
  /** True when the entry failed its check (VAULT_ENTRY_TAMPERED): shown, never used. */
  readonly refused?: boolean;
}

/** The store the vault keeps keys in (idb-keyval's functions bound to one store, or a fake). */
export interface VaultStore {
  entries(): Promise<readonly (readonly [unknown, unknown])[]>;
  set(keyName: string, value: StoredKey | SealedKey): Promise<void>;
  del(keyName: string): Promise<void>;
}

/** One stored entry: what the UI shows and the non-extractable key. */
export interface StoredKey {
  readonly info: VaultKeyInfo;
  readonly key: CryptoKey;
  /** The lock's vouch for it, once the vault has a lock ([Note: keys vouched for by the lock]). */
  readonly vouch?: SealedEntry;
}

/** One entry stored under the lock: what the UI shows and the sealed bytes. */
export interface SealedKey {
  readonly info: VaultKeyInfo;
  readonly sealed: SealedEntry;
}

/** The lock as the vault sees it: none, locked, or unlocked with the vault key in memory. */
export type VaultSealing = { readonly vaultId: string; readonly vaultKey: CryptoKey } | 'locked';

export function isStoredKey(value: unknown): value is StoredKey {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { info?: { keyName?: unknown }; key?: unknown; vouch?: unknown };
  return (
    typeof v.info?.keyName === 'string' &&
    v.key instanceof CryptoKey &&
    (v.vouch === undefined || isSealed(v.vouch))
  );
}

function isSealed(value: unknown): value is SealedEntry {
  const v = value as { iv?: unknown; ciphertext?: unknown } | null | undefined;
  return v?.iv instanceof Uint8Array && v.ciphertext instanceof Uint8Array;
}

export function isSealedKey(value: unknown): value is SealedKey {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { info?: { keyName?: unknown }; sealed?: unknown };
  return typeof v.info?.keyName === 'string' && isSealed(v.sealed);
}

/** What the UI shows of an unsealed entry: whatever the store says, never "under the lock". */
export function shownInfo(info: VaultKeyInfo): VaultKeyInfo {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { underLock, refused, ...rest } = info;
  return rest;
}
