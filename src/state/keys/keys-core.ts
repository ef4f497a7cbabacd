/**
 * The logic of the Keys view's Model A flows (keys.svelte.ts is its reactive wrapper): generate
 * or import a key into the vault, hold its bytes while the user saves a key file and a backup
 * ([Note: copies of a vault key] in key-rules.ts), record each copy only once it is known to exist,
 * and wipe the bytes when the user is done or the view goes away.
 *
 * [Note: a key held after the view closed] Generating a key or opening a backup (PBKDF2, about a
 * second) can finish after the user has left the Keys view, whose onDestroy already wiped what it
 * held. close() marks the holder closed for good, so such a late result is zeroed at once
 * instead of being held by a view nobody sees.
 */
import { VeilError } from '../../core/errors';
import { parseKeyFile, serializeKeyFile, type RawAesKeyMaterial } from '../../core/key-file';
import { createBackup, openBackup } from '../../keyrings/key-backup';
import {
  backupFileName,
  checkKeyName,
  copyMaterial,
  generateKeyMaterial,
  keyFileName,
  vaultKeyIdAfterGenerate,
} from './key-rules';
import type { SaveOutcome, SaveRequest } from './saved-copies';
import type { AddOptions, VaultKeyInfo } from './vault-core';

/** How a key held for saving copies came to be. */
export type PendingOrigin = 'generated' | 'key file' | 'backup' | 'exported';

/** A copy of a key outside the browser. */
export type CopyKind = 'keyFile' | 'backup';

/** A key whose bytes are still in memory, so its key file and backup can still be saved. */
export interface PendingKey {
  readonly keyName: string;
  readonly origin: PendingOrigin;
  /**
   * Copies handed to the browser's downloads (no save picker): the page cannot know whether the
   * user kept the file, so they count only once the user confirms.
   */
  readonly unconfirmed: readonly CopyKind[];
}

/** What the flows need of the app. */
export interface KeysCoreDeps {
  readonly vault: {
    readonly keys: readonly VaultKeyInfo[];
    load(): Promise<void>;
    add(material: RawAesKeyMaterial, options?: AddOptions): Promise<VaultKeyInfo>;
    markCopy(keyName: string, copy: CopyKind): Promise<void>;
  };
  readonly preferences: {
    readonly values: { readonly vaultKeyId: string | undefined };
    update(change: { vaultKeyId: string | undefined }): void;
  };
  /** Saves a text file where the user chooses (saved-copies.ts's saveTextFile). */
  readonly save: (request: SaveRequest) => Promise<SaveOutcome>;
  /** New key material (key-rules.ts's generateKeyMaterial; tests pass their own to watch it). */
  readonly generateKey?: (keyName: string) => RawAesKeyMaterial;
}

export class KeysCore {
  readonly #deps: KeysCoreDeps;
  readonly #onChange: (pending: PendingKey | undefined) => void;
  // The bytes behind `pending`: never shown, zeroed by finish().
  #material: RawAesKeyMaterial | undefined;
  #pending: PendingKey | undefined;
  #closed = false;

  /** `onChange` gets the pending key after every change (the wrapper's $state). */
  constructor(deps: KeysCoreDeps, onChange: (pending: PendingKey | undefined) => void = () => {}) {
    this.#deps = deps;
    this.#onChange = onChange;
  }

  get pending(): PendingKey | undefined {
    return this.#pending;
  }

  /**
   * Generates an AES-256 key named `name` and keeps it in the vault (or for this page only when
   * `keepInVault` is false); its bytes stay in memory until finish() so copies can be saved. A
   * key kept in the vault becomes the Model A default when there is none; a page-only key never
   * does (it is gone after a reload).
   * @throws VeilError KEY_NAME_INVALID, KEY_NAME_TAKEN; errors of the vault.
   */
  async generate(name: string, keepInVault: boolean): Promise<void> {
    await this.#deps.vault.load();
    const keyName = checkKeyName(
      name,
      this.#deps.vault.keys.map((k) => k.keyName),
    );
    const material = (this.#deps.generateKey ?? generateKeyMaterial)(keyName);
    await this.#add(material, 'generated', keepInVault);
    const vaultKeyId = vaultKeyIdAfterGenerate(
      this.#deps.preferences.values.vaultKeyId,
      keyName,
      keepInVault,
    );
    if (vaultKeyId !== this.#deps.preferences.values.vaultKeyId) {
      this.#deps.preferences.update({ vaultKeyId });
    }
  }

  /**
   * Imports a key file (the JWK) into the vault; it counts as a saved copy.
   * @throws VeilError KEY_FILE_INVALID, KEY_NAME_TAKEN; errors of the vault.
   */
  async importKeyFile(text: string, keepInVault: boolean): Promise<void> {
    await this.#add(parseKeyFile(text), 'key file', keepInVault);
  }

  /**
   * Opens a backup with its passphrase and imports the key; it counts as a saved copy.
   * @throws VeilError BACKUP_INVALID, BACKUP_WRONG_PASSPHRASE, KEY_NAME_TAKEN; errors of the vault.
   */
  async importBackup(text: string, passphrase: string, keepInVault: boolean): Promise<void> {
    await this.#add(await openBackup(text, passphrase), 'backup', keepInVault);
  }

  /**
   * Saves the pending key as a key file. Saved through the picker, the copy is recorded; handed
   * to the downloads, it waits for confirmSaved('keyFile').
   * @throws VeilError KEY_SAVE_FAILED; INTERNAL_ERROR when no key is held.
   */
  async saveKeyFile(): Promise<SaveOutcome> {
    const material = this.#needMaterial();
    const outcome = await this.#deps.save({
      suggestedName: keyFileName(material.keyName),
      text: serializeKeyFile(material),
      mimeType: 'application/jwk+json',
      description: 'Veil key file (JWK)',
      extension: '.jwk',
    });
    await this.#saved(material.keyName, 'keyFile', outcome);
    return outcome;
  }

  /**
   * Encrypts the pending key under `passphrase` (PBKDF2, about a second) and saves it, recorded
   * as saveKeyFile records a key file.
   * @throws VeilError BACKUP_PASSPHRASE_WEAK, KEY_SAVE_FAILED; INTERNAL_ERROR when no key is held.
   */
  async saveBackup(passphrase: string): Promise<SaveOutcome> {
    const material = this.#needMaterial();
    const backup = await createBackup(material, passphrase);
    const outcome = await this.#deps.save({
      suggestedName: backupFileName(material.keyName),
      text: `${backup}\n`,
      mimeType: 'application/jose',
      description: 'Veil key backup (JWE, passphrase)',
      extension: '.jwe',
    });
    await this.#saved(material.keyName, 'backup', outcome);
    return outcome;
  }

  /**
   * Holds a key exported from under the vault's lock (Vault.exportMaterial after a fresh unlock)
   * so its key file and backup can be saved as right after it was made; takes ownership of
   * `material.keyBytes` (zeroed by finish() or close()).
   */
  holdExported(material: RawAesKeyMaterial): void {
    this.#hold(material, 'exported');
  }

  /** The user confirms that a downloaded copy is saved: it counts from now on. */
  async confirmSaved(copy: CopyKind): Promise<void> {
    const pending = this.#pending;
    if (!pending?.unconfirmed.includes(copy)) return;
    await this.#deps.vault.markCopy(pending.keyName, copy);
    if (this.#pending?.keyName === pending.keyName) {
      this.#setPending({
        ...this.#pending,
        unconfirmed: this.#pending.unconfirmed.filter((c) => c !== copy),
      });
    }
  }

  /** Ends the saving of copies: the key's bytes are wiped from memory. */
  finish(): void {
    this.#material?.keyBytes.fill(0);
    this.#material = undefined;
    this.#setPending(undefined);
  }

  /**
   * The vault locked: a held key that is under the lock (exported later, or made or imported
   * while unlocked) is wiped, so no one at the locked page saves its file or backup. A key kept
   * for this page only stays held: it is not under the lock and its copies may not be saved yet.
   */
  vaultLocked(): void {
    const pending = this.#pending;
    if (!pending) return;
    const info = this.#deps.vault.keys.find((key) => key.keyName === pending.keyName);
    if (pending.origin === 'exported' || info?.underLock) this.finish();
  }

  /**
   * The view is gone: wipes what is held, and anything that finishes later is wiped at once
   * ([Note: a key held after the view closed]).
   */
  close(): void {
    this.#closed = true;
    this.finish();
  }

  async #add(material: RawAesKeyMaterial, origin: PendingOrigin, keepInVault: boolean) {
    try {
      await this.#deps.vault.add(copyMaterial(material), {
        sessionOnly: !keepInVault,
        copies: { keyFile: origin === 'key file', backup: origin === 'backup' },
      });
    } catch (error) {
      material.keyBytes.fill(0);
      throw error;
    }
    this.#hold(material, origin);
  }

  #hold(material: RawAesKeyMaterial, origin: PendingOrigin): void {
    this.finish();
    if (this.#closed) {
      material.keyBytes.fill(0);
      return;
    }
    this.#material = material;
    this.#setPending({ keyName: material.keyName, origin, unconfirmed: [] });
  }

  async #saved(keyName: string, copy: CopyKind, outcome: SaveOutcome): Promise<void> {
    if (outcome === 'saved') {
      await this.#deps.vault.markCopy(keyName, copy);
      return;
    }
    const pending = this.#pending;
    if (outcome === 'downloaded' && pending?.keyName === keyName) {
      if (!pending.unconfirmed.includes(copy)) {
        this.#setPending({ ...pending, unconfirmed: [...pending.unconfirmed, copy] });
      }
    }
  }

  #needMaterial(): RawAesKeyMaterial {
    if (!this.#material) throw new VeilError('INTERNAL_ERROR', 'no key is held for saving');
    return this.#material;
  }

  #setPending(pending: PendingKey | undefined): void {
    this.#pending = pending;
    this.#onChange(pending);
  }
}
