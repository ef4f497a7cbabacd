/**
 * The vault's lock (src/state/keys/vault-lock-core.ts) with the vault (vault-core.ts) over
 * in-memory stores: the envelope (adding a passkey re-encrypts no entry), unlock by passphrase
 * or passkey, and the attacks: a wrong passphrase, another passkey, a tampered entry, a locked
 * vault asked for a key, an export without a fresh unlock, a damaged lock record.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { RawAesKeyMaterial } from '../../../../src/core/key-file';
import type { DecryptRequest } from '../../../../src/core/keyring';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import {
  VaultCore,
  type SealedKey,
  type StoredKey,
  type VaultStore,
} from '../../../../src/state/keys/vault-core';
import {
  FRESH_UNLOCK_MS,
  VaultLockCore,
  type LockRecord,
  type LockStore,
} from '../../../../src/state/keys/vault-lock-core';

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
  writes = 0;
  get() {
    return Promise.resolve(this.record);
  }
  set(record: LockRecord) {
    this.writes++;
    this.record = record;
    return Promise.resolve();
  }
}

const PASSPHRASE = 'four random words here';
const keyBytes = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 5 + seed) & 0xff);
const material = (keyName: string, seed = 1): RawAesKeyMaterial => ({
  keyBytes: keyBytes(seed),
  keyName,
  keyNamespace: 'veil',
});
const passkey = (id: number, prfByte: number) => ({
  credentialId: Uint8Array.from([id, id, id]),
  prfOutput: new Uint8Array(32).fill(prfByte),
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

/** One browser: a vault and its lock over the same stores; a new page is a new world(). */
function world(
  stores = { keys: new MemoryStore(), lock: new MemoryLockStore() },
  clock = { nowMs: 1_000_000 },
) {
  const lock = new VaultLockCore(
    stores.lock,
    () => {},
    () => clock.nowMs,
    1000,
  );
  const vault = new VaultCore(
    stores.keys,
    () => {},
    () => lock.sealing(),
  );
  return { stores, clock, lock, vault };
}

/** A file's EDK for `keyName`, written with its bytes, and the request that opens it. */
async function requestFor(m: RawAesKeyMaterial): Promise<DecryptRequest> {
  const keyring = await RawAesKeyring.fromBytes({ ...m, keyBytes: m.keyBytes.slice() });
  const encryptionContext = {};
  const { encryptedDataKeys } = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext });
  return { suiteId: 0x0478, encryptionContext, encryptedDataKeys };
}

describe('the vault lock', () => {
  test('without a lock, keys are stored as today (non-extractable CryptoKeys), not sealed', async () => {
    const { stores, vault } = world();
    await vault.add(material('plain'));
    expect(stores.keys.map.get('plain')).toHaveProperty('key');
    expect(vault.keys[0]?.underLock).toBeUndefined();
  });

  test('under a lock a key is stored sealed: no CryptoKey and no key bytes in the store', async () => {
    const { stores, lock, vault } = world();
    await lock.setUp(PASSPHRASE);
    await vault.add(material('team', 7));
    const stored = stores.keys.map.get('team') as SealedKey;
    expect(stored).not.toHaveProperty('key');
    expect(stored.info.underLock).toBe(true);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(hex(stored.sealed.ciphertext)).not.toContain(hex(keyBytes(7)));
    expect(
      JSON.stringify(stores.lock.record, (_, v: unknown) => (v instanceof Uint8Array ? hex(v) : v)),
    ).not.toContain(PASSPHRASE);
  });

  test('a new page starts locked; a locked vault releases no key; the passphrase unlocks', async () => {
    const first = world();
    await first.lock.setUp(PASSPHRASE);
    await first.vault.add(material('team', 3));
    const request = await requestFor(material('team', 3));

    const page = world(first.stores);
    await page.lock.load();
    await page.vault.load();
    expect(page.lock.view.status).toBe('locked');
    expect(await codeOf(() => page.vault.keyring('team'))).toBe('VAULT_LOCKED');
    expect(await codeOf(() => page.vault.exportMaterial('team'))).toBe('VAULT_LOCKED');
    const [locked] = page.vault.keyrings();
    expect(await codeOf(() => locked?.onDecrypt(request))).toBe('VAULT_LOCKED');
    expect(await codeOf(() => page.vault.add(material('new', 9)))).toBe('VAULT_LOCKED');

    await page.lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    expect(await page.vault.unseal()).toEqual([]);
    const dataKey = await page.vault.keyring('team').onDecrypt(request);
    expect(dataKey?.length).toBe(32);

    page.lock.lock();
    page.vault.dropSealed();
    expect(await codeOf(() => page.vault.keyring('team'))).toBe('VAULT_LOCKED');
  });

  test('attack: a wrong passphrase does not unlock', async () => {
    const { lock } = world();
    await lock.setUp(PASSPHRASE);
    lock.lock();
    expect(
      await codeOf(() => lock.unlock({ kind: 'passphrase', passphrase: `${PASSPHRASE}.` })),
    ).toBe('VAULT_UNLOCK_FAILED');
    expect(lock.view.status).toBe('locked');
  });

  test('a passkey added later unlocks; no entry is re-encrypted', async () => {
    const { stores, lock, vault } = world();
    await lock.setUp(PASSPHRASE);
    await vault.add(material('team', 4));
    const before = (stores.keys.map.get('team') as SealedKey).sealed;
    await lock.addPasskey(
      { kind: 'passphrase', passphrase: PASSPHRASE },
      { ...passkey(1, 0xaa), label: 'Laptop' },
    );
    expect((stores.keys.map.get('team') as SealedKey).sealed).toBe(before);
    expect(lock.view.methods.map((m) => m.label)).toEqual(['Passphrase', 'Laptop']);

    const page = world(stores);
    await page.vault.load();
    await page.lock.unlock({ kind: 'passkey', ...passkey(1, 0xaa) });
    expect(await page.vault.unseal()).toEqual([]);
    expect(() => page.vault.keyring('team')).not.toThrow();
  });

  test('attack: another passkey (another credential, or the same id with another PRF output) cannot unlock', async () => {
    const { stores, lock } = world();
    await lock.setUp(PASSPHRASE);
    await lock.addPasskey(
      { kind: 'passphrase', passphrase: PASSPHRASE },
      { ...passkey(1, 0xaa), label: 'A' },
    );
    const page = world(stores);
    expect(await codeOf(() => page.lock.unlock({ kind: 'passkey', ...passkey(2, 0xaa) }))).toBe(
      'VAULT_UNLOCK_FAILED',
    );
    expect(await codeOf(() => page.lock.unlock({ kind: 'passkey', ...passkey(1, 0xbb) }))).toBe(
      'VAULT_UNLOCK_FAILED',
    );
    expect(page.lock.view.status).toBe('locked');
  });

  test('adding a passkey needs a proof that opens the vault key', async () => {
    const { lock } = world();
    await lock.setUp(PASSPHRASE);
    expect(
      await codeOf(() =>
        lock.addPasskey(
          { kind: 'passphrase', passphrase: 'not the passphrase' },
          { ...passkey(1, 1), label: 'X' },
        ),
      ),
    ).toBe('VAULT_UNLOCK_FAILED');
    expect(lock.view.methods).toHaveLength(1);
  });

  test('a passkey can be removed, the passphrase cannot', async () => {
    const { lock } = world();
    await lock.setUp(PASSPHRASE);
    await lock.addPasskey(
      { kind: 'passphrase', passphrase: PASSPHRASE },
      { ...passkey(1, 1), label: 'X' },
    );
    const [phrase, key] = lock.view.methods;
    expect(await codeOf(() => lock.removeMethod(phrase?.id ?? ''))).toBe('VAULT_LAST_METHOD');
    await lock.removeMethod(key?.id ?? '');
    lock.lock();
    expect(await codeOf(() => lock.unlock({ kind: 'passkey', ...passkey(1, 1) }))).toBe(
      'VAULT_UNLOCK_FAILED',
    );
  });

  test('attack: a tampered sealed entry is refused on unlock and never used; the others open', async () => {
    const first = world();
    await first.lock.setUp(PASSPHRASE);
    await first.vault.add(material('good', 1));
    await first.vault.add(material('bad', 2));
    const bad = first.stores.keys.map.get('bad') as SealedKey;
    const flipped = bad.sealed.ciphertext.slice();
    flipped[3] = (flipped[3] ?? 0) ^ 0x80;
    first.stores.keys.map.set('bad', { ...bad, sealed: { ...bad.sealed, ciphertext: flipped } });

    const page = world(first.stores);
    await page.lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    const errors = await page.vault.unseal();
    expect(errors.map((e) => e.code)).toEqual(['VAULT_ENTRY_TAMPERED']);
    expect(await codeOf(() => page.vault.keyring('bad'))).toBe('VAULT_ENTRY_TAMPERED');
    expect(() => page.vault.keyring('good')).not.toThrow();
    const request = await requestFor(material('bad', 2));
    const standIn = page.vault
      .keyrings()
      .find((k) => (k as { keyName?: string }).keyName === 'bad');
    expect(await codeOf(() => standIn?.onDecrypt(request))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test("attack: swapping two sealed entries under each other's names is refused", async () => {
    const first = world();
    await first.lock.setUp(PASSPHRASE);
    await first.vault.add(material('one', 1));
    await first.vault.add(material('two', 2));
    const one = first.stores.keys.map.get('one') as SealedKey;
    const two = first.stores.keys.map.get('two') as SealedKey;
    first.stores.keys.map.set('one', { ...one, sealed: two.sealed });
    const page = world(first.stores);
    await page.lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    expect((await page.vault.unseal()).map((e) => e.code)).toEqual(['VAULT_ENTRY_TAMPERED']);
  });

  test('export later: a sealed key comes back byte for byte; a key stored before the lock does not', async () => {
    const { lock, vault } = world();
    await vault.add(material('before', 5));
    await lock.setUp(PASSPHRASE);
    await vault.add(material('after', 6));
    const exported = await vault.exportMaterial('after');
    expect(Buffer.from(exported.keyBytes).equals(Buffer.from(keyBytes(6)))).toBe(true);
    expect(exported.keyNamespace).toBe('veil');
    expect(await codeOf(() => vault.exportMaterial('before'))).toBe('VAULT_KEY_NOT_EXPORTABLE');
    // Under a lock it needs the unlock too ([Note: keys vouched for by the lock]).
    lock.lock();
    vault.dropSealed();
    expect(await codeOf(() => vault.keyring('before'))).toBe('VAULT_LOCKED');
    // Importing its bytes again while unlocked puts it under the lock.
    await lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    await vault.add(material('before', 5));
    expect(vault.keys.find((k) => k.keyName === 'before')?.underLock).toBe(true);
  });

  test('a lock while sealed keys open leaves none of them usable', async () => {
    const first = world();
    await first.lock.setUp(PASSPHRASE);
    await first.vault.add(material('team', 3));
    await first.vault.add(material('other', 4));
    const page = world(first.stores);
    await page.lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    // The lock lands while the first entry opens: unseal saw the vault key, then it was gone.
    let calls = 0;
    const racing = new VaultCore(
      first.stores.keys,
      () => {},
      () => (calls++ === 0 ? page.lock.sealing() : 'locked'),
    );
    await racing.unseal();
    expect(await codeOf(() => racing.keyring('team'))).toBe('VAULT_LOCKED');
    expect(await codeOf(() => racing.keyring('other'))).toBe('VAULT_LOCKED');
  });

  test('removing a passkey needs a fresh unlock; the idle time needs the vault unlocked', async () => {
    const { lock, clock } = world();
    await lock.setUp(PASSPHRASE);
    await lock.addPasskey(
      { kind: 'passphrase', passphrase: PASSPHRASE },
      { ...passkey(1, 1), label: 'X' },
    );
    const key = lock.view.methods.find((m) => m.kind === 'passkey');
    clock.nowMs += FRESH_UNLOCK_MS + 1;
    expect(await codeOf(() => lock.removeMethod(key?.id ?? ''))).toBe('VAULT_REAUTH_NEEDED');
    expect(lock.view.methods).toHaveLength(2);
    lock.lock();
    expect(await codeOf(() => lock.setIdleMinutes(1440))).toBe('VAULT_LOCKED');
    expect(lock.view.idleMinutes).not.toBe(1440);
  });

  test('a fresh unlock lasts FRESH_UNLOCK_MS; a lock ends it', async () => {
    const { lock, clock } = world();
    await lock.setUp(PASSPHRASE);
    expect(lock.isFresh()).toBe(true);
    clock.nowMs += FRESH_UNLOCK_MS;
    expect(lock.isFresh()).toBe(true);
    clock.nowMs += 1;
    expect(lock.isFresh()).toBe(false);
    expect(lock.view.status).toBe('unlocked');
    await lock.unlock({ kind: 'passphrase', passphrase: PASSPHRASE });
    expect(lock.isFresh()).toBe(true);
    lock.lock();
    expect(lock.isFresh()).toBe(false);
  });

  test('setting a lock twice, a short passphrase, a bad idle time, a damaged record are refused', async () => {
    const { lock, stores } = world();
    expect(await codeOf(() => lock.setUp('short'))).toBe('BACKUP_PASSPHRASE_WEAK');
    await lock.setUp(PASSPHRASE);
    expect(await codeOf(() => lock.setUp(PASSPHRASE))).toBe('VAULT_LOCK_EXISTS');
    expect(await codeOf(() => lock.setIdleMinutes(0))).toBe('OUT_OF_RANGE');
    await lock.setIdleMinutes(5);
    expect(lock.view.idleMinutes).toBe(5);
    stores.lock.record = { ...(stores.lock.record as LockRecord), version: 2 };
    expect(await codeOf(() => world(stores).lock.load())).toBe('VAULT_LOCK_INVALID');
    stores.lock.record = { ...(stores.lock.record as LockRecord), version: 1, methods: [] };
    expect(await codeOf(() => world(stores).lock.load())).toBe('VAULT_LOCK_INVALID');
  });

  test('attack: a record rewritten with an idle time over a day is refused as a whole', async () => {
    const { lock, stores } = world();
    await lock.setUp(PASSPHRASE);
    const good = stores.lock.record as LockRecord;
    stores.lock.record = { ...good, idleMinutes: 1440 };
    await world(stores).lock.load();
    for (const idleMinutes of [1441, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      stores.lock.record = { ...good, idleMinutes };
      expect(await codeOf(() => world(stores).lock.load())).toBe('VAULT_LOCK_INVALID');
    }
  });

  test("the real passphrase iterations are 600,000 (the key backups' figure)", async () => {
    const lock = new VaultLockCore(new MemoryLockStore());
    const store = new MemoryLockStore();
    const real = new VaultLockCore(store);
    await real.setUp(PASSPHRASE);
    const [method] = (store.record as LockRecord).methods;
    expect(method?.kind === 'passphrase' && method.iterations).toBe(600_000);
    expect(lock.view.status).toBe('none');
  });
});
