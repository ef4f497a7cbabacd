/**
 * Model A's vault logic (src/state/keys/vault-core.ts) over an in-memory store: names bound to one
 * key ([Note: a vault key's name]), key bytes wiped on every path, page-only keys against stored
 * ones, copies that persist, delete, the fingerprint, and a stale Model A default.
 */
import { describe, expect, test, vi } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { RawAesKeyMaterial } from '../../../../src/core/key-file';
import {
  VaultCore,
  isStaleVaultKeyId,
  keyFingerprint,
  type SealedKey,
  type StoredKey,
  type VaultKeyInfo,
  type VaultStore,
} from '../../../../src/state/keys/vault-core';

/** A store in a Map that counts writes, optionally failing them. */
class MemoryStore implements VaultStore {
  readonly map = new Map<string, StoredKey | SealedKey>();
  writes = 0;
  failWrites = false;
  entries() {
    return Promise.resolve([...this.map.entries()]);
  }
  set(keyName: string, value: StoredKey | SealedKey) {
    if (this.failWrites) return Promise.reject(new Error('QuotaExceededError'));
    this.writes++;
    this.map.set(keyName, value);
    return Promise.resolve();
  }
  del(keyName: string) {
    this.map.delete(keyName);
    return Promise.resolve();
  }
}

const bytes = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + seed) & 0xff);
const material = (keyName: string, seed = 1, keyNamespace = 'veil'): RawAesKeyMaterial => ({
  keyBytes: bytes(seed),
  keyName,
  keyNamespace,
});
const zeroed = (b: Uint8Array) => b.every((x) => x === 0);

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeilError);
  return (error as VeilError).code;
}

describe('the vault', () => {
  test('a stored key survives a new page (a new core over the same store), with its info', async () => {
    const store = new MemoryStore();
    const seen: (readonly VaultKeyInfo[])[] = [];
    const vault = new VaultCore(store, (keys) => seen.push(keys));
    const info = await vault.add(material('team'), { nowMs: 1000 });
    expect(info).toMatchObject({
      keyName: 'team',
      keyNamespace: 'veil',
      bits: 256,
      createdAtMs: 1000,
      sessionOnly: false,
      copies: { keyFile: false, backup: false },
    });
    expect(info.fingerprint).toBe(await keyFingerprint(bytes(1)));
    expect(seen.at(-1)).toEqual([info]);

    const later = new VaultCore(store);
    await later.load();
    expect(later.keys).toEqual([info]);
    expect(later.keyring('team')).toMatchObject({ keyName: 'team', keyNamespace: 'veil' });
  });

  test('the key bytes are zeroed after a successful add', async () => {
    const vault = new VaultCore(new MemoryStore());
    const m = material('team');
    await vault.add(m);
    expect(zeroed(m.keyBytes)).toBe(true);
  });

  test('the key bytes are zeroed when add fails: a taken name, a bad length, a failing store', async () => {
    const store = new MemoryStore();
    const vault = new VaultCore(store);
    await vault.add(material('team', 1));
    const other = material('team', 2);
    expect(await codeOf(() => vault.add(other))).toBe('KEY_NAME_TAKEN');
    expect(zeroed(other.keyBytes)).toBe(true);

    const short = { keyBytes: bytes(3).subarray(0, 20), keyName: 'short', keyNamespace: 'veil' };
    await expect(vault.add(short)).rejects.toThrow();
    expect(zeroed(short.keyBytes)).toBe(true);

    store.failWrites = true;
    const unsaved = material('unsaved', 4);
    await expect(vault.add(unsaved)).rejects.toThrow('QuotaExceededError');
    expect(zeroed(unsaved.keyBytes)).toBe(true);
    expect(vault.keys.map((k) => k.keyName)).toEqual(['team']);
  });

  test('a name is bound to one key: other bytes or another namespace is KEY_NAME_TAKEN, and the first key stays', async () => {
    const store = new MemoryStore();
    const vault = new VaultCore(store);
    const first = await vault.add(material('team', 1, 'veil'));
    expect(await codeOf(() => vault.add(material('team', 2, 'veil')))).toBe('KEY_NAME_TAKEN');
    // Same bytes and name under another namespace: objects would name another provider id.
    expect(await codeOf(() => vault.add(material('team', 1, 'acme')))).toBe('KEY_NAME_TAKEN');
    expect(vault.keys).toEqual([first]);
    expect(store.map.get('team')?.info).toEqual(first);
    // The same key again is no collision (an import of a key already held).
    await expect(vault.add(material('team', 1, 'veil'))).resolves.toMatchObject({
      fingerprint: first.fingerprint,
    });
  });

  test('page-only keys are never stored; adding a stored key again merges copies and stays stored', async () => {
    const store = new MemoryStore();
    const vault = new VaultCore(store);
    const session = await vault.add(material('page-key', 5), { sessionOnly: true });
    expect(session.sessionOnly).toBe(true);
    expect(store.map.has('page-key')).toBe(false);

    await vault.add(material('kept', 6), { copies: { keyFile: true, backup: false } });
    const merged = await vault.add(material('kept', 6), {
      sessionOnly: true,
      copies: { keyFile: false, backup: true },
    });
    expect(merged).toMatchObject({ sessionOnly: false, copies: { keyFile: true, backup: true } });
    expect(store.map.get('kept')?.info).toEqual(merged);

    // A page-only key kept for good later becomes stored.
    const kept = await vault.add(material('page-key', 5));
    expect(kept.sessionOnly).toBe(false);
    expect(store.map.get('page-key')?.info).toEqual(kept);

    // A new page sees the stored keys only.
    const later = new VaultCore(store);
    await later.load();
    expect(later.keys.map((k) => k.keyName)).toEqual(['kept', 'page-key']);
  });

  test('a page-only key is gone in a new page', async () => {
    const store = new MemoryStore();
    await new VaultCore(store).add(material('page-key', 5), { sessionOnly: true });
    const later = new VaultCore(store);
    await later.load();
    expect(later.keys).toEqual([]);
  });

  test('markCopy is stored with the key (and kept in memory only for a page-only key)', async () => {
    const store = new MemoryStore();
    const vault = new VaultCore(store);
    await vault.add(material('team'));
    await vault.markCopy('team', 'keyFile');
    expect(vault.keys[0]?.copies).toEqual({ keyFile: true, backup: false });
    const later = new VaultCore(store);
    await later.load();
    expect(later.keys[0]?.copies).toEqual({ keyFile: true, backup: false });

    await vault.add(material('page', 2), { sessionOnly: true });
    const writes = store.writes;
    await vault.markCopy('page', 'backup');
    expect(store.writes).toBe(writes);
    expect(vault.keys.find((k) => k.keyName === 'page')?.copies.backup).toBe(true);
    // An unknown name changes nothing.
    await vault.markCopy('nobody', 'backup');
    expect(vault.keys.map((k) => k.keyName)).toEqual(['page', 'team']);
  });

  test('remove deletes the key from the store and the page; its keyring is gone', async () => {
    const store = new MemoryStore();
    const vault = new VaultCore(store);
    await vault.add(material('a', 1));
    await vault.add(material('b', 2));
    expect(vault.keyrings().map((k) => k.keyName)).toEqual(['a', 'b']);
    await vault.remove('a');
    expect(vault.keys.map((k) => k.keyName)).toEqual(['b']);
    expect(store.map.has('a')).toBe(false);
    expect(() => vault.keyring('a')).toThrow(VeilError);
    expect(vault.keyrings().map((k) => k.keyName)).toEqual(['b']);
    // The name is free again, for another key.
    await expect(vault.add(material('a', 9))).resolves.toMatchObject({ keyName: 'a' });
  });

  test('a failed read of the store is retried on the next load', async () => {
    const store = new MemoryStore();
    await new VaultCore(store).add(material('team'));
    let failures = 1;
    const flaky: VaultStore = {
      entries: () => (failures-- > 0 ? Promise.reject(new Error('blocked')) : store.entries()),
      set: (name, value) => store.set(name, value),
      del: (name) => store.del(name),
    };
    const vault = new VaultCore(flaky);
    await expect(vault.load()).rejects.toThrow('blocked');
    await vault.load();
    expect(vault.keys.map((k) => k.keyName)).toEqual(['team']);
  });

  test('the fingerprint: 4 groups of 4 hex digits, stable, different per key; the caller’s bytes untouched', async () => {
    const key = bytes(1);
    const a = await keyFingerprint(key);
    expect(a).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(await keyFingerprint(bytes(1))).toBe(a);
    expect(await keyFingerprint(bytes(2))).not.toBe(a);
    expect(key).toEqual(bytes(1));
  });

  test('the labelled copy of the key hashed for the fingerprint is zeroed', async () => {
    const spy = vi.spyOn(crypto.subtle, 'digest');
    try {
      await keyFingerprint(bytes(1));
      expect(spy).toHaveBeenCalledTimes(1);
      const hashed = spy.mock.calls[0]?.[1] as Uint8Array;
      expect(hashed.length).toBeGreaterThan(32);
      expect(zeroed(hashed)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  test('a Model A default that names no key of the vault is stale', () => {
    const keys = [{ keyName: 'team' }];
    expect(isStaleVaultKeyId(undefined, keys)).toBe(false);
    expect(isStaleVaultKeyId('team', keys)).toBe(false);
    expect(isStaleVaultKeyId('gone', keys)).toBe(true);
    expect(isStaleVaultKeyId('gone', [])).toBe(true);
  });
});
