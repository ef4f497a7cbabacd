/**
 * Keys stored before the lock ([Note: keys vouched for by the lock] in
 * src/state/keys/vault-vouch.ts) and the attacks on them: an unsealed key planted in the store the
 * way an attacker would write it (the exact shape the vault writes for a key stored before a lock
 * existed), a planted key under a vouched name, a vouch or a sealed entry moved to another name,
 * entries of another vault, a lock record removed, and the migration of a lock set before vouches.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { RawAesKeyMaterial } from '../../../../src/core/key-file';
import type { DecryptRequest } from '../../../../src/core/keyring';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import {
  VaultCore,
  keyFingerprint,
  type SealedKey,
  type StoredKey,
  type VaultStore,
} from '../../../../src/state/keys/vault-core';
import {
  VaultLockCore,
  type LockRecord,
  type LockStore,
} from '../../../../src/state/keys/vault-lock-core';
import { checkVouch, vouchFor } from '../../../../src/state/keys/vault-vouch';
import { vaultKeyFromBytes } from '../../../../src/state/keys/vault-seal';

class MemoryStore implements VaultStore {
  readonly map = new Map<string, StoredKey | SealedKey>();
  entries() {
    return Promise.resolve([...this.map.entries()]);
  }
  set(keyName: string, value: StoredKey | SealedKey) {
    this.map.set(keyName, value);
    return Promise.resolve();
  }
  del(keyName: string) {
    this.map.delete(keyName);
    return Promise.resolve();
  }
}

class MemoryLockStore implements LockStore {
  record: unknown;
  get() {
    return Promise.resolve(this.record);
  }
  set(record: LockRecord) {
    this.record = record;
    return Promise.resolve();
  }
}

const PASSPHRASE = 'four random words here';
const UNLOCK = { kind: 'passphrase', passphrase: PASSPHRASE } as const;
const keyBytes = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 3 + seed) & 0xff);
const material = (keyName: string, seed = 1): RawAesKeyMaterial => ({
  keyBytes: keyBytes(seed),
  keyName,
  keyNamespace: 'veil',
});

async function codeOf(run: () => unknown): Promise<string | undefined> {
  const error = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(VeilError);
  return (error as VeilError).code;
}

type Stores = { keys: MemoryStore; lock: MemoryLockStore };

/** One page of one browser: a vault and its lock over the stores, the lock record read. */
async function page(stores: Stores = { keys: new MemoryStore(), lock: new MemoryLockStore() }) {
  const lock = new VaultLockCore(stores.lock, () => {}, Date.now, 1000);
  const vault = new VaultCore(
    stores.keys,
    () => {},
    () => lock.sealing(),
  );
  await lock.load();
  await vault.load();
  /** What Vault (vault.svelte.ts) does on unlock: vouch once if the lock predates it, unseal. */
  const unlock = async () => {
    await lock.unlock(UNLOCK);
    if (!lock.entriesVouched) {
      await vault.vouchPlain();
      await lock.markEntriesVouched();
    }
    return vault.unseal();
  };
  /** What Vault does when a lock is set. */
  const setUp = async () => {
    await lock.setUp(PASSPHRASE);
    await vault.vouchPlain();
    await lock.markEntriesVouched();
  };
  return { stores, lock, vault, unlock, setUp };
}

/** A CryptoKey as an attacker would store it: non-extractable, bytes of their choosing. */
function plantedKey(seed: number): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', keyBytes(seed), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** The exact record the vault writes for a key stored before a lock existed. */
async function plantedEntry(keyName: string, seed: number): Promise<StoredKey> {
  return {
    info: {
      keyName,
      keyNamespace: 'veil',
      bits: 256,
      fingerprint: await keyFingerprint(keyBytes(seed)),
      createdAtMs: 1,
      copies: { keyFile: true, backup: false },
      sessionOnly: false,
    },
    key: await plantedKey(seed),
  };
}

async function requestFor(m: RawAesKeyMaterial): Promise<DecryptRequest> {
  const keyring = await RawAesKeyring.fromBytes({ ...m, keyBytes: m.keyBytes.slice() });
  const encryptionContext = {};
  const { encryptedDataKeys } = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext });
  return { suiteId: 0x0478, encryptionContext, encryptedDataKeys };
}

describe('keys stored before the lock', () => {
  test('are vouched for when the lock is set: usable while unlocked, locked otherwise', async () => {
    const first = await page();
    await first.vault.add(material('before', 5));
    await first.setUp();
    expect(first.stores.keys.map.get('before')).toHaveProperty('vouch');
    expect(() => first.vault.keyring('before')).not.toThrow();

    const next = await page(first.stores);
    expect(await codeOf(() => next.vault.keyring('before'))).toBe('VAULT_LOCKED');
    expect(await next.unlock()).toEqual([]);
    const dataKey = await next.vault
      .keyring('before')
      .onDecrypt(await requestFor(material('before', 5)));
    expect(dataKey?.length).toBe(32);
    next.lock.lock();
    next.vault.dropSealed();
    expect(await codeOf(() => next.vault.keyring('before'))).toBe('VAULT_LOCKED');
  });

  test('attack: an unsealed key planted in the store of a locked vault is refused and removable', async () => {
    const first = await page();
    await first.setUp();
    await first.vault.add(material('mine', 1));
    first.stores.keys.map.set('planted', await plantedEntry('planted', 9));

    const next = await page(first.stores);
    // Locked: it is not usable (before the fix it was, as "stored before the lock").
    expect(await codeOf(() => next.vault.keyring('planted'))).toBe('VAULT_LOCKED');
    const errors = await next.unlock();
    expect(errors.map((e) => [e.code, e.detail])).toEqual([['VAULT_ENTRY_TAMPERED', '"planted"']]);
    expect(await codeOf(() => next.vault.keyring('planted'))).toBe('VAULT_ENTRY_TAMPERED');
    expect(next.vault.keys.find((k) => k.keyName === 'planted')?.refused).toBe(true);
    const standIn = next.vault.keyrings().find((k) => k.keyName === 'planted');
    const request = await requestFor(material('planted', 9));
    expect(await codeOf(() => standIn?.onDecrypt(request))).toBe('VAULT_ENTRY_TAMPERED');
    // Writing a new file with it fails too.
    expect(
      await codeOf(() =>
        next.vault.keyring('planted').onEncrypt({ suiteId: 0x0478, encryptionContext: {} }),
      ),
    ).toBe('VAULT_ENTRY_TAMPERED');
    expect(() => next.vault.keyring('mine')).not.toThrow();
    await next.vault.remove('planted');
    expect(next.stores.keys.map.has('planted')).toBe(false);
    expect(next.vault.keys.map((k) => k.keyName)).toEqual(['mine']);
  });

  test('attack: a planted key under the name of a vouched key, keeping its vouch, is refused', async () => {
    const first = await page();
    await first.vault.add(material('before', 5));
    await first.setUp();
    const real = first.stores.keys.map.get('before') as StoredKey;
    first.stores.keys.map.set('before', { ...real, key: await plantedKey(9) });
    const next = await page(first.stores);
    expect((await next.unlock()).map((e) => e.code)).toEqual(['VAULT_ENTRY_TAMPERED']);
    expect(await codeOf(() => next.vault.keyring('before'))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('attack: a vouched entry moved to another name is refused', async () => {
    const first = await page();
    await first.vault.add(material('one', 1));
    await first.setUp();
    const one = first.stores.keys.map.get('one') as StoredKey;
    first.stores.keys.map.set('two', { ...one, info: { ...one.info, keyName: 'two' } });
    const next = await page(first.stores);
    expect((await next.unlock()).map((e) => e.detail)).toEqual(['"two"']);
    expect(() => next.vault.keyring('one')).not.toThrow();
    expect(await codeOf(() => next.vault.keyring('two'))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('attack: a sealed entry moved to another name is refused', async () => {
    const first = await page();
    await first.setUp();
    await first.vault.add(material('one', 1));
    const one = first.stores.keys.map.get('one') as SealedKey;
    first.stores.keys.map.set('two', { ...one, info: { ...one.info, keyName: 'two' } });
    const next = await page(first.stores);
    expect((await next.unlock()).map((e) => e.detail)).toEqual(['"two"']);
    expect(await codeOf(() => next.vault.keyring('two'))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('attack: entries of another vault (sealed and vouched) are refused', async () => {
    const other = await page();
    await other.vault.add(material('vouched', 2));
    await other.setUp();
    await other.vault.add(material('sealed', 3));
    const mine = await page();
    await mine.setUp();
    for (const name of ['vouched', 'sealed']) {
      const entry = other.stores.keys.map.get(name);
      if (entry) mine.stores.keys.map.set(name, entry);
    }
    const next = await page(mine.stores);
    const errors = await next.unlock();
    expect(errors.map((e) => e.code).sort()).toEqual([
      'VAULT_ENTRY_TAMPERED',
      'VAULT_ENTRY_TAMPERED',
    ]);
    expect(await codeOf(() => next.vault.keyring('vouched'))).toBe('VAULT_ENTRY_TAMPERED');
    expect(await codeOf(() => next.vault.keyring('sealed'))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('attack: with the lock record removed, no unsealed entry is trusted', async () => {
    const first = await page();
    await first.vault.add(material('before', 5));
    await first.setUp();
    first.stores.lock.record = undefined;
    first.stores.keys.map.set('planted', await plantedEntry('planted', 9));
    const next = await page(first.stores);
    expect(next.lock.view.status).toBe('none');
    expect(await codeOf(() => next.vault.keyring('planted'))).toBe('VAULT_LOCK_INVALID');
    expect(await codeOf(() => next.vault.keyring('before'))).toBe('VAULT_LOCK_INVALID');
  });

  test('without a lock, keys are usable as before (no vouch asked)', async () => {
    const first = await page();
    await first.vault.add(material('plain', 5));
    const next = await page(first.stores);
    expect(() => next.vault.keyring('plain')).not.toThrow();
    expect(first.stores.keys.map.get('plain')).not.toHaveProperty('vouch');
  });

  test('a lock set before vouches existed is migrated at its first unlock, then refuses planted keys', async () => {
    const first = await page();
    await first.vault.add(material('before', 5));
    await first.lock.setUp(PASSPHRASE); // the earlier version: no vouches, no flag
    expect(first.lock.entriesVouched).toBe(false);

    const migrating = await page(first.stores);
    expect(await migrating.unlock()).toEqual([]);
    expect(migrating.lock.entriesVouched).toBe(true);
    expect((first.stores.lock.record as LockRecord).entriesVouched).toBe(true);
    expect(() => migrating.vault.keyring('before')).not.toThrow();

    first.stores.keys.map.set('planted', await plantedEntry('planted', 9));
    const later = await page(first.stores);
    expect((await later.unlock()).map((e) => e.detail)).toEqual(['"planted"']);
    expect(() => later.vault.keyring('before')).not.toThrow();
  });

  test('storing a key under a locked vault still fails; importing a refused name needs a delete first', async () => {
    const first = await page();
    await first.setUp();
    first.stores.keys.map.set('planted', await plantedEntry('planted', 9));
    const next = await page(first.stores);
    await next.unlock();
    expect(await codeOf(() => next.vault.add(material('planted', 4)))).toBe('KEY_NAME_TAKEN');
    await next.vault.remove('planted');
    await next.vault.add(material('planted', 4));
    expect(next.vault.keys[0]).toMatchObject({ keyName: 'planted', underLock: true });
    expect(next.vault.keys[0]?.refused).toBeUndefined();
  });
});

describe('the vouch', () => {
  const binding = { vaultId: 'v1', keyName: 'k', keyNamespace: 'veil', fingerprint: 'f' };

  test('checks only for the key it was made with, under its vault key and binding', async () => {
    const vaultKey = await vaultKeyFromBytes(new Uint8Array(32).fill(1));
    const otherVault = await vaultKeyFromBytes(new Uint8Array(32).fill(2));
    const key = await plantedKey(1);
    const vouch = await vouchFor(vaultKey, key, binding);
    await expect(checkVouch(vaultKey, key, vouch, binding)).resolves.toBeUndefined();
    expect(
      await codeOf(async () => checkVouch(vaultKey, await plantedKey(2), vouch, binding)),
    ).toBe('VAULT_ENTRY_TAMPERED');
    expect(await codeOf(() => checkVouch(otherVault, key, vouch, binding))).toBe(
      'VAULT_ENTRY_TAMPERED',
    );
    for (const change of [
      { vaultId: 'v2' },
      { keyName: 'j' },
      { keyNamespace: 'x' },
      { fingerprint: 'g' },
    ]) {
      expect(await codeOf(() => checkVouch(vaultKey, key, vouch, { ...binding, ...change }))).toBe(
        'VAULT_ENTRY_TAMPERED',
      );
    }
    const flipped = vouch.ciphertext.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(
      await codeOf(() => checkVouch(vaultKey, key, { ...vouch, ciphertext: flipped }, binding)),
    ).toBe('VAULT_ENTRY_TAMPERED');
  });
});
