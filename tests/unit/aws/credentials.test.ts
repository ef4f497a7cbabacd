/**
 * Credential refresh with a fake clock: reuse until the margin, one shared fetch for concurrent
 * callers, fallback to still-valid credentials when a refresh fails, sign-out; ID-token renewal
 * of a user-pool session; the error mapping; and the IAM key store (memory, opt-in session
 * storage, never localStorage).
 */
import { describe, expect, test } from 'vitest';
import type { VeilCredentials } from '../../../src/aws/credentials';
import {
  UserPoolTokens,
  credentialsError,
  refreshingProvider,
  summarise,
  userPoolProviderName,
} from '../../../src/aws/credentials';
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
    await pending;
    expect(provider.summary()).toBeUndefined();
  });

  test('refuses a negative margin', () => {
    expect(() =>
      refreshingProvider(() => Promise.reject(new Error('x')), { marginMs: -1 }),
    ).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
  });
});

describe('errors', () => {
  test.each([
    ['NotAuthorizedException', 'CREDENTIALS_EXPIRED'],
    ['ExpiredTokenException', 'CREDENTIALS_EXPIRED'],
    ['CredentialsProviderError', 'CREDENTIALS_MISSING'],
    ['InvalidClientTokenId', 'CREDENTIALS_INVALID'],
    ['ResourceNotFoundException', 'CREDENTIALS_FAILED'],
    ['TypeError', 'CREDENTIALS_FAILED'],
  ])('%s becomes %s', (name, code) => {
    expect(credentialsError(nameOf(name)).code).toBe(code);
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

  test('the module never touches localStorage', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const file of ['iam-keys.ts', 'credentials.ts', 'oidc.ts']) {
      const text = await readFile(new URL(`../../../src/aws/${file}`, import.meta.url), 'utf8');
      expect(text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')).not.toMatch(/localStorage/);
    }
  });
});
