/**
 * The kept sign-in's storage ([Note: stay signed in]): what is stored is a non-extractable
 * AES-GCM key and a sealed blob, with no token or user name in clear; a changed, truncated,
 * swapped or foreign blob is refused with SIGN_IN_KEPT_UNREADABLE and removed, key and all; a
 * sealed blob only opens for the pool it was kept for; forgetting removes both entries.
 * The store is a Map here (IndexedDB structured-clones the same values; the e2e test reads the
 * real one).
 */
import { describe, expect, test } from 'vitest';
import {
  KEPT_BLOB_ENTRY,
  KEPT_KEY_ENTRY,
  forgetKeptSignIn,
  hasKeptSignIn,
  keepSignIn,
  readKeptSignIn,
  type KeptSignInStore,
} from '../../../src/aws/stay-signed-in';
import { VeilError } from '../../../src/core/errors';

const POOL = { userPoolId: 'us-east-1_abc', userPoolClientId: 'client1' };
const KEPT = { username: 'demo', refreshToken: 'eyJjdHkiOiJKV1QiLCJlbmMi.refresh-token-secret' };

class MapStore implements KeptSignInStore {
  readonly map = new Map<string, unknown>();
  get(key: string): Promise<unknown> {
    return Promise.resolve(this.map.get(key));
  }
  set(key: string, value: unknown): Promise<void> {
    this.map.set(key, value);
    return Promise.resolve();
  }
  del(key: string): Promise<void> {
    this.map.delete(key);
    return Promise.resolve();
  }
}

interface Blob {
  v: number;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

async function kept(): Promise<MapStore> {
  const store = new MapStore();
  await keepSignIn(store, POOL, KEPT);
  return store;
}

async function expectRefused(store: MapStore, pool = POOL): Promise<void> {
  await expect(readKeptSignIn(store, pool)).rejects.toMatchObject({
    code: 'SIGN_IN_KEPT_UNREADABLE',
  });
  // Refused and removed: nothing is left to be tried again.
  expect([...store.map.keys()]).toEqual([]);
}

describe('keeping a sign-in', () => {
  test('round trip: what is kept opens again for the same pool', async () => {
    const store = await kept();
    expect(await hasKeptSignIn(store)).toBe(true);
    expect(await readKeptSignIn(store, POOL)).toEqual(KEPT);
  });

  test('nothing kept reads as undefined, not as an error', async () => {
    expect(await readKeptSignIn(new MapStore(), POOL)).toBeUndefined();
    expect(await hasKeptSignIn(new MapStore())).toBe(false);
  });

  test('the key is non-extractable AES-GCM; the blob holds no token or user name in clear', async () => {
    const store = await kept();
    expect([...store.map.keys()].sort()).toEqual([KEPT_BLOB_ENTRY, KEPT_KEY_ENTRY].sort());
    const key = store.map.get(KEPT_KEY_ENTRY) as CryptoKey;
    expect(key).toBeInstanceOf(CryptoKey);
    expect(key.extractable).toBe(false);
    expect(key.algorithm.name).toBe('AES-GCM');
    // The attack: read the key's bytes out. WebCrypto refuses.
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    const blob = store.map.get(KEPT_BLOB_ENTRY) as Blob;
    expect(Object.keys(blob).sort()).toEqual(['ciphertext', 'iv', 'v']);
    const text = new TextDecoder('latin1').decode(blob.ciphertext);
    for (const secret of [KEPT.refreshToken, 'refresh-token-secret', KEPT.username]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(blob)).not.toContain(secret);
    }
  });

  test('each keep makes a new key and IV', async () => {
    const store = await kept();
    const first = {
      ...(store.map.get(KEPT_BLOB_ENTRY) as Blob),
      key: store.map.get(KEPT_KEY_ENTRY),
    };
    await keepSignIn(store, POOL, KEPT);
    expect(store.map.get(KEPT_KEY_ENTRY)).not.toBe(first.key);
    expect((store.map.get(KEPT_BLOB_ENTRY) as Blob).iv).not.toEqual(first.iv);
  });

  test('an empty user name or token is refused before anything is stored', async () => {
    const store = new MapStore();
    await expect(keepSignIn(store, POOL, { username: 'demo', refreshToken: '' })).rejects.toThrow(
      VeilError,
    );
    await expect(keepSignIn(store, POOL, { username: '', refreshToken: 'x' })).rejects.toThrow(
      VeilError,
    );
    expect(store.map.size).toBe(0);
  });

  test('forgetting removes the blob and the key', async () => {
    const store = await kept();
    await forgetKeptSignIn(store);
    expect(store.map.size).toBe(0);
    expect(await readKeptSignIn(store, POOL)).toBeUndefined();
  });
});

describe('a tampered kept sign-in is refused and removed', () => {
  test('one flipped bit anywhere in the ciphertext', async () => {
    for (const at of [0, 10, -1]) {
      const store = await kept();
      const blob = store.map.get(KEPT_BLOB_ENTRY) as Blob;
      const ciphertext = blob.ciphertext.slice();
      ciphertext[at < 0 ? ciphertext.length + at : at]! ^= 1;
      store.map.set(KEPT_BLOB_ENTRY, { ...blob, ciphertext });
      await expectRefused(store);
    }
  });

  test('a changed IV, a truncated blob, a wrong version', async () => {
    const cases: ((blob: Blob) => unknown)[] = [
      (blob) => ({ ...blob, iv: blob.iv.map((b, i) => (i === 0 ? b ^ 1 : b)) }),
      (blob) => ({ ...blob, ciphertext: blob.ciphertext.subarray(0, blob.ciphertext.length - 1) }),
      (blob) => ({ ...blob, v: 2 }),
      (blob) => ({ ...blob, iv: blob.iv.subarray(0, 8) }),
      () => 'not a record',
      () => null,
    ];
    for (const change of cases) {
      const store = await kept();
      store.map.set(KEPT_BLOB_ENTRY, change(store.map.get(KEPT_BLOB_ENTRY) as Blob));
      await expectRefused(store);
    }
  });

  test('a blob kept for another user pool or app client', async () => {
    await expectRefused(await kept(), { ...POOL, userPoolId: 'us-east-1_other' });
    await expectRefused(await kept(), { ...POOL, userPoolClientId: 'client2' });
  });

  test('a blob paired with another key (swapped from another kept sign-in)', async () => {
    const store = await kept();
    const other = await kept();
    store.map.set(KEPT_KEY_ENTRY, other.map.get(KEPT_KEY_ENTRY));
    await expectRefused(store);
  });

  test('a blob without its key, a key without its blob, an extractable key', async () => {
    const noKey = await kept();
    noKey.map.delete(KEPT_KEY_ENTRY);
    await expectRefused(noKey);
    const noBlob = await kept();
    noBlob.map.delete(KEPT_BLOB_ENTRY);
    await expectRefused(noBlob);
    const extractable = await kept();
    extractable.map.set(
      KEPT_KEY_ENTRY,
      await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['decrypt']),
    );
    await expectRefused(extractable);
  });

  test('a well-sealed blob whose content is not a sign-in', async () => {
    const store = new MapStore();
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const additionalData = new TextEncoder().encode(
      `veil stay-signed-in v1\n${POOL.userPoolId}\n${POOL.userPoolClientId}`,
    );
    // The AAD matches (so this also pins its form): only the content is wrong.
    for (const content of ['{"u":"demo"}', 'not json', '{"u":"","r":"x"}']) {
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData },
          key,
          new TextEncoder().encode(content),
        ),
      );
      store.map.set(KEPT_KEY_ENTRY, key);
      store.map.set(KEPT_BLOB_ENTRY, { v: 1, iv, ciphertext });
      await expectRefused(store);
    }
  });
});
