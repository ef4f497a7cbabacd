/**
 * The Keys view's lock panel: set a lock, unlock with a passkey or the passphrase, lock now,
 * add or remove passkeys, the idle time, and confirming it is the user again before an export
 * ([Note: a fresh unlock] in vault-lock-core.ts). What is in progress and the last failure are
 * `$state`; passphrases are never kept here, and PRF outputs are zeroed once used.
 */
import { VeilError } from '../../core/errors';
import { shownError, type ShownError } from '../app/shown-error';
import { createPasskey, provePasskey, type PasskeyResult } from './passkey';
import type { UnlockProof } from './vault-lock-core';
import type { Vault } from './vault.svelte';

/** What the panel needs: the vault and the WebAuthn calls (tests may pass fakes). */
export interface LockPanelDeps {
  readonly vault: Pick<
    Vault,
    | 'lock'
    | 'passkeyRequest'
    | 'setUpLock'
    | 'unlock'
    | 'addPasskey'
    | 'removeMethod'
    | 'setIdleMinutes'
    | 'lockNow'
  >;
  readonly createPasskey?: typeof createPasskey;
  readonly provePasskey?: typeof provePasskey;
}

export type LockBusy = 'set' | 'unlock' | 'passkey' | 'remove' | 'idle';

/** How the user proves it is them: the passphrase typed, or one of the vault's passkeys. */
export type ProofInput = { passphrase: string } | 'passkey';

export class LockPanel {
  readonly #deps: LockPanelDeps;
  #busy = $state<LockBusy | undefined>(undefined);
  #error = $state<ShownError | undefined>(undefined);
  // Entries that failed their seal on the last unlock (VAULT_ENTRY_TAMPERED), shown apart.
  #refused = $state<readonly ShownError[]>([]);

  constructor(deps: LockPanelDeps) {
    this.#deps = deps;
  }

  get busy(): LockBusy | undefined {
    return this.#busy;
  }
  get error(): ShownError | undefined {
    return this.#error;
  }
  get refused(): readonly ShownError[] {
    return this.#refused;
  }

  clearError(): void {
    this.#error = undefined;
  }

  /** Sets a lock with a passphrase (the fallback method). */
  setUp(passphrase: string): Promise<boolean> {
    return this.#run('set', () => this.#deps.vault.setUpLock(passphrase));
  }

  /** Unlocks (or, while unlocked, confirms it is the user again: a fresh unlock). */
  unlock(input: ProofInput): Promise<boolean> {
    return this.#run('unlock', async () => {
      const proof = await this.#proof(input);
      try {
        const errors = await this.#deps.vault.unlock(proof);
        this.#refused = errors.map((e) => shownError(e));
      } finally {
        if (proof.kind === 'passkey') proof.prfOutput.fill(0);
      }
    });
  }

  /**
   * Adds a passkey named `label`, after proving an existing method (`input`).
   * Creating it asks the authenticator for a new passkey with PRF.
   */
  addPasskey(label: string, input: ProofInput): Promise<boolean> {
    return this.#run('passkey', async () => {
      const proof = await this.#proof(input);
      let created: PasskeyResult | undefined;
      try {
        const request = this.#request();
        created = await (this.#deps.createPasskey ?? createPasskey)(
          request.vaultSalt,
          request.credentialIds,
          label.trim() || 'Veil vault',
        );
        await this.#deps.vault.addPasskey(proof, { ...created, label });
      } finally {
        if (proof.kind === 'passkey') proof.prfOutput.fill(0);
        created?.prfOutput.fill(0);
      }
    });
  }

  removeMethod(id: string): Promise<boolean> {
    return this.#run('remove', () => this.#deps.vault.removeMethod(id));
  }

  setIdleMinutes(minutes: number): Promise<boolean> {
    return this.#run('idle', () => this.#deps.vault.setIdleMinutes(minutes));
  }

  lockNow(): void {
    this.#error = undefined;
    this.#refused = [];
    this.#deps.vault.lockNow();
  }

  async #proof(input: ProofInput): Promise<UnlockProof> {
    if (input !== 'passkey') return { kind: 'passphrase', passphrase: input.passphrase };
    const request = this.#request();
    const proved = await (this.#deps.provePasskey ?? provePasskey)(
      request.vaultSalt,
      request.credentialIds,
    );
    return { kind: 'passkey', ...proved };
  }

  #request(): { vaultSalt: Uint8Array; credentialIds: Uint8Array[] } {
    const request = this.#deps.vault.passkeyRequest();
    if (!request) throw new VeilError('VAULT_LOCK_INVALID', 'the vault has no lock');
    return request;
  }

  async #run(busy: LockBusy, work: () => Promise<void>): Promise<boolean> {
    this.#busy = busy;
    this.#error = undefined;
    try {
      await work();
      return true;
    } catch (error) {
      this.#error = shownError(error);
      return false;
    } finally {
      this.#busy = undefined;
    }
  }
}
