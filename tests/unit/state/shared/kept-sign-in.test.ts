/**
 * The session's side of "Stay signed in on this device": the option off stores nothing (and
 * removes an earlier kept sign-in), on it keeps the refresh token sealed; at load a kept
 * sign-in is renewed with REFRESH_TOKEN_AUTH (a fake pool here; moto's in
 * tests/integration/stay-signed-in-moto.test.ts); a token the pool refuses is dropped with
 * SIGN_IN_KEPT_ENDED, a tampered blob with SIGN_IN_KEPT_UNREADABLE, and a network failure keeps it.
 */
import { describe, expect, test } from 'vitest';
import type { UserPoolSession } from '../../../../src/aws/credentials';
import {
  KEPT_BLOB_ENTRY,
  type KeptSignIn,
  type KeptSignInStore,
} from '../../../../src/aws/stay-signed-in';
import { parseConfig } from '../../../../src/aws/config';
import {
  keptPoolOf,
  restoreKeptSignIn,
  settleKeptSignIn,
  type KeptSignInDeps,
} from '../../../../src/state/shared/kept-sign-in';

const POOL = { userPoolId: 'us-east-1_abc', userPoolClientId: 'client1' };
const SESSION: UserPoolSession = {
  username: 'demo',
  idToken: 'id-token',
  refreshToken: 'refresh-token-secret',
  expiresAtMs: 1,
};

class MapStore implements KeptSignInStore {
  readonly map = new Map<string, unknown>();
  failWrites = false;
  get(key: string): Promise<unknown> {
    return Promise.resolve(this.map.get(key));
  }
  set(key: string, value: unknown): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('QuotaExceededError'));
    this.map.set(key, value);
    return Promise.resolve();
  }
  del(key: string): Promise<void> {
    this.map.delete(key);
    return Promise.resolve();
  }
}

function named(name: string): Error {
  const error = new Error('');
  error.name = name;
  return error;
}

function deps(store: MapStore, renew: (kept: KeptSignIn) => Promise<UserPoolSession>) {
  const asked: KeptSignIn[] = [];
  const value: KeptSignInDeps = {
    store,
    pool: POOL,
    renew: (kept) => {
      asked.push(kept);
      return renew(kept);
    },
  };
  return { value, asked };
}

const renewed = (kept: KeptSignIn): Promise<UserPoolSession> =>
  Promise.resolve({ ...SESSION, username: kept.username, idToken: 'new-id-token' });

describe('after a sign-in', () => {
  test('the option off stores nothing', async () => {
    const store = new MapStore();
    expect(await settleKeptSignIn({ store, pool: POOL }, false, SESSION)).toBe(false);
    expect(store.map.size).toBe(0);
  });

  test('the option off removes a sign-in kept earlier', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    expect(store.map.size).toBe(2);
    expect(await settleKeptSignIn({ store, pool: POOL }, false, SESSION)).toBe(false);
    expect(store.map.size).toBe(0);
  });

  test('the option on keeps the token, sealed', async () => {
    const store = new MapStore();
    expect(await settleKeptSignIn({ store, pool: POOL }, true, SESSION)).toBe(true);
    expect(JSON.stringify([...store.map.values()])).not.toContain('refresh-token-secret');
  });

  test('nothing to keep without a refresh token or a user pool; a failing store keeps nothing', async () => {
    const store = new MapStore();
    const noToken = { ...SESSION, refreshToken: undefined };
    expect(await settleKeptSignIn({ store, pool: POOL }, true, noToken)).toBe(false);
    expect(await settleKeptSignIn({ store, pool: undefined }, true, SESSION)).toBe(false);
    store.failWrites = true;
    expect(await settleKeptSignIn({ store, pool: POOL }, true, SESSION)).toBe(false);
    expect(store.map.size).toBe(0);
  });

  test('the pool comes from the config only with a user pool and app client', () => {
    const base = { region: 'us-east-1', bucket: 'veil-test' };
    const withPool = parseConfig({
      ...base,
      cognito: { identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000', ...POOL },
    });
    expect(keptPoolOf(withPool)).toEqual(POOL);
    expect(keptPoolOf(parseConfig(base))).toBeUndefined();
  });
});

describe('at load', () => {
  test('nothing kept: nothing asked', async () => {
    const { value, asked } = deps(new MapStore(), renewed);
    expect(await restoreKeptSignIn(value)).toEqual({ kind: 'none' });
    expect(asked).toEqual([]);
  });

  test('a kept sign-in is renewed with its refresh token and stays kept', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    const { value, asked } = deps(store, renewed);
    const outcome = await restoreKeptSignIn(value);
    expect(outcome).toMatchObject({ kind: 'restored', session: { idToken: 'new-id-token' } });
    expect(asked).toEqual([{ username: 'demo', refreshToken: 'refresh-token-secret' }]);
    expect(store.map.size).toBe(2);
  });

  test('a token the pool refuses (expired or revoked) is dropped with SIGN_IN_KEPT_ENDED', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    const { value } = deps(store, () => Promise.reject(named('NotAuthorizedException')));
    const outcome = await restoreKeptSignIn(value);
    expect(outcome).toMatchObject({ kind: 'dropped', error: { code: 'SIGN_IN_KEPT_ENDED' } });
    expect(store.map.size).toBe(0);
  });

  test('a tampered blob is dropped with SIGN_IN_KEPT_UNREADABLE and never sent to the pool', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    const blob = store.map.get(KEPT_BLOB_ENTRY) as { ciphertext: Uint8Array };
    blob.ciphertext[3]! ^= 0x80;
    const { value, asked } = deps(store, renewed);
    const outcome = await restoreKeptSignIn(value);
    expect(outcome).toMatchObject({ kind: 'dropped', error: { code: 'SIGN_IN_KEPT_UNREADABLE' } });
    expect(asked).toEqual([]);
    expect(store.map.size).toBe(0);
  });

  test('a network failure keeps the kept sign-in for the next load', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    const { value } = deps(store, () => Promise.reject(new TypeError('Failed to fetch')));
    const outcome = await restoreKeptSignIn(value);
    expect(outcome.kind).toBe('failed');
    expect(store.map.size).toBe(2);
  });

  test('no user pool configured: nothing read', async () => {
    const store = new MapStore();
    await settleKeptSignIn({ store, pool: POOL }, true, SESSION);
    const { value, asked } = deps(store, renewed);
    expect(await restoreKeptSignIn({ ...value, pool: undefined })).toEqual({ kind: 'none' });
    expect(asked).toEqual([]);
  });
});
