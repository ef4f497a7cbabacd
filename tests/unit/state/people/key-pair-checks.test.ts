/**
 * What the key pair checks before it lets its keys out: Publish sends only a public key that the
 * private key opened from its seal belongs to (stored info rewritten with another key, fingerprint
 * and sealed-mark included, is never published), info whose fingerprint is not its public key's is
 * refused on load, and "Save backup" of a pair under the lock needs a fresh unlock (2 minutes).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKeyPairBackup } from '../../../../src/keyrings/rsa-backup';
import { generateKeyPair, type NewKeyPair } from '../../../../src/keyrings/rsa-keys';
import type { VaultSealing } from '../../../../src/state/keys/vault-core';
import { FRESH_UNLOCK_MS } from '../../../../src/state/keys/vault-lock-core';
import { randomBytes, vaultKeyFromBytes } from '../../../../src/state/keys/vault-seal';
import {
  KeyPairCore,
  type KeyPairSlot,
  type KeyPairStore,
  type SealedKeyPair,
  type StoredKeyPair,
} from '../../../../src/state/people/key-pair-core';
import { privateKeyMatches } from '../../../../src/state/people/key-match';
import { expectCode } from '../../core/helpers';

const PASSPHRASE = 'orbit lantern cactus mosaic';

function memoryStore() {
  const slots = new Map<KeyPairSlot, StoredKeyPair | string>();
  const store: KeyPairStore = {
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
  return { slots, store };
}

/** A vault lock on a fake clock: unlocked at `provedAtMs`, fresh for FRESH_UNLOCK_MS. */
class ClockLock {
  state: VaultSealing | undefined;
  nowMs = 1_000_000;
  provedAtMs = this.nowMs;
  readonly sealing = () => this.state;
  readonly isFresh = () =>
    this.state !== undefined &&
    this.state !== 'locked' &&
    this.nowMs - this.provedAtMs <= FRESH_UNLOCK_MS;
  static async unlocked(): Promise<ClockLock> {
    const lock = new ClockLock();
    lock.state = { vaultId: 'vault-a', vaultKey: await vaultKeyFromBytes(randomBytes(32)) };
    return lock;
  }
}

let bea: NewKeyPair;
let mallory: NewKeyPair;
let backup: string;

beforeAll(async () => {
  [bea, mallory] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  // Fewer PBKDF2 rounds than the app's, for speed; the format is the same.
  backup = await createKeyPairBackup(bea.pkcs8, bea.fingerprint, PASSPHRASE, 1000);
}, 60_000);

async function beaUnderLock() {
  const lock = await ClockLock.unlocked();
  const { slots, store } = memoryStore();
  const core = new KeyPairCore(store, lock.sealing, lock.isFresh);
  await core.restore(backup, PASSPHRASE, 'Bea');
  const reload = async () => {
    const page = new KeyPairCore(store, lock.sealing, lock.isFresh);
    await page.load();
    return page;
  };
  return { lock, slots, core, reload };
}

describe('what Publish sends', () => {
  it('is the pair’s own public key, once its private key opened and matched it', async () => {
    const { core, reload } = await beaUnderLock();
    expect((await core.publishable()).publicKeySpki).toEqual(bea.publicKeySpki);
    const page = await reload();
    expect((await page.publishable()).fingerprint).toBe(bea.fingerprint);
  });

  it('attack: info rewritten with another key (fingerprint and mark too) is never published', async () => {
    const { lock, slots, reload } = await beaUnderLock();
    const sealed = slots.get('mine') as SealedKeyPair;
    slots.set('mine', {
      ...sealed,
      info: {
        ...sealed.info,
        publicKeySpki: mallory.publicKeySpki,
        fingerprint: mallory.fingerprint,
      },
    });
    slots.set('sealed-mark', mallory.fingerprint);
    const page = await reload();
    await expectCode(page.publishable(), 'VAULT_ENTRY_TAMPERED');
    lock.state = 'locked';
    await expectCode((await reload()).publishable(), 'VAULT_LOCKED');
  }, 30_000);

  it('attack: a public key swapped under the old fingerprint is refused on load', async () => {
    const { slots, reload } = await beaUnderLock();
    const sealed = slots.get('mine') as SealedKeyPair;
    slots.set('mine', {
      ...sealed,
      info: { ...sealed.info, publicKeySpki: mallory.publicKeySpki },
    });
    const page = await reload();
    expect(page.tampered).toBe(true);
    expect(page.protection).toBe('tampered');
    await expectCode(page.publishable(), 'VAULT_ENTRY_TAMPERED');
  }, 30_000);

  it('a plain pair (no lock) publishes only a public key its private key opens', async () => {
    const { slots, store } = memoryStore();
    const core = new KeyPairCore(store);
    await core.restore(backup, PASSPHRASE, 'Bea');
    expect((await core.publishable()).fingerprint).toBe(bea.fingerprint);
    const plain = slots.get('mine') as StoredKeyPair & { privateKey: CryptoKey };
    slots.set('mine', { ...plain, privateKey: mallory.privateKey });
    const page = new KeyPairCore(store);
    await page.load();
    await expectCode(page.publishable(), 'VAULT_ENTRY_TAMPERED');
    expect(await privateKeyMatches(bea.publicKeySpki, bea.privateKey)).toBe(true);
    expect(await privateKeyMatches(mallory.publicKeySpki, bea.privateKey)).toBe(false);
  }, 30_000);
});

describe('Save backup of a pair under the lock', () => {
  it('needs a fresh unlock: refused past 2 minutes, given again after a new proof', async () => {
    const { lock, core } = await beaUnderLock();
    expect(await core.backup()).toBe(backup);
    lock.nowMs += FRESH_UNLOCK_MS;
    expect(await core.backup()).toBe(backup);
    lock.nowMs += 1;
    await expectCode(core.backup(), 'VAULT_REAUTH_NEEDED');
    await expectCode(core.exportPem(PASSPHRASE), 'VAULT_REAUTH_NEEDED');
    lock.provedAtMs = lock.nowMs;
    expect(await core.backup()).toBe(backup);
    lock.state = 'locked';
    await expectCode(core.backup(), 'VAULT_LOCKED');
  }, 30_000);
});
