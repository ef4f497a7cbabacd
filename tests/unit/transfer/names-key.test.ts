/**
 * [Note: names key object] and location-names.ts: a location's names key is created once (two
 * racing writers end with one key), opens only with a key of the location, is refused when it is
 * another location's or a file's message, and plain and private names map paths both ways.
 */
import { describe, expect, it } from 'vitest';
import { encryptBytes, type Keyring } from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { isReservedKey, plainNames, privateNames } from '../../../src/transfer/location-names';
import {
  ensureNamesKey,
  namesKeyObjectKey,
  readNamesKey,
  type NamesKeyStorage,
} from '../../../src/transfer/names-key';

const LOCATION = { bucket: 'veil-files', root: 'private/u1/' };
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'veil-files' };

function keyring(seed: number): Promise<Keyring> {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 5 + seed) & 0xff);
  return RawAesKeyring.fromBytes({ keyBytes, keyName: `k${seed}`, keyNamespace: 'veil' });
}

/** A bucket in memory, with If-None-Match: * on create. */
function memoryStorage(): NamesKeyStorage & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    read: (key) => Promise.resolve(objects.get(key)?.slice()),
    createOnly(key, body) {
      if (objects.has(key)) return Promise.resolve(false);
      objects.set(key, body.slice());
      return Promise.resolve(true);
    },
  };
}

describe('names key', () => {
  it('is created on first use, then read back as the same key', async () => {
    const storage = memoryStorage();
    const k1 = await keyring(1);
    expect(await readNamesKey(storage, LOCATION, k1)).toBeUndefined();
    const first = await ensureNamesKey(storage, LOCATION, k1, CONTEXT);
    expect(first.created).toBe(true);
    expect([...storage.objects.keys()]).toEqual(['private/u1/.veil/names-key']);
    const again = await ensureNamesKey(storage, LOCATION, k1, CONTEXT);
    expect(again.created).toBe(false);
    expect(again.cipher.encryptPath('a/b.txt')).toBe(first.cipher.encryptPath('a/b.txt'));
  });

  it('ends with one key when two writers race to create it', async () => {
    const storage = memoryStorage();
    const k1 = await keyring(1);
    const [a, b] = await Promise.all([
      ensureNamesKey(storage, LOCATION, k1, CONTEXT),
      ensureNamesKey(storage, LOCATION, k1, CONTEXT),
    ]);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(a.cipher.encryptPath('x')).toBe(b.cipher.encryptPath('x'));
  });

  it('does not open with another key, and says so with the cause', async () => {
    const storage = memoryStorage();
    await ensureNamesKey(storage, LOCATION, await keyring(1), CONTEXT);
    await expect(readNamesKey(storage, LOCATION, await keyring(2))).rejects.toMatchObject({
      code: 'NAMES_KEY_UNREADABLE',
      detail: expect.stringContaining('NO_MATCHING_EDK') as unknown,
    });
  });

  it('refuses another location’s names key copied here, and a file’s message', async () => {
    const storage = memoryStorage();
    const k1 = await keyring(1);
    const other = { bucket: 'veil-files', root: 'private/u2/' };
    await ensureNamesKey(storage, other, k1, CONTEXT);
    storage.objects.set(
      namesKeyObjectKey(LOCATION),
      storage.objects.get(namesKeyObjectKey(other))!,
    );
    await expect(readNamesKey(storage, LOCATION, k1)).rejects.toMatchObject({
      code: 'OBJECT_MISMATCH',
    });
    const fileMessage = await encryptBytes(new Uint8Array(64), {
      keyring: k1,
      encryptionContext: CONTEXT,
      location: { bucket: LOCATION.bucket, key: namesKeyObjectKey(LOCATION) },
    });
    storage.objects.set(namesKeyObjectKey(LOCATION), fileMessage);
    await expect(readNamesKey(storage, LOCATION, k1)).rejects.toMatchObject({
      code: 'NAMES_KEY_INVALID',
    });
  });
});

describe('location names', () => {
  it('plain names: the key is the root plus the path; Veil’s folder is reserved', () => {
    const names = plainNames(LOCATION);
    expect(names.objectKey('a/b.txt')).toBe('private/u1/a/b.txt');
    expect(names.clearPath('private/u1/a/b.txt')).toBe('a/b.txt');
    expect(names.bindingRule).toBe('if-present');
    expect(() => names.objectKey('.veil/names-key')).toThrow(/reserved/);
    expect(isReservedKey(LOCATION.root, 'private/u1/.veil/names-key')).toBe(true);
  });

  it('private names: keys reveal nothing, map back, and unreadable ones are undefined', async () => {
    const storage = memoryStorage();
    const { cipher } = await ensureNamesKey(storage, LOCATION, await keyring(1), CONTEXT);
    const names = privateNames(LOCATION, cipher);
    const key = names.objectKey('reports/2026/plan.txt');
    expect(key.startsWith('private/u1/')).toBe(true);
    expect(key).not.toMatch(/reports|2026|plan/);
    expect(names.clearPath(key)).toBe('reports/2026/plan.txt');
    const folder = names.objectKey('reports/');
    expect(names.clearPath(folder)).toBe('reports/');
    expect(key.startsWith(folder)).toBe(true);
    expect(names.clearPath('private/u1/plain-name.txt')).toBeUndefined();
    expect(names.clearPath(`${folder}plain-name.txt`)).toBeUndefined();
    expect(names.bindingRule).toBe('required');
  });
});
