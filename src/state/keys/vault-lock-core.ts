/**
 * The logic of the vault's lock (vault-lock.svelte.ts is the app's reactive wrapper): set a lock
 * with a passphrase, add or remove passkeys, unlock with either, lock, and say whether the last
 * authentication is fresh enough to export a key or add a passkey. The record it keeps (one per
 * browser, in IndexedDB in the app, a variable in tests) holds no secret in clear: the vault id
 * and salt, and the vault key wrapped once per method ([Note: the vault envelope] in
 * vault-seal.ts). The vault key lives in memory, non-extractable, only while unlocked.
 *
 * [Note: a fresh unlock] Exporting a key (key file or backup) and adding a passkey need the user
 * to have proved a method within FRESH_UNLOCK_MS (2 minutes), not merely to have left the vault
 * unlocked: someone at an unattended, unlocked page can use keys but not carry them away. Adding
 * a passkey goes further and takes the proof itself, since it needs the vault key's bytes, which
 * the page does not keep.
 */
import { VeilError, needs } from '../../core/errors';
import { MIN_PASSPHRASE_CHARS } from '../../keyrings/key-backup';
import {
  PASSPHRASE_SALT_BYTES,
  VAULT_KEY_BYTES,
  VAULT_PASSPHRASE_ITERATIONS,
  VAULT_SALT_BYTES,
  passkeyKek,
  passphraseKek,
  randomBytes,
  unwrapVaultKey,
  vaultKeyFromBytes,
  wrapVaultKey,
  type WrappedVaultKey,
} from './vault-seal';
import type { VaultSealing } from './vault-core';
import { isLockRecord } from './vault-lock-record';

/** How long after proving a method an export or a new passkey is allowed, in ms. */
export const FRESH_UNLOCK_MS = 2 * 60_000;
/** The idle time after which the vault locks, unless the user chose another, in minutes. */
export const DEFAULT_IDLE_MINUTES = 15;

export interface PassphraseMethod {
  readonly kind: 'passphrase';
  readonly id: string;
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly wrapped: WrappedVaultKey;
  readonly createdAtMs: number;
}

export interface PasskeyMethod {
  readonly kind: 'passkey';
  readonly id: string;
  /** The WebAuthn credential's raw id (not secret: the authenticator needs it to answer). */
  readonly credentialId: Uint8Array;
  /** What the user called it ("Laptop"). */
  readonly label: string;
  readonly wrapped: WrappedVaultKey;
  readonly createdAtMs: number;
}

export type LockMethod = PassphraseMethod | PasskeyMethod;

/** The one record of a browser's lock. */
export interface LockRecord {
  readonly version: 1;
  readonly vaultId: string;
  /** Fixed per vault: the PRF input every passkey evaluates, and the HKDF salt. */
  readonly vaultSalt: Uint8Array;
  readonly idleMinutes: number;
  readonly methods: readonly LockMethod[];
  /**
   * True once the vault vouched for its unsealed keys ([Note: keys vouched for by the lock] in
   * vault-vouch.ts); a lock of an earlier version lacks it and is migrated at its next unlock.
   */
  readonly entriesVouched?: true;
}

/** Where the record is kept (idb-keyval bound to one store, or a variable). */
export interface LockStore {
  get(): Promise<unknown>;
  set(record: LockRecord): Promise<void>;
}

/** A proof of one method: the passphrase, or a passkey's PRF output for the vault salt. */
export type UnlockProof =
  | { readonly kind: 'passphrase'; readonly passphrase: string }
  | { readonly kind: 'passkey'; readonly credentialId: Uint8Array; readonly prfOutput: Uint8Array };

/** A new passkey: its credential, its PRF output for the vault salt, and a label. */
export interface NewPasskey {
  readonly credentialId: Uint8Array;
  readonly prfOutput: Uint8Array;
  readonly label: string;
}

/** What the view shows of the lock (nothing secret). */
export interface LockView {
  readonly status: 'none' | 'locked' | 'unlocked';
  readonly idleMinutes: number;
  readonly methods: readonly { kind: LockMethod['kind']; id: string; label: string }[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function newId(): string {
  return Array.from(randomBytes(8), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class VaultLockCore {
  readonly #store: LockStore;
  readonly #onChange: (view: LockView) => void;
  readonly #now: () => number;
  readonly #iterations: number;
  #record: LockRecord | undefined;
  #vaultKey: CryptoKey | undefined;
  #provedAtMs = -Infinity;
  #loaded: Promise<void> | undefined;

  /** `now` and `passphraseIterations` are for tests (a clock, fewer PBKDF2 rounds). */
  constructor(
    store: LockStore,
    onChange: (view: LockView) => void = () => {},
    now: () => number = () => Date.now(),
    passphraseIterations: number = VAULT_PASSPHRASE_ITERATIONS,
  ) {
    this.#store = store;
    this.#onChange = onChange;
    this.#now = now;
    this.#iterations = passphraseIterations;
  }

  get view(): LockView {
    const record = this.#record;
    return {
      status: !record ? 'none' : this.#vaultKey ? 'unlocked' : 'locked',
      idleMinutes: record?.idleMinutes ?? DEFAULT_IDLE_MINUTES,
      methods: (record?.methods ?? []).map((m) => ({
        kind: m.kind,
        id: m.id,
        label: m.kind === 'passkey' ? m.label : 'Passphrase',
      })),
    };
  }

  /** What the vault needs: no lock, locked, or the vault key (see VaultCore). */
  sealing(): VaultSealing | undefined {
    if (!this.#record) return undefined;
    return this.#vaultKey ? { vaultId: this.#record.vaultId, vaultKey: this.#vaultKey } : 'locked';
  }

  /** What a passkey request needs: the PRF input and the vault's credential ids. */
  passkeyRequest(): { vaultSalt: Uint8Array; credentialIds: Uint8Array[] } | undefined {
    const record = this.#record;
    if (!record) return undefined;
    const credentialIds = record.methods.flatMap((m) =>
      m.kind === 'passkey' ? [m.credentialId] : [],
    );
    return { vaultSalt: record.vaultSalt, credentialIds };
  }

  /**
   * Reads the record once (a failed read is retried).
   * @throws VeilError VAULT_LOCK_INVALID for a record this version cannot read.
   */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const value = await this.#store.get();
      if (value === undefined) return;
      if (!isLockRecord(value)) throw new VeilError('VAULT_LOCK_INVALID');
      this.#record = value;
      this.#changed();
    })().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  /** True while unlocked and a method was proved within FRESH_UNLOCK_MS ([Note: a fresh unlock]). */
  isFresh(): boolean {
    return this.#vaultKey !== undefined && this.#now() - this.#provedAtMs <= FRESH_UNLOCK_MS;
  }

  /**
   * Sets a lock on a vault without one: a new vault key under `passphrase` (the fallback
   * method), unlocked at once.
   * @throws VeilError VAULT_LOCK_EXISTS; BACKUP_PASSPHRASE_WEAK under 12 characters.
   */
  async setUp(passphrase: string, idleMinutes = DEFAULT_IDLE_MINUTES): Promise<void> {
    await this.load();
    needs(!this.#record, 'VAULT_LOCK_EXISTS');
    needs([...passphrase].length >= MIN_PASSPHRASE_CHARS, 'BACKUP_PASSPHRASE_WEAK');
    const vaultId = newId();
    const vaultKey = randomBytes(VAULT_KEY_BYTES);
    try {
      const method = await this.#passphraseMethod(vaultId, vaultKey, passphrase);
      const record: LockRecord = {
        version: 1,
        vaultId,
        vaultSalt: randomBytes(VAULT_SALT_BYTES),
        idleMinutes,
        methods: [method],
      };
      const key = await vaultKeyFromBytes(vaultKey);
      await this.#store.set(record);
      this.#record = record;
      this.#opened(key);
    } finally {
      vaultKey.fill(0);
    }
  }

  /**
   * Unlocks with a proof: the vault key is opened and held (non-extractable) for this page.
   * @throws VeilError VAULT_UNLOCK_FAILED for a wrong passphrase, an unknown or other passkey.
   */
  async unlock(proof: UnlockProof): Promise<void> {
    const vaultKey = await this.#open(proof);
    try {
      this.#opened(await vaultKeyFromBytes(vaultKey));
    } finally {
      vaultKey.fill(0);
    }
  }

  /**
   * Adds a passkey: `proof` (an existing method, proved now) opens the vault key, which is
   * wrapped once more under the new passkey's KEK; no entry is touched.
   * @throws VeilError VAULT_UNLOCK_FAILED; BAD_ARGUMENT for a passkey already added.
   */
  async addPasskey(proof: UnlockProof, passkey: NewPasskey): Promise<void> {
    const vaultKey = await this.#open(proof);
    try {
      const record = this.#need();
      needs(
        !record.methods.some(
          (m) => m.kind === 'passkey' && sameBytes(m.credentialId, passkey.credentialId),
        ),
        'BAD_ARGUMENT',
        'this passkey is already added',
      );
      const id = newId();
      const kek = await passkeyKek(passkey.prfOutput, record.vaultSalt, passkey.credentialId);
      const wrapped = await wrapVaultKey(kek, vaultKey, {
        vaultId: record.vaultId,
        methodId: id,
        kind: 'passkey',
      });
      const method: PasskeyMethod = {
        kind: 'passkey',
        id,
        credentialId: passkey.credentialId,
        label: passkey.label.trim().slice(0, 64) || 'Passkey',
        wrapped,
        createdAtMs: this.#now(),
      };
      await this.#save({ ...record, methods: [...record.methods, method] });
      this.#opened(await vaultKeyFromBytes(vaultKey));
    } finally {
      vaultKey.fill(0);
    }
  }

  /**
   * Removes a passkey (after a fresh unlock: someone at an unattended unlocked page must not
   * strip the user's methods); the passphrase stays as the fallback.
   * @throws VeilError VAULT_LOCKED; VAULT_REAUTH_NEEDED; VAULT_LAST_METHOD for the passphrase.
   */
  async removeMethod(id: string): Promise<void> {
    const record = this.#need();
    needs(this.#vaultKey, 'VAULT_LOCKED');
    needs(this.isFresh(), 'VAULT_REAUTH_NEEDED');
    const method = record.methods.find((m) => m.id === id);
    if (!method) return;
    needs(method.kind === 'passkey', 'VAULT_LAST_METHOD');
    await this.#save({ ...record, methods: record.methods.filter((m) => m.id !== id) });
  }

  /**
   * Sets the idle time before the vault locks, 1 to 1440 minutes (while unlocked).
   * @throws VeilError OUT_OF_RANGE; VAULT_LOCKED.
   */
  async setIdleMinutes(minutes: number): Promise<void> {
    needs(Number.isInteger(minutes) && minutes >= 1 && minutes <= 1440, 'OUT_OF_RANGE', 'minutes');
    needs(this.#vaultKey, 'VAULT_LOCKED');
    await this.#save({ ...this.#need(), idleMinutes: minutes });
  }

  /** True when the record says the unsealed keys are vouched for (see LockRecord). */
  get entriesVouched(): boolean {
    return this.#record?.entriesVouched === true;
  }

  /**
   * Records that the unsealed keys are vouched for, once VaultCore.vouchPlain is done.
   * @throws VeilError VAULT_LOCKED; errors of the store.
   */
  async markEntriesVouched(): Promise<void> {
    needs(this.#vaultKey, 'VAULT_LOCKED');
    const record = this.#need();
    if (record.entriesVouched) return;
    await this.#save({ ...record, entriesVouched: true });
  }

  /** Drops the vault key from memory. */
  lock(): void {
    this.#vaultKey = undefined;
    this.#provedAtMs = -Infinity;
    this.#changed();
  }

  async #open(proof: UnlockProof): Promise<Uint8Array> {
    await this.load();
    const record = this.#need();
    const method = record.methods.find((m) =>
      proof.kind === 'passphrase'
        ? m.kind === 'passphrase'
        : m.kind === 'passkey' && sameBytes(m.credentialId, proof.credentialId),
    );
    if (!method) throw new VeilError('VAULT_UNLOCK_FAILED', proof.kind);
    const kek =
      method.kind === 'passphrase'
        ? await passphraseKek(
            proof.kind === 'passphrase' ? proof.passphrase : '',
            method.salt,
            method.iterations,
          )
        : await passkeyKek(
            proof.kind === 'passkey' ? proof.prfOutput : new Uint8Array(0),
            record.vaultSalt,
            method.credentialId,
          );
    return unwrapVaultKey(kek, method.wrapped, {
      vaultId: record.vaultId,
      methodId: method.id,
      kind: method.kind,
    });
  }

  async #passphraseMethod(
    vaultId: string,
    vaultKey: Uint8Array,
    passphrase: string,
  ): Promise<PassphraseMethod> {
    const id = newId();
    const salt = randomBytes(PASSPHRASE_SALT_BYTES);
    const iterations = this.#iterations;
    const kek = await passphraseKek(passphrase, salt, iterations);
    const wrapped = await wrapVaultKey(kek, vaultKey, {
      vaultId,
      methodId: id,
      kind: 'passphrase',
    });
    return { kind: 'passphrase', id, salt, iterations, wrapped, createdAtMs: this.#now() };
  }

  #opened(key: CryptoKey): void {
    this.#vaultKey = key;
    this.#provedAtMs = this.#now();
    this.#changed();
  }

  async #save(record: LockRecord): Promise<void> {
    await this.#store.set(record);
    this.#record = record;
    this.#changed();
  }

  #need(): LockRecord {
    if (!this.#record) throw new VeilError('VAULT_LOCK_INVALID', 'the vault has no lock');
    return this.#record;
  }

  #changed(): void {
    this.#onChange(this.view);
  }
}
