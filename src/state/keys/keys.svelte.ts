/**
 * The Keys view's state: the Model A flows of keys-core.ts (generate, import, save the key file
 * and the passphrase backup while the key's bytes are still in memory, see [Note: copies of a
 * vault key] in key-rules.ts) with what is in progress and the last error, deleting keys, and listing
 * the keys of Models B (HSM labels) and C (KMS aliases with their state). One instance per view;
 * `close()` when the view goes away wipes any key bytes still held, also those of a flow that
 * finishes later ([Note: a key held after the view closed]).
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { shownError, type ShownError } from '../app/shown-error';
import { TaskState, type Task } from '../app/task.svelte';
import { describeBackup, type BackupSummary } from '../../keyrings/key-backup';
import type { AwsSession } from '../shared/credentials.svelte';
import { KeysCore, type CopyKind, type PendingKey } from './keys-core';
import { hsmKeyLabels, kmsAliasesWithState, type KmsAliasList } from './remote-keys';
import { saveTextFile, type SaveOutcome } from './saved-copies';
import type { Preferences } from '../shared/preferences.svelte';
import type { Vault, VaultKeyInfo } from './vault.svelte';

export type { PendingKey, PendingOrigin, CopyKind } from './keys-core';

/** What the view needs of the app. */
export interface KeysDeps {
  readonly vault: Vault;
  readonly preferences: Preferences;
  readonly session: Pick<AwsSession, 'clients' | 'hasIdToken' | 'idToken' | 'status'>;
}

export class KeysPanel {
  readonly #deps: KeysDeps;
  readonly #core: KeysCore;
  #pending = $state<PendingKey | undefined>(undefined);
  #busy = $state<'generate' | 'key file' | 'backup' | 'import' | 'export' | undefined>(undefined);
  #error = $state<{ where: string; error: ShownError } | undefined>(undefined);
  readonly #hsm = new TaskState<string[]>();
  readonly #kms = new TaskState<KmsAliasList>();
  readonly #offLock: () => void;

  constructor(deps: KeysDeps) {
    this.#deps = deps;
    this.#core = new KeysCore(
      {
        vault: deps.vault,
        preferences: deps.preferences,
        save: (request) => saveTextFile(request),
      },
      (pending) => {
        this.#pending = pending;
      },
    );
    this.#offLock = deps.vault.onLock(() => this.#core.vaultLocked());
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
  get busy(): 'generate' | 'key file' | 'backup' | 'import' | 'export' | undefined {
    return this.#busy;
  }
  /** The last failure, and which part of the view it belongs to. */
  get error(): { where: string; error: ShownError } | undefined {
    return this.#error;
  }
  get hsm(): Task<string[]> {
    return this.#hsm.current;
  }
  get kms(): Task<KmsAliasList> {
    return this.#kms.current;
  }

  clearError(): void {
    this.#error = undefined;
  }

  /** See KeysCore.generate. */
  generate(name: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('generate', 'generate', () => this.#core.generate(name, keepInVault));
  }

  /** Imports a key file (the JWK) into the vault; it counts as a saved copy. */
  importKeyFile(text: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('import', 'import', () => this.#core.importKeyFile(text, keepInVault));
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
  importBackup(text: string, passphrase: string, keepInVault: boolean): Promise<boolean> {
    return this.#run('import', 'import', () =>
      this.#core.importBackup(text, passphrase, keepInVault),
    );
  }

  /** Saves the pending key as a key file (see KeysCore.saveKeyFile). */
  async saveKeyFile(): Promise<SaveOutcome | undefined> {
    let outcome: SaveOutcome | undefined;
    await this.#run('key file', 'copies', async () => {
      outcome = await this.#core.saveKeyFile();
    });
    return outcome;
  }

  /** Encrypts the pending key under `passphrase` (PBKDF2, about a second) and saves it. */
  async saveBackup(passphrase: string): Promise<SaveOutcome | undefined> {
    let outcome: SaveOutcome | undefined;
    await this.#run('backup', 'copies', async () => {
      outcome = await this.#core.saveBackup(passphrase);
    });
    return outcome;
  }

  /**
   * Export later: the bytes of a key under the vault's lock, held like a new key's so its key
   * file or backup can be saved. Needs a fresh unlock (VAULT_REAUTH_NEEDED otherwise, shown
   * under the key, where the view asks the user to confirm it is them).
   */
  exportKey(keyName: string): Promise<boolean> {
    return this.#run('export', 'vault', async () => {
      this.#core.holdExported(await this.#deps.vault.exportMaterial(keyName));
    });
  }

  /** The user confirms a downloaded copy is saved. */
  async confirmSaved(copy: CopyKind): Promise<void> {
    await this.#run(copy === 'keyFile' ? 'key file' : 'backup', 'copies', () =>
      this.#core.confirmSaved(copy),
    );
  }

  /** Ends the saving of copies: the key's bytes are wiped from memory. */
  finish(): void {
    this.#core.finish();
  }

  /** The view is gone: see KeysCore.close. */
  close(): void {
    this.#offLock();
    this.#core.close();
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
    await this.#hsm.run(() => hsmKeyLabels(config, this.#deps.session));
  }

  /**
   * Lists the KMS aliases with their keys' state (only the configured keys when the list is
   * denied, see remote-keys.ts). Never throws.
   */
  async listKms(config: VeilConfig): Promise<void> {
    await this.#kms.run(() => {
      const api = this.#deps.session.clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION', config.region);
      const known = [config.kms?.keyId, this.#deps.preferences.values.kmsKeyId];
      return kmsAliasesWithState(api, known);
    });
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
