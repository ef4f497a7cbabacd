/**
 * Unlock where the user is ([Note: unlock where the user is] in src/state/keys/unlock-request.ts):
 * the prompt settles every waiting action on unlock, keeps a wrong passphrase in the dialog with
 * the vault still locked, and cancels with VAULT_UNLOCK_CANCELLED; withUnlockedVault runs the
 * action again after the unlock; a locked key's stand-in keyring waits for the prompt and opens.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { DecryptRequest } from '../../../../src/core/keyring';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { LockedVaultKeyring } from '../../../../src/state/keys/locked-keyring';
import { UnlockPrompt } from '../../../../src/state/keys/unlock-prompt.svelte';
import { useUnlockPrompt, withUnlockedVault } from '../../../../src/state/keys/unlock-request';
import type { LockView, UnlockProof } from '../../../../src/state/keys/vault-lock-core';

const PASSPHRASE = 'four random words here';

/** A vault that unlocks with PASSPHRASE only. */
function fakeVault() {
  const state = { lock: { status: 'locked', idleMinutes: 15, methods: [] } as LockView, tries: 0 };
  return {
    state,
    get lock() {
      return state.lock;
    },
    unlock(proof: UnlockProof) {
      state.tries++;
      if (proof.kind !== 'passphrase' || proof.passphrase !== PASSPHRASE) {
        return Promise.reject(new VeilError('VAULT_UNLOCK_FAILED', 'passphrase'));
      }
      state.lock = { ...state.lock, status: 'unlocked' };
      return Promise.resolve([]);
    },
    passkeyRequest: () => undefined,
  };
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeilError);
  return (error as VeilError).code;
}

let undo: (() => void) | undefined;
afterEach(() => undo?.());

describe('the unlock prompt', () => {
  test('an action that meets the locked vault waits, and goes on once unlocked', async () => {
    const vault = fakeVault();
    const prompt = new UnlockPrompt({ vault });
    undo = useUnlockPrompt(() => prompt.request());
    let runs = 0;
    const action = withUnlockedVault(() => {
      runs++;
      return vault.lock.status === 'locked'
        ? Promise.reject(new VeilError('VAULT_LOCKED'))
        : Promise.resolve('done');
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(prompt.open).toBe(true);
    // A wrong passphrase: shown in the dialog, still locked, the action still waits.
    expect(await prompt.submit({ passphrase: 'wrong passphrase!' })).toBe(false);
    expect(prompt.error?.code).toBe('VAULT_UNLOCK_FAILED');
    expect(prompt.open).toBe(true);
    expect(vault.lock.status).toBe('locked');
    expect(await prompt.submit({ passphrase: PASSPHRASE })).toBe(true);
    expect(await action).toBe('done');
    expect(runs).toBe(2);
    expect(prompt.open).toBe(false);
  });

  test('cancel: every waiting action fails with VAULT_UNLOCK_CANCELLED and is not run again', async () => {
    const vault = fakeVault();
    const prompt = new UnlockPrompt({ vault });
    undo = useUnlockPrompt(() => prompt.request());
    let runs = 0;
    const locked = () => {
      runs++;
      return Promise.reject(new VeilError('VAULT_LOCKED'));
    };
    const first = codeOf(() => withUnlockedVault(locked));
    const second = codeOf(() => withUnlockedVault(locked));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(prompt.open).toBe(true);
    prompt.cancel();
    expect(await first).toBe('VAULT_UNLOCK_CANCELLED');
    expect(await second).toBe('VAULT_UNLOCK_CANCELLED');
    expect(runs).toBe(2);
    expect(vault.state.tries).toBe(0);
  });

  test('without a prompt (the command line, tests) an action fails with VAULT_LOCKED as before', async () => {
    expect(
      await codeOf(() => withUnlockedVault(() => Promise.reject(new VeilError('VAULT_LOCKED')))),
    ).toBe('VAULT_LOCKED');
  });

  test('an unlock older than 2 minutes (VAULT_REAUTH_NEEDED) asks for a fresh proof, then goes on', async () => {
    const vault = fakeVault();
    vault.state.lock = { ...vault.state.lock, status: 'unlocked' };
    const prompt = new UnlockPrompt({ vault });
    undo = useUnlockPrompt((options) => prompt.request(options?.fresh));
    // Fresh once the user proved it again in the dialog.
    const action = withUnlockedVault(() =>
      vault.state.tries > 0
        ? Promise.resolve('saved')
        : Promise.reject(new VeilError('VAULT_REAUTH_NEEDED')),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(prompt.open).toBe(true);
    expect(await prompt.submit({ passphrase: PASSPHRASE })).toBe(true);
    expect(await action).toBe('saved');
    // Unlocked and not asked for a fresh proof: no dialog.
    await prompt.request();
    expect(prompt.open).toBe(false);
  });

  test('other failures are not turned into a prompt', async () => {
    const prompt = new UnlockPrompt({ vault: fakeVault() });
    undo = useUnlockPrompt(() => prompt.request());
    expect(
      await codeOf(() =>
        withUnlockedVault(() => Promise.reject(new VeilError('VAULT_ENTRY_TAMPERED'))),
      ),
    ).toBe('VAULT_ENTRY_TAMPERED');
    expect(prompt.open).toBe(false);
  });

  test('a locked key stand-in waits for the unlock, then opens with the key', async () => {
    const material = {
      keyName: 'team',
      keyNamespace: 'veil',
      keyBytes: new Uint8Array(32).fill(7),
    };
    const writer = await RawAesKeyring.fromBytes({
      ...material,
      keyBytes: material.keyBytes.slice(),
    });
    const { encryptedDataKeys, dataKey } = await writer.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: {},
    });
    const request: DecryptRequest = { suiteId: 0x0478, encryptionContext: {}, encryptedDataKeys };
    let unlocked = false;
    let release: () => void = () => {};
    const standIn = new LockedVaultKeyring('veil', 'team', 'VAULT_LOCKED', {
      unlock: () =>
        new Promise<void>((resolve) => {
          release = () => {
            unlocked = true;
            resolve();
          };
        }),
      keyring: () => {
        if (!unlocked) throw new VeilError('VAULT_LOCKED');
        return writer;
      },
    });
    const opened = standIn.onDecrypt(request);
    await Promise.resolve();
    release();
    expect(Buffer.from((await opened) ?? []).equals(Buffer.from(dataKey))).toBe(true);
    // Without an unlock it fails as before; a refused entry never asks.
    expect(await codeOf(() => new LockedVaultKeyring('veil', 'team').onDecrypt(request))).toBe(
      'VAULT_LOCKED',
    );
    const refused = new LockedVaultKeyring('veil', 'team', 'VAULT_ENTRY_TAMPERED', {
      unlock: () => Promise.reject(new Error('must not ask')),
      keyring: () => writer,
    });
    expect(await codeOf(() => refused.onDecrypt(request))).toBe('VAULT_ENTRY_TAMPERED');
  });
});
