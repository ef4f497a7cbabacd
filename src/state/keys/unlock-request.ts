/**
 * [Note: unlock where the user is] An action that needs the locked vault (an upload or download
 * with a Model A key, opening a file shared with the user's key pair, "Save backup" of the key
 * pair…) does not fail with VAULT_LOCKED and send the user to Keys: it asks for the unlock where
 * it stands, as a password manager does, and goes on by itself once the vault is unlocked. There
 * is one prompt for the app (unlock-prompt.svelte.ts, shown by views/keys/UnlockDialog.svelte),
 * registered here when the app starts; the places that meet a locked vault go through this
 * module: a locked key's stand-in keyring asks `unlockPrompter()` when an object names it
 * (locked-keyring.ts), and actions run through `withUnlockedVault` (person-keyring.ts, the
 * upload's key choice, the key pair's backup). Cancelling rejects with VAULT_UNLOCK_CANCELLED,
 * which says only that the action was not done. With no prompt registered (the command line,
 * tests), nothing changes: the action fails with VAULT_LOCKED as before.
 */
import { VeilError } from '../../core/errors';

/**
 * Asks the user to unlock (with `fresh`, to prove it again even while unlocked); resolves once
 * done, rejects (VAULT_UNLOCK_CANCELLED) if not.
 */
export type UnlockPrompter = (options?: { fresh?: boolean }) => Promise<void>;

let prompter: UnlockPrompter | undefined;

/** The failures an unlock mends. */
const RETRIED = new Set(['VAULT_LOCKED', 'VAULT_REAUTH_NEEDED']);

/** Registers the app's prompt (undefined removes it); returns the undo. */
export function useUnlockPrompt(prompt: UnlockPrompter | undefined): () => void {
  prompter = prompt;
  return () => {
    if (prompter === prompt) prompter = undefined;
  };
}

/** The registered prompt, if any (a keyring asks it when an object names a locked key). */
export function unlockPrompter(): UnlockPrompter | undefined {
  return prompter;
}

/**
 * Runs `action`; when it fails with VAULT_LOCKED, or VAULT_REAUTH_NEEDED (an unlock older than
 * 2 minutes, [Note: a fresh unlock]), and a prompt is registered, asks the user to unlock (a
 * fresh proof) and runs it once more.
 * @throws what `action` throws; VAULT_UNLOCK_CANCELLED when the user cancels the unlock.
 */
export async function withUnlockedVault<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const prompt = prompter;
    const retried = error instanceof VeilError && RETRIED.has(error.code);
    if (!retried || !prompt) throw error;
    await prompt({ fresh: error.code === 'VAULT_REAUTH_NEEDED' });
    return action();
  }
}
