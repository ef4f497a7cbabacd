/**
 * The Keys view's state: generating and importing Model A keys into the vault, saving the key
 * file and the passphrase backup while the key's bytes are still in memory ([Note: copies of a
 * vault key] in keys.ts), deleting keys, and listing the keys of Models B (HSM labels) and C (KMS
 * aliases with their state). One instance per view; `finish()` wipes any key bytes still held.
 */
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import { parseKeyFile, serializeKeyFile, type RawAesKeyMaterial } from '../core/key-file';
import { shownError, type ShownError } from '../views/ui/errors';
import { createBackup, describeBackup, openBackup, type BackupSummary } from './backup';
import type { AwsSession } from './credentials.svelte';
import {
  backupFileName,
  checkKeyName,
  copyMaterial,
  generateKeyMaterial,
  keyFileName,
} from './keys';
import { hsmKeyLabels, kmsAliasesWithState, type KmsAliasRow } from './keys-remote';
import { saveTextFile, type SaveOutcome } from './keys-save';
import type { Preferences } from './preferences.svelte';
import type { Vault, VaultKeyInfo } from './vault.svelte';

type Task<T> =
  | { state: 'idle' }
  | { state: 'working' }
  | { state: 'done'; value: T }
  | { state: 'failed'; error: ShownError };

/** How a key held for saving copies came to be. */
export type PendingOrigin = 'generated' | 'key file' | 'backup';

/** A key whose bytes are still in memory, so its key file and backup can still be saved. */
export interface PendingKey {
  readonly keyName: string;
  readonly origin: PendingOrigin;
}

/** What the view needs of the app. */
export interface KeysDeps {
  readonly vault: Vault;
  readonly preferences: Preferences;
  readonly session: Pick<AwsSession, 'clients' | 'hasIdToken' | 'idToken' | 'status'>;
}

export class KeysPanel {
  readonly #deps: KeysDeps;
  // The bytes behind `pending`: never reactive, never shown, zeroed by finish().
  #material: RawAesKeyMaterial | undefined;
  #pending = $state<PendingKey | undefined>(undefined);
  #busy = $state<'generate' | 'key file' | 'backup' | 'import' | undefined>(undefined);
  #error = $state<{ where: string; error: ShownError } | undefined>(undefined);
  #hsm = $state<Task<string[]>>({ state: 'idle' });
  #kms = $state<Task<{ rows: KmsAliasRow[]; more: number }>>({ state: 'idle' });

  constructor(deps: KeysDeps) {
    this.#deps = deps;
  }

  get pending(): PendingKey | undefined {
    return this.#pending;
  }
  /** The vault entry of the pending key (for its fingerprint and copies). */
  get pendingInfo(): VaultKeyInfo | undefined {
    const name = this.#pending?.keyName;
    return name === undefined ? undefined : this.#deps.vault.keys.find((k) => k.keyName === name);
  }
  /** What is in progress (buttons are disabled meanwhile). */
  get busy(): 'generate' | 'key file' | 'backup' | 'import' | undefined {
    return this.#busy;
  }
  /** The last failure, and which part of the view it belongs to. */
  get error(): { where: string; error: ShownError } | undefined {
    return this.#error;
  }
  get hsm(): Task<string[]> {
    return this.#hsm;
  }
  get kms(): Task<{ rows: KmsAliasRow[]; more: number }> {
    return this.#kms;
  }

  clearError(): void {
    this.#error = undefined;
  }

  /**
   * Generates an AES-256 key named `name` and keeps it in the vault (or for this page only when
   * `keepInVault` is false); its bytes stay in memory until finish() so copies can be saved.
   */
  async generate(name: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('generate', 'generate', async () => {
      await this.#deps.vault.load();
      const keyName = checkKeyName(
        name,
        this.#deps.vault.keys.map((k) => k.keyName),
      );
      const material = generateKeyMaterial(keyName);
      try {
        await this.#deps.vault.add(copyMaterial(material), { sessionOnly: !keepInVault });
      } catch (error) {
        material.keyBytes.fill(0);
        throw error;
      }
      this.#hold(material, 'generated');
      if (!this.#deps.preferences.values.vaultKeyId) {
        this.#deps.preferences.update({ vaultKeyId: keyName });
      }
    });
  }

  /** Imports a key file (the JWK) into the vault; it counts as a saved copy. */
  async importKeyFile(text: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('import', 'import', async () => {
      const material = parseKeyFile(text);
      await this.#add(material, 'key file', keepInVault);
    });
  }

  /** Reads what a backup file says about itself (no passphrase needed). */
  describeBackup(text: string): BackupSummary | undefined {
    try {
      this.#error = undefined;
      return describeBackup(text);
    } catch (error) {
      this.#error = { where: 'import', error: shownError(error) };
      return undefined;
    }
  }

  /** Opens a backup with its passphrase and imports the key; it counts as a saved copy. */
  async importBackup(text: string, passphrase: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('import', 'import', async () => {
      const material = await openBackup(text, passphrase);
      await this.#add(material, 'backup', keepInVault);
    });
  }

  /** Saves the pending key as a key file. */
  async saveKeyFile(): Promise<SaveOutcome | undefined> {
    let outcome: SaveOutcome | undefined;
    await this.#run('key file', 'copies', async () => {
      const material = this.#needMaterial();
      outcome = await saveTextFile({
        suggestedName: keyFileName(material.keyName),
        text: serializeKeyFile(material),
        mimeType: 'application/jwk+json',
        description: 'Veil key file (JWK)',
        extension: '.jwk',
      });
      if (outcome === 'saved') await this.#deps.vault.markCopy(material.keyName, 'keyFile');
    });
    return outcome;
  }

  /** Encrypts the pending key under `passphrase` (PBKDF2, about a second) and saves it. */
  async saveBackup(passphrase: string): Promise<SaveOutcome | undefined> {
    let outcome: SaveOutcome | undefined;
    await this.#run('backup', 'copies', async () => {
      const material = this.#needMaterial();
      const backup = await createBackup(material, passphrase);
      outcome = await saveTextFile({
        suggestedName: backupFileName(material.keyName),
        text: `${backup}\n`,
        mimeType: 'application/jose',
        description: 'Veil key backup (JWE, passphrase)',
        extension: '.jwe',
      });
      if (outcome === 'saved') await this.#deps.vault.markCopy(material.keyName, 'backup');
    });
    return outcome;
  }

  /** Ends the saving of copies: the key's bytes are wiped from memory. */
  finish(): void {
    this.#material?.keyBytes.fill(0);
    this.#material = undefined;
    this.#pending = undefined;
  }

  /** Deletes a key from the vault (the view asks for confirmation first). */
  async remove(keyName: string): Promise<void> {
    if (this.#pending?.keyName === keyName) this.finish();
    try {
      await this.#deps.vault.remove(keyName);
      if (this.#deps.preferences.values.vaultKeyId === keyName) {
        this.#deps.preferences.update({ vaultKeyId: undefined });
      }
    } catch (error) {
      this.#error = { where: 'vault', error: shownError(error) };
    }
  }

  /** Lists the HSM labels the signed-in user may use. Never throws. */
  async listHsm(config: VeilConfig): Promise<void> {
    this.#hsm = { state: 'working' };
    try {
      this.#hsm = { state: 'done', value: await hsmKeyLabels(config, this.#deps.session) };
    } catch (error) {
      this.#hsm = { state: 'failed', error: shownError(error) };
    }
  }

  /** Lists the KMS aliases with their keys' state. Never throws. */
  async listKms(config: VeilConfig): Promise<void> {
    this.#kms = { state: 'working' };
    try {
      const api = this.#deps.session.clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION', config.region);
      this.#kms = { state: 'done', value: await kmsAliasesWithState(api) };
    } catch (error) {
      this.#kms = { state: 'failed', error: shownError(error) };
    }
  }

  async #add(
    material: RawAesKeyMaterial,
    origin: 'key file' | 'backup',
    keepInVault: boolean,
  ): Promise<void> {
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
    this.#material = material;
    this.#pending = { keyName: material.keyName, origin };
  }

  #needMaterial(): RawAesKeyMaterial {
    if (!this.#material) throw new VeilError('INTERNAL_ERROR', 'no key is held for saving');
    return this.#material;
  }

  async #run(
    busy: NonNullable<KeysPanel['busy']>,
    where: string,
    work: () => Promise<void>,
  ): Promise<boolean> {
    this.#busy = busy;
    this.#error = undefined;
    try {
      await work();
      return true;
    } catch (error) {
      this.#error = { where, error: shownError(error) };
      return false;
    } finally {
      this.#busy = undefined;
    }
  }
}
