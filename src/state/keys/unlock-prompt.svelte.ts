/**
 * The app's one unlock prompt ([Note: unlock where the user is] in unlock-request.ts): an action
 * that meets the locked vault asks `request()`, the dialog (views/keys/UnlockDialog.svelte)
 * opens, and the action waits. Unlocking with a passkey or the passphrase settles every waiting
 * action at once and they go on; a wrong passphrase is shown in the dialog, which stays open with
 * the vault still locked; cancelling (Escape, "Cancel") rejects them with VAULT_UNLOCK_CANCELLED.
 * Passphrases are never kept here and PRF outputs are zeroed once used.
 */
import { VeilError } from '../../core/errors';
import { shownError, type ShownError } from '../app/shown-error';
import { provePasskey } from './passkey';
import type { UnlockProof } from './vault-lock-core';
import type { ProofInput } from './vault-lock.svelte';
import type { Vault } from './vault.svelte';

/** What the prompt needs: the vault, and the WebAuthn call (tests may pass a fake). */
export interface UnlockPromptDeps {
  readonly vault: Pick<Vault, 'lock' | 'unlock' | 'passkeyRequest'>;
  readonly provePasskey?: typeof provePasskey;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: VeilError) => void;
}

export class UnlockPrompt {
  readonly #deps: UnlockPromptDeps;
  #open = $state(false);
  #busy = $state(false);
  #error = $state<ShownError | undefined>(undefined);
  #waiters: Waiter[] = [];

  constructor(deps: UnlockPromptDeps) {
    this.#deps = deps;
  }

  /** True while an action waits for the unlock (the dialog is shown). */
  get open(): boolean {
    return this.#open;
  }
  get busy(): boolean {
    return this.#busy;
  }
  /** The last failed try (a wrong passphrase, a cancelled passkey), shown in the dialog. */
  get error(): ShownError | undefined {
    return this.#error;
  }
  get hasPasskey(): boolean {
    return this.#deps.vault.lock.methods.some((m) => m.kind === 'passkey');
  }

  /**
   * Resolves once the vault is unlocked (at once when it is not locked, unless `fresh` asks for a
   * new proof while unlocked); rejects with VAULT_UNLOCK_CANCELLED when the user cancels.
   */
  request(fresh = false): Promise<void> {
    const status = this.#deps.vault.lock.status;
    if (status === 'none' || (status === 'unlocked' && !fresh)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.#open) this.#error = undefined;
      this.#open = true;
    });
  }

  /** Unlocks with what the user gave; true when unlocked (the waiting actions go on). */
  async submit(input: ProofInput): Promise<boolean> {
    if (this.#busy) return false;
    this.#busy = true;
    this.#error = undefined;
    let proof: UnlockProof | undefined;
    try {
      proof = await this.#proof(input);
      await this.#deps.vault.unlock(proof);
      this.#settle((waiter) => waiter.resolve());
      return true;
    } catch (error) {
      this.#error = shownError(error);
      return false;
    } finally {
      if (proof?.kind === 'passkey') proof.prfOutput.fill(0);
      this.#busy = false;
    }
  }

  /** The user cancelled: every waiting action fails with VAULT_UNLOCK_CANCELLED. */
  cancel(): void {
    this.#settle((waiter) => waiter.reject(new VeilError('VAULT_UNLOCK_CANCELLED')));
  }

  #settle(each: (waiter: Waiter) => void): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#open = false;
    this.#error = undefined;
    for (const waiter of waiters) each(waiter);
  }

  async #proof(input: ProofInput): Promise<UnlockProof> {
    if (input !== 'passkey') return { kind: 'passphrase', passphrase: input.passphrase };
    const request = this.#deps.vault.passkeyRequest();
    if (!request) throw new VeilError('VAULT_LOCK_INVALID', 'the vault has no lock');
    const proved = await (this.#deps.provePasskey ?? provePasskey)(
      request.vaultSalt,
      request.credentialIds,
    );
    return { kind: 'passkey', ...proved };
  }
}
