/**
 * [Note: names of the current location]: the app's names follow the bucket (a names key makes a
 * location private whatever the setting), a names key that does not open shows stored keys and
 * refuses every write, a 'pending' location creates its names key on the first upload (once,
 * however many uploads start together), and shown paths never guess.
 */
import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../../../src/core';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { ensureNamesKey, type NamesKeyStorage } from '../../../../src/transfer/names-key';
import {
  followVaultLock,
  LocationNamesCore,
  locationId,
  namesPlace,
  namesSummary,
  type NamesPlace,
} from '../../../../src/state/shared/location-names-core';

const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'veil-files' };
const PLAIN: NamesPlace = { bucket: 'veil-files', root: 'team/', wanted: false };
const WANTED: NamesPlace = { ...PLAIN, wanted: true };

function keyring(seed: number): Promise<Keyring> {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 3 + seed) & 0xff);
  return RawAesKeyring.fromBytes({ keyBytes, keyName: `k${seed}`, keyNamespace: 'veil' });
}

/** A bucket in memory (If-None-Match: * on create), counting calls; `fail` makes reads fail. */
function memoryStorage() {
  const objects = new Map<string, Uint8Array>();
  const calls = { read: 0, create: 0 };
  let failure: Error | undefined;
  const storage: NamesKeyStorage = {
    read: (key) => {
      calls.read++;
      return failure ? Promise.reject(failure) : Promise.resolve(objects.get(key)?.slice());
    },
    createOnly(key, body) {
      calls.create++;
      if (objects.has(key)) return Promise.resolve(false);
      objects.set(key, body.slice());
      return Promise.resolve(true);
    },
  };
  return {
    objects,
    calls,
    storage,
    fail: (error: Error | undefined) => (failure = error),
  };
}

function core(bucket: ReturnType<typeof memoryStorage>, read: Keyring | undefined) {
  return new LocationNamesCore({
    storage: () => bucket.storage,
    readKeyring: () => Promise.resolve(read),
  });
}

describe('LocationNamesCore', () => {
  it('is plain without a names key and setting, and pending with the setting', async () => {
    const bucket = memoryStorage();
    const names = core(bucket, await keyring(1));
    const plain = await names.open(PLAIN);
    expect(names.status.state).toBe('plain');
    expect(plain.objectKey('a/b.txt')).toBe('team/a/b.txt');
    expect(plain.bindingRule).toBe('if-present');
    await names.open(WANTED);
    expect(names.status.state).toBe('pending');
  });

  it('opens once per place', async () => {
    const bucket = memoryStorage();
    const names = core(bucket, await keyring(1));
    await names.open(PLAIN);
    const once = bucket.calls.read;
    expect(once).toBeGreaterThan(0);
    await Promise.all([names.open(PLAIN), names.open(PLAIN)]);
    expect(bucket.calls.read).toBe(once);
    names.reset();
    await names.open(PLAIN);
    expect(bucket.calls.read).toBe(2 * once);
  });

  it('is private when the bucket has a names key, whatever the setting', async () => {
    const bucket = memoryStorage();
    const k1 = await keyring(1);
    const made = await ensureNamesKey(bucket.storage, PLAIN, k1, CONTEXT);
    const names = core(bucket, k1);
    const opened = await names.open(PLAIN);
    expect(names.status.state).toBe('private');
    expect(opened.bindingRule).toBe('required');
    const key = opened.objectKey('reports/plan Q3.txt');
    expect(key).toBe(`team/${made.cipher.encryptPath('reports/plan Q3.txt')}`);
    expect(key).not.toContain('plan');
    expect(names.shownPath(key)).toBe('reports/plan Q3.txt');
    // A key that does not open is shown as stored, never guessed.
    expect(names.shownPath('team/AAAAAAAAAAAAAAAAAAAAAA')).toBe('team/AAAAAAAAAAAAAAAAAAAAAA');
    expect(names.shownPath('elsewhere/x')).toBe('elsewhere/x');
  });

  it('shows stored keys and refuses writes when no key at hand opens the names key', async () => {
    const bucket = memoryStorage();
    await ensureNamesKey(bucket.storage, PLAIN, await keyring(1), CONTEXT);
    for (const read of [await keyring(2), undefined]) {
      const names = core(bucket, read);
      const opened = await names.open(WANTED);
      expect(names.status).toMatchObject({
        state: 'unreadable',
        error: { code: 'NAMES_KEY_UNREADABLE' },
      });
      expect(opened.clearPath('team/abc')).toBeUndefined();
      expect(opened.bindingRule).toBe('required');
      expect(() => opened.objectKey('a.txt')).toThrow(
        expect.objectContaining({ code: 'NAMES_KEY_UNREADABLE' }) as Error,
      );
      const writer = { keyring: await keyring(2), encryptionContext: CONTEXT };
      await expect(names.forUpload(WANTED, writer)).rejects.toMatchObject({
        code: 'NAMES_KEY_UNREADABLE',
      });
    }
    // Nothing was written over the names key.
    expect(bucket.calls.create).toBe(1);
  });

  it('refuses writes while the bucket cannot be asked, and asks again on upload', async () => {
    const bucket = memoryStorage();
    bucket.fail(
      Object.assign(new Error('denied'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const names = core(bucket, await keyring(1));
    const opened = await names.open(WANTED);
    expect(names.status).toMatchObject({ state: 'failed', error: { code: 'S3_REJECTED' } });
    expect(() => opened.objectKey('a.txt')).toThrow(
      expect.objectContaining({ code: 'S3_REJECTED' }) as Error,
    );
    const writer = { keyring: await keyring(1), encryptionContext: CONTEXT };
    await expect(names.forUpload(WANTED, writer)).rejects.toMatchObject({ code: 'S3_REJECTED' });
    bucket.fail(undefined);
    const later = await names.forUpload(WANTED, writer);
    expect(later.isPrivate).toBe(true);
  });

  it('creates the names key on the first upload of a pending location, once', async () => {
    const bucket = memoryStorage();
    const k1 = await keyring(1);
    const names = core(bucket, k1);
    await names.open(WANTED);
    const writer = { keyring: k1, encryptionContext: CONTEXT };
    const [a, b] = await Promise.all([
      names.forUpload(WANTED, writer),
      names.forUpload(WANTED, writer),
    ]);
    expect(bucket.calls.create).toBe(1);
    expect([...bucket.objects.keys()]).toEqual(['team/.veil/names-key']);
    expect(names.status.state).toBe('private');
    expect(a.objectKey('x/y.txt')).toBe(b.objectKey('x/y.txt'));
    // Another reader of the bucket opens the same names.
    const other = await core(bucket, k1).open(PLAIN);
    expect(other.objectKey('x/y.txt')).toBe(a.objectKey('x/y.txt'));
  });

  it('a plain upload asks the bucket again and follows a names key created meanwhile', async () => {
    const bucket = memoryStorage();
    const k1 = await keyring(1);
    const names = core(bucket, k1);
    await names.open(PLAIN);
    await ensureNamesKey(bucket.storage, PLAIN, k1, CONTEXT);
    const writer = { keyring: k1, encryptionContext: CONTEXT };
    const opened = await names.forUpload(PLAIN, writer);
    expect(opened.isPrivate).toBe(true);
    expect(opened.objectKey('a.txt')).not.toBe('team/a.txt');
  });

  it('refuses an upload without a key model where names are private', async () => {
    const bucket = memoryStorage();
    const names = core(bucket, await keyring(1));
    await expect(names.forUpload(WANTED, undefined)).rejects.toMatchObject({
      code: 'NAMES_NEED_ENCRYPTION',
    });
    expect(bucket.calls.create).toBe(0);
    expect((await names.forUpload(PLAIN, undefined)).objectKey('a')).toBe('team/a');
  });
});

describe('followVaultLock', () => {
  /** A vault whose keyring is at hand only while unlocked, with its lock and unlock events. */
  function fakeVault(read: Keyring) {
    const lockListeners = new Set<() => void>();
    const unlockListeners = new Set<() => void>();
    let unlocked = true;
    const on = (set: Set<() => void>) => (listener: () => void) => {
      set.add(listener);
      return () => void set.delete(listener);
    };
    return {
      events: { onLock: on(lockListeners), onUnlock: on(unlockListeners) },
      readKeyring: () => Promise.resolve(unlocked ? read : undefined),
      lock: () => {
        unlocked = false;
        for (const listener of lockListeners) listener();
      },
      unlock: () => {
        unlocked = true;
        for (const listener of unlockListeners) listener();
      },
      listeners: () => lockListeners.size + unlockListeners.size,
    };
  }

  it('attack: after the vault locks no clear name is shown; after an unlock they open again', async () => {
    const bucket = memoryStorage();
    const k1 = await keyring(1);
    await ensureNamesKey(bucket.storage, PLAIN, k1, CONTEXT);
    const vault = fakeVault(k1);
    const names = new LocationNamesCore({
      storage: () => bucket.storage,
      readKeyring: vault.readKeyring,
    });
    const undo = followVaultLock(names, vault.events);
    const key = (await names.open(PLAIN)).objectKey('merger plan.txt');
    expect(names.shownPath(key)).toBe('merger plan.txt');

    vault.lock();
    expect(names.shownPath(key)).toBe(key);
    expect(names.current).toBeUndefined();
    expect(names.status.state).toBe('unknown');
    const locked = await names.open(PLAIN);
    expect(names.status.state).toBe('unreadable');
    expect(locked.clearPath(key)).toBeUndefined();
    expect(names.shownPath(key)).toBe(key);

    vault.unlock();
    await names.open(PLAIN);
    expect(names.status.state).toBe('private');
    expect(names.shownPath(key)).toBe('merger plan.txt');
    undo();
    expect(vault.listeners()).toBe(0);
  });
});

describe('namesPlace', () => {
  it('is wanted when config.json or this browser turns it on for the location', () => {
    expect(namesPlace({ bucket: 'b-1' }, 'team/', []).wanted).toBe(false);
    expect(namesPlace({ bucket: 'b-1', privateNames: true }, 'team/', []).wanted).toBe(true);
    expect(namesPlace({ bucket: 'b-1' }, 'team/', ['b-1/team/']).wanted).toBe(true);
    expect(namesPlace({ bucket: 'b-1' }, 'team/', ['b-1/other/', 'b-2/team/']).wanted).toBe(false);
    expect(locationId({ bucket: 'b-1', root: '' })).toBe('b-1/');
  });
});

describe('namesSummary', () => {
  const mine = { fromConfig: false, turnedOn: true };
  it('says what the bucket holds and offers only what can be undone', () => {
    expect(namesSummary({ state: 'private' }, mine)).toMatchObject({
      line: 'Private names: on — names key in the bucket',
      canTurnOn: false,
      canTurnOff: false,
    });
    expect(namesSummary({ state: 'private' }, mine).detail).toMatch(/cannot be turned off/);
    expect(namesSummary({ state: 'pending' }, mine)).toMatchObject({
      line: 'Private names: on, created on first upload',
      canTurnOff: true,
    });
    // config.json's setting is not this browser's to undo.
    expect(
      namesSummary({ state: 'pending' }, { fromConfig: true, turnedOn: false }).canTurnOff,
    ).toBe(false);
    expect(namesSummary({ state: 'plain' }, { fromConfig: false, turnedOn: false })).toMatchObject({
      line: 'Private names: off',
      canTurnOn: true,
    });
    const error = { code: 'NAMES_KEY_UNREADABLE', message: 'm' };
    expect(namesSummary({ state: 'unreadable', error }, mine).canTurnOff).toBe(false);
  });
});
