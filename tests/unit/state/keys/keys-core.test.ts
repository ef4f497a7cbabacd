/**
 * The Keys view's Model A flows (src/state/keys/keys-core.ts) over a real vault core on an in-memory
 * store: a downloaded copy counts only once confirmed, a result that arrives after the view
 * closed is wiped at once, and only a key kept in the vault becomes the Model A default.
 */
import { describe, expect, test } from 'vitest';
import { serializeKeyFile, type RawAesKeyMaterial } from '../../../../src/core/key-file';
import { KeysCore, type KeysCoreDeps, type PendingKey } from '../../../../src/state/keys/keys-core';
import type { SaveOutcome, SaveRequest } from '../../../../src/state/keys/saved-copies';
import {
  VaultCore,
  type SealedKey,
  type StoredKey,
  type VaultStore,
} from '../../../../src/state/keys/vault-core';

function memoryStore(): VaultStore {
  const map = new Map<string, StoredKey | SealedKey>();
  return {
    entries: () => Promise.resolve([...map.entries()]),
    set: (name, value) => Promise.resolve(void map.set(name, value)),
    del: (name) => Promise.resolve(void map.delete(name)),
  };
}

const zeroed = (b: Uint8Array) => b.every((x) => x === 0);

function setup(
  options: {
    outcome?: SaveOutcome;
    vaultKeyId?: string;
    vault?: KeysCoreDeps['vault'];
  } = {},
) {
  const vault = new VaultCore(memoryStore());
  const prefs = { vaultKeyId: options.vaultKeyId };
  const saved: SaveRequest[] = [];
  const generated: RawAesKeyMaterial[] = [];
  const changes: (PendingKey | undefined)[] = [];
  const core = new KeysCore(
    {
      vault: options.vault ?? vault,
      preferences: {
        get values() {
          return prefs;
        },
        update: (change) => Object.assign(prefs, change),
      },
      save: (request) => {
        saved.push(request);
        return Promise.resolve(options.outcome ?? 'saved');
      },
      generateKey: (keyName) => {
        const material = {
          keyBytes: crypto.getRandomValues(new Uint8Array(32)),
          keyName,
          keyNamespace: 'veil',
        };
        generated.push(material);
        return material;
      },
    },
    (pending) => changes.push(pending),
  );
  return { core, vault, prefs, saved, generated, changes };
}

describe('copies of a new key', () => {
  test('saved through the picker: the key file counts at once', async () => {
    const { core, vault, saved } = setup({ outcome: 'saved' });
    await core.generate('team', true);
    expect(await core.saveKeyFile()).toBe('saved');
    expect(saved[0]?.suggestedName).toBe('team.jwk');
    expect(vault.keys[0]?.copies).toEqual({ keyFile: true, backup: false });
    expect(core.pending?.unconfirmed).toEqual([]);
  });

  test('handed to the downloads: nothing counts until the user confirms', async () => {
    const { core, vault } = setup({ outcome: 'downloaded' });
    await core.generate('team', true);
    expect(await core.saveKeyFile()).toBe('downloaded');
    expect(vault.keys[0]?.copies).toEqual({ keyFile: false, backup: false });
    expect(core.pending?.unconfirmed).toEqual(['keyFile']);
    // Confirming a copy that was never downloaded changes nothing.
    await core.confirmSaved('backup');
    expect(vault.keys[0]?.copies.backup).toBe(false);

    await core.confirmSaved('keyFile');
    expect(vault.keys[0]?.copies).toEqual({ keyFile: true, backup: false });
    expect(core.pending?.unconfirmed).toEqual([]);
  });

  test('a backup handed to the downloads waits for confirmation too', async () => {
    const { core, vault, saved } = setup({ outcome: 'downloaded' });
    await core.generate('team', true);
    expect(await core.saveBackup('orbit lantern cactus mosaic')).toBe('downloaded');
    expect(saved[0]?.suggestedName).toBe('team.backup.jwe');
    expect(vault.keys[0]?.copies.backup).toBe(false);
    await core.confirmSaved('backup');
    expect(vault.keys[0]?.copies.backup).toBe(true);
  }, 20_000);

  test('a cancelled save counts for nothing and asks nothing', async () => {
    const { core, vault } = setup({ outcome: 'cancelled' });
    await core.generate('team', true);
    expect(await core.saveKeyFile()).toBe('cancelled');
    expect(vault.keys[0]?.copies.keyFile).toBe(false);
    expect(core.pending?.unconfirmed).toEqual([]);
  });

  test('finish wipes the held bytes; saving afterwards is refused', async () => {
    const { core, generated } = setup();
    await core.generate('team', true);
    const held = generated[0]?.keyBytes ?? new Uint8Array(1);
    expect(zeroed(held)).toBe(false);
    core.finish();
    expect(zeroed(held)).toBe(true);
    expect(core.pending).toBeUndefined();
    await expect(core.saveKeyFile()).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });
});

describe('a key held when the vault locks', () => {
  test('an exported key is wiped at the lock: its file cannot be saved at the locked page', async () => {
    const { core } = setup();
    const exported = {
      keyBytes: new Uint8Array(32).fill(9),
      keyName: 'team',
      keyNamespace: 'veil',
    };
    core.holdExported(exported);
    expect(core.pending?.origin).toBe('exported');
    core.vaultLocked();
    expect(zeroed(exported.keyBytes)).toBe(true);
    expect(core.pending).toBeUndefined();
    await expect(core.saveKeyFile()).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  test('a page-only key, not under the lock, stays held so its copies can still be saved', async () => {
    const { core, generated } = setup();
    await core.generate('page', false);
    core.vaultLocked();
    expect(zeroed(generated[0]?.keyBytes ?? new Uint8Array(1))).toBe(false);
    expect(core.pending?.keyName).toBe('page');
  });
});

describe('a result after the view closed', () => {
  test('a key generated while the view closes is wiped at once, not held', async () => {
    const real = new VaultCore(memoryStore());
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A vault whose add finishes only when the test says so (IndexedDB can be slow).
    const slow: KeysCoreDeps['vault'] = {
      get keys() {
        return real.keys;
      },
      load: () => real.load(),
      add: async (material, options) => {
        await gate;
        return real.add(material, options);
      },
      markCopy: (name, copy) => real.markCopy(name, copy),
    };
    const { core, generated, changes } = setup({ vault: slow });
    const running = core.generate('late', true);
    await Promise.resolve();
    await Promise.resolve();
    core.close();
    release();
    await running;
    expect(generated).toHaveLength(1);
    expect(zeroed(generated[0]?.keyBytes ?? new Uint8Array(1))).toBe(true);
    expect(core.pending).toBeUndefined();
    expect(changes.filter((p) => p !== undefined)).toEqual([]);
    // The key itself was kept in the vault, as the user asked.
    expect(real.keys.map((k) => k.keyName)).toEqual(['late']);
  });

  test('an import after close is wiped too', async () => {
    const { core } = setup();
    core.close();
    const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const text = serializeKeyFile({ keyBytes, keyName: 'imported', keyNamespace: 'veil' });
    await core.importKeyFile(text, true);
    expect(core.pending).toBeUndefined();
    await expect(core.saveKeyFile()).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });
});

describe('the Model A default', () => {
  test('a key kept in the vault becomes the default when there is none', async () => {
    const { core, prefs } = setup();
    await core.generate('kept', true);
    expect(prefs.vaultKeyId).toBe('kept');
    await core.generate('second', true);
    expect(prefs.vaultKeyId).toBe('kept');
  });

  test('a page-only key never becomes the default', async () => {
    const { core, prefs } = setup();
    await core.generate('page-only', false);
    expect(prefs.vaultKeyId).toBeUndefined();
  });
});
