/**
 * The user's key pair ([Note: the key pair's copies]): created with a backup that restores the
 * same key elsewhere, the private key kept non-extractable, PEM export only with the passphrase,
 * and the refusals (a second key pair, none held, a weak or wrong passphrase).
 */
import { describe, expect, it } from 'vitest';
import { decryptBytes, encryptBytes } from '../../../../src/core/one-shot';
import { RawRsaKeyring } from '../../../../src/keyrings/raw-rsa';
import { importPrivateKey, pemToPkcs8 } from '../../../../src/keyrings/rsa-keys';
import {
  KeyPairCore,
  type KeyPairSlot,
  type KeyPairStore,
  type PlainKeyPair,
  type StoredKeyPair,
} from '../../../../src/state/people/key-pair-core';
import { expectCode, patternBytes } from '../../core/helpers';

const PASSPHRASE = 'orbit lantern cactus mosaic';

function memoryStore(): KeyPairStore & { value: StoredKeyPair | undefined } {
  const store = {
    value: undefined as StoredKeyPair | undefined,
    mark: undefined as string | undefined,
    get: (slot: KeyPairSlot) => Promise.resolve(slot === 'mine' ? store.value : store.mark),
    set: (slot: KeyPairSlot, value: StoredKeyPair | string) => {
      if (slot === 'mine') store.value = value as StoredKeyPair;
      else store.mark = value as string;
      return Promise.resolve();
    },
    del: (slot: KeyPairSlot) => {
      if (slot === 'mine') store.value = undefined;
      else store.mark = undefined;
      return Promise.resolve();
    },
  };
  return store;
}

describe('KeyPairCore', () => {
  it('creates, backs up, exports and restores the same key pair', async () => {
    const store = memoryStore();
    const mine = new KeyPairCore(store);
    await expectCode(mine.create('Bea', 'short'), 'BACKUP_PASSPHRASE_WEAK');
    const backup = await mine.create('  Bea ', PASSPHRASE);
    const info = mine.info!;
    expect(info.name).toBe('Bea');
    expect(info.backupSaved).toBe(false);
    expect((store.value as PlainKeyPair).privateKey.extractable).toBe(false);
    expect(mine.protection).toBe('no-lock');
    await expectCode(mine.create('Bea', PASSPHRASE), 'KEY_NAME_TAKEN');

    // What others share with the public key opens with the kept private key.
    const message = await encryptBytes(patternBytes(100), {
      keyring: await RawRsaKeyring.forPublicKey(info.publicKeySpki),
    });
    expect(await decryptBytes(message, { keyring: mine.keyring() })).toEqual(patternBytes(100));

    await expectCode(mine.exportPem('not the passphrase'), 'BACKUP_WRONG_PASSPHRASE');
    const pem = await mine.exportPem(PASSPHRASE);
    expect((await importPrivateKey(pemToPkcs8(pem))).fingerprint).toBe(info.fingerprint);

    // Another device: a fresh store, the backup restored.
    const other = new KeyPairCore(memoryStore());
    await expectCode(other.restore(backup, 'wrong passphrase!!', 'Bea'), 'BACKUP_WRONG_PASSPHRASE');
    await other.restore(backup, PASSPHRASE, 'Bea');
    expect(other.info?.fingerprint).toBe(info.fingerprint);
    expect(await decryptBytes(message, { keyring: other.keyring() })).toEqual(patternBytes(100));

    // A reload reads it back from the store.
    const reloaded = new KeyPairCore(store);
    await reloaded.load();
    expect(reloaded.info?.fingerprint).toBe(info.fingerprint);
    await reloaded.markBackupSaved();
    expect(store.value?.info.backupSaved).toBe(true);
    await reloaded.remove();
    expect(reloaded.info).toBeUndefined();
    expect(() => reloaded.keyring()).toThrow(/no key pair/);
    await expectCode(reloaded.backup(), 'KEY_PAIR_MISSING');
  }, 60_000);
});
