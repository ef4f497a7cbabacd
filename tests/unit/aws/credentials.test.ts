/**
 * Credential refresh with a fake clock: reuse until the margin, one shared fetch for concurrent
 * callers, fallback to still-valid credentials when a refresh fails (with a pause before the next
 * attempt), sign-out while a fetch is under way; ID-token renewal of a user-pool session and its
 * expiry from the token's `exp`; the error mapping (first connection versus refresh); the Cognito
 * providers on the factory's client with an in-memory identity cache; and the IAM key store
 * (memory, opt-in session storage, never localStorage).
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients';
import { parseConfig } from '../../../src/aws/config';
import type { CognitoClientSource, VeilCredentials } from '../../../src/aws/credentials';
import {
  IdentityIdCache,
  UserPoolTokens,
  cognitoGuestProvider,
  credentialsError,
  refreshingProvider,
  signInWithPassword,
  summarise,
  userPoolProviderName,
} from '../../../src/aws/credentials';
import { idTokenExpiryMs } from '../../../src/aws/id-token';
import { beginSignIn, readRedirect } from '../../../src/aws/oidc';
import {
  IAM_KEYS_STORAGE_KEY,
  IamKeyStore,
  iamKeysProvider,
  parseIamKeys,
} from '../../../src/aws/iam-keys';
import { VeilError } from '../../../src/core/errors';

class Clock {
  ms = 1_700_000_000_000;
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

function source(clock: Clock, lifetimeMs = 90_000) {
  let count = 0;
  const fetch = (): Promise<VeilCredentials> => {
    count += 1;
    return Promise.resolve({
      accessKeyId: `ASIA${String(count).padStart(12, '0')}`,
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date(clock.ms + lifetimeMs),
      identityId: 'us-east-1:abc',
    });
  };
  return { fetch, count: () => count };
}

function nameOf(error: string): Error {
  const e = new Error('');
  e.name = error;
  return e;
}

/** A promise with its resolve and reject, for fetches that finish when a test says so. */
function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An unsigned JWT with the given claims (only decoded, never verified, by Veil). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('refreshingProvider', () => {
  test('reuses credentials until the margin before expiry, then fetches the next', async () => {
    const clock = new Clock();
    const src = source(clock);
    const refreshed: string[] = [];
    const provider = refreshingProvider(src.fetch, {
      marginMs: 30_000,
      now: clock.now,
      onRefresh: (summary) => refreshed.push(summary.accessKeyHint),
    });
    expect(provider.summary()).toBeUndefined();
    const first = await provider();
    clock.advance(59_000); // 31 s left: still outside the margin
    expect(await provider()).toBe(first);
    clock.advance(1_000); // 30 s left: refresh
    const second = await provider();
    expect(second).not.toBe(first);
    expect(src.count()).toBe(2);
    expect(refreshed).toEqual(['ASIA', 'ASIA']);
    expect(provider.summary()).toEqual({
      identityId: 'us-east-1:abc',
      accessKeyHint: 'ASIA',
      expiresAt: second.expiration,
    });
  });

  test('concurrent callers share one fetch', async () => {
    const clock = new Clock();
    const src = source(clock);
    const provider = refreshingProvider(src.fetch, { now: clock.now });
    const all = await Promise.all([provider(), provider(), provider()]);
    expect(new Set(all).size).toBe(1);
    expect(src.count()).toBe(1);
  });

  test('a failed refresh keeps still-valid credentials, and fails once they expired', async () => {
    const clock = new Clock();
    const src = source(clock);
    let fail = false;
    const provider = refreshingProvider(
      () => (fail ? Promise.reject(nameOf('NotAuthorizedException')) : src.fetch()),
      { marginMs: 30_000, now: clock.now },
    );
    const first = await provider();
    fail = true;
    clock.advance(70_000); // inside the margin, not expired
    expect(await provider()).toBe(first);
    clock.advance(20_001); // expired
    await expect(provider()).rejects.toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
  });

  test('credentials without expiry (IAM user keys) are kept until forgotten', async () => {
    const clock = new Clock();
    const keys = parseIamKeys({
      accessKeyId: 'AKIAABCDEFGHIJKLMNOP',
      secretAccessKey: 'a'.repeat(40),
    });
    let calls = 0;
    const provider = refreshingProvider(
      () => {
        calls += 1;
        return iamKeysProvider(keys)();
      },
      { now: clock.now },
    );
    await provider();
    clock.advance(365 * 24 * 3600 * 1000);
    await provider();
    expect(calls).toBe(1);
    provider.forget();
    expect(provider.summary()).toBeUndefined();
    await provider();
    expect(calls).toBe(2);
  });

  test('a fetch that was under way when forgotten does not come back', async () => {
    const clock = new Clock();
    let release: (value: VeilCredentials) => void = () => undefined;
    const provider = refreshingProvider(
      () => new Promise<VeilCredentials>((resolve) => (release = resolve)),
      { now: clock.now },
    );
    const pending = provider();
    provider.forget();
    release({ accessKeyId: 'AKIAOLD', secretAccessKey: 's' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(provider.summary()).toBeUndefined();
    release({ accessKeyId: 'AKIANEW', secretAccessKey: 's' });
    // The caller that was waiting gets the new identity's credentials, not the old ones.
    expect((await pending).accessKeyId).toBe('AKIANEW');
  });

  test('after forget, callers get the new identity and the old fetch leaves the new one alone', async () => {
    const clock = new Clock();
    const fetches: ReturnType<typeof deferred<VeilCredentials>>[] = [];
    const provider = refreshingProvider(
      () => {
        const next = deferred<VeilCredentials>();
        fetches.push(next);
        return next.promise;
      },
      { now: clock.now },
    );
    const before = provider(); // fetch 1, old identity
    provider.forget();
    const after = provider(); // fetch 2, new identity
    expect(fetches).toHaveLength(2);
    fetches[0]!.resolve({ accessKeyId: 'AKIAOLD', secretAccessKey: 's' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The old fetch settled; a new caller still shares fetch 2 (its slot was not cleared).
    const joined = provider();
    expect(fetches).toHaveLength(2);
    fetches[1]!.resolve({ accessKeyId: 'AKIANEW', secretAccessKey: 's' });
    const results = await Promise.all([before, after, joined]);
    expect(results.map((c) => c.accessKeyId)).toEqual(['AKIANEW', 'AKIANEW', 'AKIANEW']);
    expect(provider.summary()?.accessKeyHint).toBe('AKIA');
    expect(fetches).toHaveLength(2);
  });

  test('a failed refresh is not retried on every call while the credentials still work', async () => {
    const clock = new Clock();
    const src = source(clock);
    let fail = false;
    let attempts = 0;
    const provider = refreshingProvider(
      () => {
        attempts += 1;
        return fail ? Promise.reject(nameOf('TypeError')) : src.fetch();
      },
      { marginMs: 30_000, retryDelayMs: 10_000, now: clock.now },
    );
    const first = await provider();
    fail = true;
    clock.advance(65_000); // inside the margin
    for (let i = 0; i < 5; i++) expect(await provider()).toBe(first);
    expect(attempts).toBe(2); // one failed refresh, then a pause
    clock.advance(9_999);
    expect(await provider()).toBe(first);
    expect(attempts).toBe(2);
    clock.advance(1); // the pause is over: one more attempt
    expect(await provider()).toBe(first);
    expect(attempts).toBe(3);
    fail = false;
    clock.advance(10_000);
    const second = await provider();
    expect(second).not.toBe(first);
    expect(attempts).toBe(4);
  });

  test('a refused first connection is CREDENTIALS_FAILED, a refused refresh CREDENTIALS_EXPIRED', async () => {
    const clock = new Clock();
    const refused = refreshingProvider(() => Promise.reject(nameOf('NotAuthorizedException')), {
      now: clock.now,
    });
    await expect(refused()).rejects.toMatchObject({ code: 'CREDENTIALS_FAILED' });
    const src = source(clock);
    let fail = false;
    const later = refreshingProvider(
      () => (fail ? Promise.reject(nameOf('NotAuthorizedException')) : src.fetch()),
      { now: clock.now },
    );
    await later();
    fail = true;
    clock.advance(90_001);
    await expect(later()).rejects.toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
  });

  test('refuses a negative margin', () => {
    expect(() =>
      refreshingProvider(() => Promise.reject(new Error('x')), { marginMs: -1 }),
    ).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
    expect(() =>
      refreshingProvider(() => Promise.reject(new Error('x')), { retryDelayMs: Number.NaN }),
    ).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
  });
});

describe('errors', () => {
  test.each([
    ['NotAuthorizedException', 'CREDENTIALS_FAILED'],
    ['ExpiredTokenException', 'CREDENTIALS_EXPIRED'],
    ['CredentialsProviderError', 'CREDENTIALS_MISSING'],
    ['InvalidClientTokenId', 'CREDENTIALS_INVALID'],
    ['ResourceNotFoundException', 'CREDENTIALS_FAILED'],
    ['TypeError', 'CREDENTIALS_FAILED'],
  ])('%s becomes %s', (name, code) => {
    expect(credentialsError(nameOf(name)).code).toBe(code);
  });

  test('NotAuthorizedException is CREDENTIALS_EXPIRED only on a refresh', () => {
    expect(credentialsError(nameOf('NotAuthorizedException'), 'refresh').code).toBe(
      'CREDENTIALS_EXPIRED',
    );
    expect(credentialsError(nameOf('NotAuthorizedException'), 'connect').message).toContain(
      'guest access',
    );
  });

  test('summarise gives no secret and maps failures', async () => {
    const summary = await summarise(() =>
      Promise.resolve({
        accessKeyId: 'ASIAXYZ123',
        secretAccessKey: 'top-secret',
        sessionToken: 't',
      }),
    );
    expect(JSON.stringify(summary)).not.toContain('top-secret');
    await expect(
      summarise(() => Promise.reject(nameOf('ResourceNotFoundException'))),
    ).rejects.toBeInstanceOf(VeilError);
  });

  test('the logins key names the user pool in its own region', () => {
    expect(userPoolProviderName('eu-west-1_abc', 'us-east-1')).toBe(
      'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
    );
  });
});

describe('UserPoolTokens', () => {
  const session = (clock: Clock, idToken: string, lifetimeMs = 3_600_000) => ({
    username: 'demo',
    idToken,
    refreshToken: 'refresh',
    expiresAtMs: clock.ms + lifetimeMs,
  });

  test('hands out the ID token until the margin, then renews it once for concurrent callers', async () => {
    const clock = new Clock();
    let renewals = 0;
    const tokens = new UserPoolTokens(
      session(clock, 'id-1'),
      () => {
        renewals += 1;
        return Promise.resolve(session(clock, `id-${renewals + 1}`));
      },
      60_000,
      clock.now,
    );
    expect(await tokens.idToken()).toBe('id-1');
    clock.advance(3_540_001);
    expect(await Promise.all([tokens.idToken(), tokens.idToken()])).toEqual(['id-2', 'id-2']);
    expect(renewals).toBe(1);
    expect(tokens.username).toBe('demo');
  });

  test('a failed renewal keeps a still-valid token, then reports CREDENTIALS_EXPIRED', async () => {
    const clock = new Clock();
    const tokens = new UserPoolTokens(
      session(clock, 'id-1', 100_000),
      () => Promise.reject(nameOf('NotAuthorizedException')),
      60_000,
      clock.now,
    );
    clock.advance(50_000);
    expect(await tokens.idToken()).toBe('id-1');
    clock.advance(50_000);
    await expect(tokens.idToken()).rejects.toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
  });

  test('a failed renewal is not retried on every call while the token still works', async () => {
    const clock = new Clock();
    let renewals = 0;
    const tokens = new UserPoolTokens(
      session(clock, 'id-1', 100_000),
      () => {
        renewals += 1;
        return Promise.reject(nameOf('TypeError'));
      },
      60_000,
      clock.now,
      5_000,
    );
    clock.advance(50_000); // inside the margin
    for (let i = 0; i < 4; i++) expect(await tokens.idToken()).toBe('id-1');
    expect(renewals).toBe(1);
    clock.advance(5_000);
    expect(await tokens.idToken()).toBe('id-1');
    expect(renewals).toBe(2);
  });

  test('the session expiry is the ID token exp, not the access token lifetime', async () => {
    const clock = new Clock();
    const expSeconds = Math.floor(clock.ms / 1000) + 300;
    const idToken = jwt({ sub: 'u', exp: expSeconds });
    const clients = {
      cognitoIdentityProvider: () => ({
        send: () =>
          Promise.resolve({
            AuthenticationResult: { IdToken: idToken, RefreshToken: 'r', ExpiresIn: 3600 },
          }),
      }),
    } as unknown as AwsClients;
    const config = parseConfig({
      region: 'us-east-1',
      bucket: 'b-1',
      cognito: {
        identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
        userPoolId: 'us-east-1_abc',
        userPoolClientId: 'c',
      },
    });
    const session = await signInWithPassword(clients, config, 'demo', 'pw', clock.now);
    expect(session.expiresAtMs).toBe(expSeconds * 1000);
    expect(idTokenExpiryMs('not-a-jwt')).toBeUndefined();
    expect(idTokenExpiryMs(jwt({ exp: 'soon' }))).toBeUndefined();
  });
});

describe('Cognito identity pool providers', () => {
  const POOL = 'eu-west-1:00000000-0000-0000-0000-000000000000';
  const config = parseConfig({
    region: 'us-east-1',
    bucket: 'b-1',
    cognito: { identityPoolId: POOL },
  });

  /** A Cognito client that answers GetId and GetCredentialsForIdentity, counting each. */
  function fakeCognito() {
    const sent: string[] = [];
    const pools: (string | undefined)[] = [];
    const client = {
      send: (command: { input: Record<string, unknown> }) => {
        if ('IdentityPoolId' in command.input) {
          sent.push('GetId');
          return Promise.resolve({ IdentityId: `eu-west-1:guest-${sent.length}` });
        }
        sent.push('GetCredentialsForIdentity');
        return Promise.resolve({
          IdentityId: command.input.IdentityId,
          Credentials: {
            AccessKeyId: 'ASIAFAKE',
            SecretKey: 's',
            SessionToken: 't',
            Expiration: new Date(Date.now() + 3_600_000),
          },
        });
      },
    };
    const clients: CognitoClientSource = {
      cognitoIdentity: (poolId) => {
        pools.push(poolId);
        return client as unknown as ReturnType<AwsClients['cognitoIdentity']>;
      },
    };
    return { clients, sent, pools };
  }

  test('use the factory client, and keep the guest identity id in the given memory cache only', async () => {
    const recorded: string[] = [];
    const spy = {
      getItem: (key: string) => (recorded.push(`get ${key}`), null),
      setItem: (key: string) => void recorded.push(`set ${key}`),
      removeItem: (key: string) => void recorded.push(`remove ${key}`),
    };
    // Where the SDK would keep the identity id by default in a browser.
    vi.stubGlobal('window', { localStorage: spy });
    vi.stubGlobal('localStorage', spy);
    const { clients, sent, pools } = fakeCognito();
    const cache = new IdentityIdCache();
    const first = await cognitoGuestProvider(clients, config, cache)();
    expect(first.identityId).toBe('eu-west-1:guest-1');
    expect(pools).toEqual([POOL]);
    const again = await cognitoGuestProvider(clients, config, cache)();
    expect(again.identityId).toBe('eu-west-1:guest-1');
    expect(sent.filter((name) => name === 'GetId')).toHaveLength(1);
    // Sign-out clears the cache: the next guest is a new identity.
    cache.clear();
    await cognitoGuestProvider(clients, config, cache)();
    expect(sent.filter((name) => name === 'GetId')).toHaveLength(2);
    // Without a cache argument, still no browser storage.
    await cognitoGuestProvider(clients, config)();
    expect(recorded).toEqual([]);
  });
});

describe('IAM keys', () => {
  const valid = {
    accessKeyId: ' AKIAIOSFODNN7EXAMPLE ',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };

  class MemoryStorage {
    readonly items = new Map<string, string>();
    getItem = (key: string): string | null => this.items.get(key) ?? null;
    setItem = (key: string, value: string): void => void this.items.set(key, value);
    removeItem = (key: string): void => void this.items.delete(key);
  }

  test('parses and trims pasted keys', () => {
    expect(parseIamKeys(valid)).toEqual({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: valid.secretAccessKey,
    });
  });

  test.each([
    ['a malformed access key id', { ...valid, accessKeyId: 'hello' }, 'access key id'],
    ['a malformed secret', { ...valid, secretAccessKey: 'short' }, 'secret'],
    [
      'temporary keys without a session token',
      { ...valid, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' },
      'session token',
    ],
  ])('refuses %s, naming the field but not the value', (_name, input, field) => {
    try {
      parseIamKeys(input);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toMatchObject({ code: 'CREDENTIALS_INVALID' });
      expect((error as VeilError).message).toContain(field);
      expect((error as VeilError).message).not.toContain(input.secretAccessKey);
    }
  });

  test('kept in memory only unless remembered; remembered in the given session storage', () => {
    const storage = new MemoryStorage();
    const store = new IamKeyStore(storage);
    const keys = parseIamKeys(valid);
    store.save(keys, false);
    expect(storage.items.size).toBe(0);
    expect(store.load()).toEqual(keys);
    expect(new IamKeyStore(storage).load()).toBeUndefined();

    store.save(keys, true);
    expect(JSON.parse(storage.items.get(IAM_KEYS_STORAGE_KEY)!)).toEqual(keys);
    expect(new IamKeyStore(storage).load()).toEqual(keys);
    expect(store.remembered()).toBe(true);

    store.clear();
    expect(storage.items.size).toBe(0);
    expect(store.load()).toBeUndefined();
  });

  test('a damaged stored entry is dropped', () => {
    const storage = new MemoryStorage();
    storage.setItem(IAM_KEYS_STORAGE_KEY, '{"accessKeyId":"nope"}');
    expect(new IamKeyStore(storage).load()).toBeUndefined();
    expect(storage.items.size).toBe(0);
  });

  test('keys, PKCE state and identity ids never reach localStorage', async () => {
    const recorded: string[] = [];
    const spy = {
      getItem: (key: string) => (recorded.push(`get ${key}`), null),
      setItem: (key: string) => void recorded.push(`set ${key}`),
      removeItem: (key: string) => void recorded.push(`remove ${key}`),
    };
    vi.stubGlobal('localStorage', spy);
    vi.stubGlobal('window', { localStorage: spy });
    const session = new MemoryStorage();
    const store = new IamKeyStore(session);
    store.save(parseIamKeys(valid), true);
    expect(new IamKeyStore(session).load()).toEqual(parseIamKeys(valid));
    store.clear();
    const url = new URL(
      await beginSignIn(
        {
          domain: 'https://auth.example.org',
          clientId: 'c',
          redirectUri: 'https://a/',
          scopes: [],
        },
        session,
      ),
    );
    readRedirect(`https://a/?code=x&state=${url.searchParams.get('state')}`, session);
    expect(recorded).toEqual([]);
  });
});
