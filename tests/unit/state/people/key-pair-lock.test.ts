/**
 * The user's key pair under the vault's lock ([Note: the key pair under the lock] in
 * src/state/people/person-seal.ts): stored sealed, opened only while unlocked, dropped on lock,
 * and the attacks on what the browser stores: a flipped bit, a sealed Model A key entry in its
 * place, another vault's entry, another fingerprint, a plain CryptoKey planted where a sealed
 * pair was recorded. A pair made before the lock goes under it with its backup passphrase.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, u32, utf8 } from '../../../../src/core/bytes';
import { decryptBytes, encryptBytes } from '../../../../src/core/one-shot';
import { RawRsaKeyring } from '../../../../src/keyrings/raw-rsa';
import { createKeyPairBackup } from '../../../../src/keyrings/rsa-backup';
import { generateKeyPair, type NewKeyPair } from '../../../../src/keyrings/rsa-keys';
import type { VaultSealing } from '../../../../src/state/keys/vault-core';
import {
  openEntry,
  randomBytes,
  sealEntry,
  vaultKeyFromBytes,
} from '../../../../src/state/keys/vault-seal';
import {
  KeyPairCore,
  keyPairProtection,
  type KeyPairSlot,
  type KeyPairStore,
  type SealedKeyPair,
  type StoredKeyPair,
} from '../../../../src/state/people/key-pair-core';
import {
  PERSON_ENTRY_NAME,
  PERSON_ENTRY_NAMESPACE,
  openPersonKey,
  sealPersonKey,
} from '../../../../src/state/people/person-seal';
import { expectCode, patternBytes } from '../../core/helpers';

const PASSPHRASE = 'orbit lantern cactus mosaic';

type MemoryStore = KeyPairStore & { slots: Map<KeyPairSlot, StoredKeyPair | string> };

function memoryStore(): MemoryStore {
  const slots = new Map<KeyPairSlot, StoredKeyPair | string>();
  return {
    slots,
    get: (slot) => Promise.resolve(slots.get(slot)),
    set: (slot, value) => {
      slots.set(slot, value);
      return Promise.resolve();
    },
    del: (slot) => {
      slots.delete(slot);
      return Promise.resolve();
    },
  };
}

/** A lock the test drives: none, locked, or unlocked with a vault key. */
class FakeLock {
  state: VaultSealing | undefined;
  readonly sealing = () => this.state;
  static async unlocked(vaultId = 'vault-a'): Promise<FakeLock> {
    const lock = new FakeLock();
    lock.state = { vaultId, vaultKey: await vaultKeyFromBytes(randomBytes(32)) };
    return lock;
  }
}

const sealedOf = (store: MemoryStore) => store.slots.get('mine') as SealedKeyPair;

let bea: NewKeyPair;
let backup: string;
let message: Uint8Array;

beforeAll(async () => {
  bea = await generateKeyPair();
  // Fewer PBKDF2 rounds than the app's, for speed; the format is the same.
  backup = await createKeyPairBackup(bea.pkcs8, bea.fingerprint, PASSPHRASE, 1000);
  message = await encryptBytes(patternBytes(300), {
    keyring: await RawRsaKeyring.forPublicKey(bea.publicKeySpki),
  });
}, 60_000);

/** A core over `store` with Bea's pair restored while `lock` is as it is. */
async function restored(lock: FakeLock, store = memoryStore()) {
  const core = new KeyPairCore(store, lock.sealing, () => true);
  await core.restore(backup, PASSPHRASE, 'Bea');
  return { core, store };
}

describe('the key pair under the vault lock', () => {
  it('is stored sealed (no CryptoKey, no backup in clear) and opens while unlocked', async () => {
    const lock = await FakeLock.unlocked();
    const { core, store } = await restored(lock);
    const stored = sealedOf(store);
    expect(Object.keys(stored).sort()).toEqual(['info', 'sealed']);
    expect(Object.values(stored).some((v) => v instanceof CryptoKey)).toBe(false);
    expect(JSON.stringify(stored)).not.toContain(backup.slice(0, 40));
    expect(stored.info.underLock).toBe(true);
    expect(store.slots.get('sealed-mark')).toBe(bea.fingerprint);
    expect(core.protection).toBe('unlocked');
    expect(await decryptBytes(message, { keyring: core.keyring() })).toEqual(patternBytes(300));
    expect(await core.backup()).toBe(backup);

    // A reload opens the seal again.
    const reloaded = new KeyPairCore(store, lock.sealing);
    await reloaded.load();
    expect((await reloaded.privateKey()).extractable).toBe(false);
    expect(await decryptBytes(message, { keyring: reloaded.keyring() })).toEqual(patternBytes(300));
  });

  it('a locked vault yields no private key, backup or export; the public parts stay', async () => {
    const lock = await FakeLock.unlocked();
    const { core, store } = await restored(lock);
    const keyring = core.keyring();
    expect(await decryptBytes(message, { keyring })).toEqual(patternBytes(300));
    // Locked without telling the core: the key it opened must not be used all the same.
    lock.state = 'locked';
    await expectCode(core.privateKey(), 'VAULT_LOCKED');
    await expectCode(decryptBytes(message, { keyring }), 'VAULT_LOCKED');
    await expectCode(core.backup(), 'VAULT_LOCKED');
    await expectCode(core.exportPem(PASSPHRASE), 'VAULT_LOCKED');
    expect(core.info?.fingerprint).toBe(bea.fingerprint);
    expect(core.protection).toBe('locked');
    const reloaded = new KeyPairCore(store, lock.sealing);
    await reloaded.load();
    await expectCode(decryptBytes(message, { keyring: reloaded.keyring() }), 'VAULT_LOCKED');
    // Creating or restoring a pair while locked is refused too.
    const other = new KeyPairCore(memoryStore(), lock.sealing);
    await expectCode(other.restore(backup, PASSPHRASE, 'Bea'), 'VAULT_LOCKED');
  });

  it('an object that names another key is not held up by a locked pair', async () => {
    const lock = await FakeLock.unlocked();
    const { core } = await restored(lock);
    lock.state = 'locked';
    const edk = {
      providerId: PERSON_ENTRY_NAMESPACE,
      providerInfo: utf8('ab'.repeat(32)),
      ciphertext: new Uint8Array(512),
    };
    const request = { suiteId: 0x0478, encryptionContext: {}, encryptedDataKeys: [edk] } as const;
    expect(await core.keyring().onDecrypt(request)).toBeUndefined();
    await expectCode(
      core.keyring().onDecrypt({
        ...request,
        encryptedDataKeys: [{ ...edk, providerInfo: utf8(bea.fingerprint) }],
      }),
      'VAULT_LOCKED',
    );
  });

  it('lock wipes the held key', async () => {
    const lock = await FakeLock.unlocked();
    const { core } = await restored(lock);
    await core.privateKey();
    expect(core.holdsKey).toBe(true);
    core.vaultLocked();
    expect(core.holdsKey).toBe(false);
  });

  it('a flipped bit in the sealed entry is refused', async () => {
    const lock = await FakeLock.unlocked();
    const { store } = await restored(lock);
    const stored = sealedOf(store);
    for (const field of ['iv', 'ciphertext'] as const) {
      const bytes = stored.sealed[field].slice();
      bytes[3] = (bytes[3] ?? 0) ^ 0x01;
      store.slots.set('mine', { ...stored, sealed: { ...stored.sealed, [field]: bytes } });
      const reloaded = new KeyPairCore(store, lock.sealing);
      await reloaded.load();
      await expectCode(reloaded.privateKey(), 'VAULT_ENTRY_TAMPERED');
      await expectCode(
        decryptBytes(message, { keyring: reloaded.keyring() }),
        'VAULT_ENTRY_TAMPERED',
      );
    }
  });

  it('a sealed Model A key entry cannot stand in for the pair, nor the pair for it', async () => {
    const lock = await FakeLock.unlocked();
    const sealing = lock.state as Exclude<VaultSealing, 'locked'>;
    const { store } = await restored(lock);
    const stored = sealedOf(store);
    // A Model A entry sealed under the same vault key, same name, namespace and fingerprint,
    // over bytes laid out as a person entry: only the seal's label tells them apart.
    const payload = concatBytes(u32(bea.pkcs8.length), bea.pkcs8, utf8(backup));
    const binding = {
      vaultId: sealing.vaultId,
      keyName: PERSON_ENTRY_NAME,
      keyNamespace: PERSON_ENTRY_NAMESPACE,
      fingerprint: bea.fingerprint,
    };
    const userEntry = await sealEntry(sealing.vaultKey, payload, binding);
    store.slots.set('mine', { ...stored, sealed: userEntry });
    const reloaded = new KeyPairCore(store, lock.sealing);
    await reloaded.load();
    await expectCode(reloaded.privateKey(), 'VAULT_ENTRY_TAMPERED');
    // The other way: the pair's seal does not open as a Model A key.
    await expectCode(openEntry(sealing.vaultKey, stored.sealed, binding), 'VAULT_ENTRY_TAMPERED');
  });

  it('another vault’s entry, or one bound to another fingerprint, is refused', async () => {
    const lockA = await FakeLock.unlocked('vault-a');
    const lockB = await FakeLock.unlocked('vault-b');
    const { store } = await restored(lockB);
    const fromB = sealedOf(store);
    const inA = new KeyPairCore(store, lockA.sealing);
    await inA.load();
    await expectCode(inA.privateKey(), 'VAULT_ENTRY_TAMPERED');
    // The same vault key under another vault id.
    const sameKey = new FakeLock();
    const b = lockB.state as Exclude<VaultSealing, 'locked'>;
    sameKey.state = { vaultId: 'vault-c', vaultKey: b.vaultKey };
    const renamed = new KeyPairCore(store, sameKey.sealing);
    await renamed.load();
    await expectCode(renamed.privateKey(), 'VAULT_ENTRY_TAMPERED');
    // The entry's fingerprint changed (the pair shown as someone else's key).
    const other = await generateKeyPair();
    store.slots.set('mine', { ...fromB, info: { ...fromB.info, fingerprint: other.fingerprint } });
    const moved = new KeyPairCore(store, lockB.sealing);
    await moved.load();
    await expectCode(moved.privateKey(), 'VAULT_ENTRY_TAMPERED');
    // A seal whose key is not the fingerprint it is bound to (sealed by the vault key's holder).
    const wrongKey = await sealPersonKey(b.vaultKey, other.pkcs8, backup, {
      vaultId: b.vaultId,
      fingerprint: bea.fingerprint,
    });
    await expectCode(
      openPersonKey(b.vaultKey, wrongKey, { vaultId: b.vaultId, fingerprint: bea.fingerprint }),
      'VAULT_ENTRY_TAMPERED',
    );
  }, 60_000);

  it('a plain CryptoKey entry planted where a sealed pair is recorded is refused', async () => {
    const lock = await FakeLock.unlocked();
    const { store } = await restored(lock);
    const stored = sealedOf(store);
    const mallory = await generateKeyPair();
    const info = { ...stored.info, underLock: undefined };
    store.slots.set('mine', { info, privateKey: mallory.privateKey, backup });
    const reloaded = new KeyPairCore(store, lock.sealing);
    await reloaded.load();
    expect(reloaded.tampered).toBe(true);
    expect(reloaded.protection).toBe('tampered');
    await expectCode(reloaded.privateKey(), 'VAULT_ENTRY_TAMPERED');
    await expectCode(reloaded.backup(), 'VAULT_ENTRY_TAMPERED');
    await expectCode(
      decryptBytes(message, { keyring: reloaded.keyring() }),
      'VAULT_ENTRY_TAMPERED',
    );
    // Removing it clears the record: a new pair can be made.
    await reloaded.remove();
    expect(store.slots.size).toBe(0);
  }, 30_000);

  it('a pair made before the lock is put under it with its backup passphrase', async () => {
    const lock = new FakeLock();
    const { core, store } = await restored(lock);
    expect(core.protection).toBe('no-lock');
    await expectCode(core.putUnderLock(PASSPHRASE), 'VAULT_LOCK_INVALID');
    const unlocked = await FakeLock.unlocked();
    lock.state = 'locked';
    expect(core.protection).toBe('before-lock');
    await expectCode(core.putUnderLock(PASSPHRASE), 'VAULT_LOCKED');
    lock.state = unlocked.state;
    await expectCode(core.putUnderLock('not the passphrase'), 'BACKUP_WRONG_PASSPHRASE');
    expect(core.protection).toBe('before-lock');
    await core.putUnderLock(PASSPHRASE);
    expect(core.protection).toBe('unlocked');
    expect(Object.values(sealedOf(store)).some((v) => v instanceof CryptoKey)).toBe(false);
    expect(store.slots.get('sealed-mark')).toBe(bea.fingerprint);
    expect(await decryptBytes(message, { keyring: core.keyring() })).toEqual(patternBytes(300));
    lock.state = 'locked';
    core.vaultLocked();
    await expectCode(decryptBytes(message, { keyring: core.keyring() }), 'VAULT_LOCKED');
  });

  it('says how the pair is protected', () => {
    expect(keyPairProtection({}, false, 'none')).toBe('no-lock');
    expect(keyPairProtection({}, false, 'locked')).toBe('before-lock');
    expect(keyPairProtection({}, false, 'unlocked')).toBe('before-lock');
    expect(keyPairProtection({ underLock: true }, false, 'locked')).toBe('locked');
    expect(keyPairProtection({ underLock: true }, false, 'none')).toBe('locked');
    expect(keyPairProtection({ underLock: true }, false, 'unlocked')).toBe('unlocked');
    expect(keyPairProtection({ underLock: true }, true, 'unlocked')).toBe('tampered');
  });
});
