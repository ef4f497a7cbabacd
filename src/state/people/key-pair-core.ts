/**
 * The user's own key pair for sharing with people (people.svelte.ts is the app's reactive wrapper):
 * an RSA-OAEP-4096 key pair whose private key is kept as a non-extractable CryptoKey in a
 * key-value store (IndexedDB in the app: it holds CryptoKey objects as they are; a Map in tests),
 * beside its passphrase backup ([Note: key pair backup] in src/keyrings/rsa-backup.ts).
 *
 * [Note: the key pair's copies] The private key's bytes exist in page memory twice only: when the
 * pair is created (to make the backup, then zeroed) and when the user exports it as PEM after
 * typing the passphrase again (the backup is opened; the CryptoKey is never read back). The
 * backup is what "Save backup" downloads and what "Restore" takes on another device. Protection
 * by a passkey (WebAuthn PRF) instead of a passphrase is a later item.
 */
import { VeilError } from '../../core/errors';
import { RawRsaKeyring } from '../../keyrings/raw-rsa';
import { createKeyPairBackup, openKeyPairBackup } from '../../keyrings/rsa-backup';
import { generateKeyPair } from '../../keyrings/rsa-keys';
import { checkPersonName } from '../../transfer/people-directory';

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
}

/** One stored key pair. */
export interface StoredKeyPair {
  readonly info: KeyPairInfo;
  readonly privateKey: CryptoKey;
  /** The passphrase backup (a JWE; opens only with the passphrase). */
  readonly backup: string;
}

/** Where the key pair is kept (one entry). */
export interface KeyPairStore {
  get(): Promise<unknown>;
  set(value: StoredKeyPair): Promise<void>;
  del(): Promise<void>;
}

/** A time in milliseconds since the epoch as ISO 8601 (the directory's `created`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function isStored(value: unknown): value is StoredKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<StoredKeyPair>;
  return (
    typeof v.backup === 'string' &&
    v.privateKey instanceof CryptoKey &&
    typeof v.info?.fingerprint === 'string' &&
    v.info.publicKeySpki instanceof Uint8Array
  );
}

export class KeyPairCore {
  readonly #store: KeyPairStore;
  #stored: StoredKeyPair | undefined;
  #loaded: Promise<void> | undefined;

  constructor(store: KeyPairStore) {
    this.#store = store;
  }

  /** The key pair, once loaded; undefined when there is none. */
  get info(): KeyPairInfo | undefined {
    return this.#stored?.info;
  }

  /** Reads the store once (a failed read is tried again on the next call). */
  load(): Promise<void> {
    this.#loaded ??= this.#store.get().then(
      (value) => {
        this.#stored = isStored(value) ? value : undefined;
      },
      (error: unknown) => {
        this.#loaded = undefined;
        throw error;
      },
    );
    return this.#loaded;
  }

  /**
   * Creates a key pair for `name`, with its backup under `passphrase`, and keeps both.
   * @returns the backup text, for saving.
   * @throws VeilError BAD_ARGUMENT for a bad name; BACKUP_PASSPHRASE_WEAK; KEY_NAME_TAKEN when a
   *   key pair is already held (delete it first).
   */
  async create(name: string, passphrase: string, nowMs = Date.now()): Promise<string> {
    await this.load();
    if (this.#stored) throw new VeilError('KEY_NAME_TAKEN', 'this browser already has a key pair');
    const checkedName = checkPersonName(name);
    const pair = await generateKeyPair();
    try {
      const backup = await createKeyPairBackup(pair.pkcs8, pair.fingerprint, passphrase);
      await this.#keep({
        info: {
          name: checkedName,
          fingerprint: pair.fingerprint,
          publicKeySpki: pair.publicKeySpki,
          createdAtMs: nowMs,
          backupSaved: false,
        },
        privateKey: pair.privateKey,
        backup,
      });
      return backup;
    } finally {
      pair.pkcs8.fill(0);
    }
  }

  /**
   * Restores a key pair from its backup (another device's), under `name`.
   * @throws VeilError BACKUP_INVALID, BACKUP_WRONG_PASSPHRASE, PRIVATE_KEY_INVALID; BAD_ARGUMENT
   *   for a bad name; KEY_NAME_TAKEN when a key pair is already held.
   */
  async restore(backup: string, passphrase: string, name: string, nowMs = Date.now()) {
    await this.load();
    if (this.#stored) throw new VeilError('KEY_NAME_TAKEN', 'this browser already has a key pair');
    const checkedName = checkPersonName(name);
    const { pair } = await openKeyPairBackup(backup, passphrase);
    await this.#keep({
      info: {
        name: checkedName,
        fingerprint: pair.fingerprint,
        publicKeySpki: pair.publicKeySpki,
        createdAtMs: nowMs,
        backupSaved: true,
      },
      privateKey: pair.privateKey,
      backup: backup.trim(),
    });
  }

  /** The backup text, for "Save backup". */
  backup(): string {
    return this.#require().backup;
  }

  /** Records that the user saved the backup. */
  async markBackupSaved(): Promise<void> {
    const stored = this.#require();
    await this.#keep({ ...stored, info: { ...stored.info, backupSaved: true } });
  }

  /**
   * The private key as PKCS#8 PEM, opened from the backup with the passphrase typed again
   * ([Note: the key pair's copies]). Secret: hand it to the save and drop it.
   * @throws VeilError KEY_PAIR_MISSING; BACKUP_WRONG_PASSPHRASE.
   */
  async exportPem(passphrase: string): Promise<string> {
    return (await openKeyPairBackup(this.#require().backup, passphrase)).pem;
  }

  /** Deletes the key pair from this browser. */
  async remove(): Promise<void> {
    await this.#store.del();
    this.#stored = undefined;
  }

  /**
   * The raw RSA keyring that opens what was shared with this key pair.
   * @throws VeilError KEY_PAIR_MISSING.
   */
  keyring(): RawRsaKeyring {
    const stored = this.#require();
    return new RawRsaKeyring({ keyName: stored.info.fingerprint, privateKey: stored.privateKey });
  }

  #require(): StoredKeyPair {
    if (!this.#stored) throw new VeilError('KEY_PAIR_MISSING');
    return this.#stored;
  }

  async #keep(stored: StoredKeyPair): Promise<void> {
    await this.#store.set(stored);
    this.#stored = stored;
  }
}
