/**
 * The pure parts of the hosted-UI sign-in with PKCE: verifier and S256 challenge (RFC 7636
 * Appendix B), the authorize URL, the one-use state check, the token exchange request and the
 * token response. The hosted UI and token endpoint themselves are not available locally (moto).
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { HostedUiConfig } from '../../../src/aws/oidc';
import {
  PENDING_SIGN_IN_KEY,
  authorizeUrl,
  beginSignIn,
  codeChallenge,
  createCodeVerifier,
  exchangeCode,
  parseTokenResponse,
  readRedirect,
  tokenRequest,
} from '../../../src/aws/oidc';

const UI: HostedUiConfig = {
  domain: 'https://auth.example.org',
  clientId: 'client123',
  redirectUri: 'https://app.example.org/',
  scopes: ['openid', 'email'],
};

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string): string | null => this.items.get(key) ?? null;
  setItem = (key: string, value: string): void => void this.items.set(key, value);
  removeItem = (key: string): void => void this.items.delete(key);
}

describe('PKCE', () => {
  test('the S256 challenge of RFC 7636 Appendix B', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  test('fresh verifiers are 43 unreserved characters and their challenge is base64url SHA-256', async () => {
    const verifier = createCodeVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createCodeVerifier()).not.toBe(verifier);
    expect(await codeChallenge(verifier)).toBe(
      createHash('sha256').update(verifier).digest('base64url'),
    );
  });

  test('refuses a verifier that is too short', async () => {
    await expect(codeChallenge('short')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('the redirect round trip', () => {
  test('the authorize URL carries the client, redirect, scopes, state and S256 challenge', () => {
    const url = new URL(authorizeUrl({ ...UI, identityProvider: 'CorpSSO' }, 'st', 'ch'));
    expect(url.origin + url.pathname).toBe('https://auth.example.org/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client123',
      redirect_uri: 'https://app.example.org/',
      scope: 'openid email',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
      identity_provider: 'CorpSSO',
    });
  });

  test('beginSignIn stores state and verifier; the redirect with that state yields the code once', async () => {
    const storage = new MemoryStorage();
    const url = new URL(await beginSignIn(UI, storage));
    const state = url.searchParams.get('state')!;
    const pending = JSON.parse(storage.getItem(PENDING_SIGN_IN_KEY)!) as { verifier: string };
    expect(url.searchParams.get('code_challenge')).toBe(await codeChallenge(pending.verifier));
    const back = `https://app.example.org/?code=abc&state=${state}`;
    expect(readRedirect(back, storage)).toEqual({ code: 'abc', verifier: pending.verifier });
    // A replayed redirect finds no pending sign-in.
    expect(() => readRedirect(back, storage)).toThrow(
      expect.objectContaining({ code: 'OIDC_STATE_MISMATCH' }) as Error,
    );
  });

  test('a different state is refused and consumes the pending sign-in', async () => {
    const storage = new MemoryStorage();
    await beginSignIn(UI, storage);
    expect(() => readRedirect('https://app.example.org/?code=abc&state=forged', storage)).toThrow(
      expect.objectContaining({ code: 'OIDC_STATE_MISMATCH' }) as Error,
    );
    expect(storage.items.size).toBe(0);
  });

  test('a provider error becomes OIDC_FAILED; a URL without an answer is ignored', async () => {
    const storage = new MemoryStorage();
    const state = new URL(await beginSignIn(UI, storage)).searchParams.get('state')!;
    expect(readRedirect('https://app.example.org/#/upload', storage)).toBeUndefined();
    expect(storage.items.size).toBe(1);
    expect(() =>
      readRedirect(`https://app.example.org/?error=access_denied&state=${state}`, storage),
    ).toThrow(expect.objectContaining({ code: 'OIDC_FAILED', detail: 'access_denied' }) as Error);
  });

  test('an error answer with another state (or none started) is a state mismatch', async () => {
    const storage = new MemoryStorage();
    await beginSignIn(UI, storage);
    expect(() =>
      readRedirect('https://app.example.org/?error=access_denied&state=forged', storage),
    ).toThrow(expect.objectContaining({ code: 'OIDC_STATE_MISMATCH' }) as Error);
    expect(storage.items.size).toBe(0);
    expect(() => readRedirect('https://app.example.org/?error=access_denied', storage)).toThrow(
      expect.objectContaining({ code: 'OIDC_STATE_MISMATCH' }) as Error,
    );
  });
});

describe('token exchange', () => {
  test('the request is a form POST with the code and verifier and no secret', () => {
    const request = tokenRequest(UI, 'the-code', 'the-verifier');
    expect(request.url).toBe('https://auth.example.org/oauth2/token');
    expect(request.init.method).toBe('POST');
    expect(request.init.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(request.init.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client123',
      code: 'the-code',
      redirect_uri: 'https://app.example.org/',
      code_verifier: 'the-verifier',
    });
  });

  test('the response becomes a session; errors become OIDC_FAILED', async () => {
    expect(
      parseTokenResponse({ id_token: 'a.b.c', refresh_token: 'r', expires_in: 600 }, 1000),
    ).toEqual({ username: 'sso', idToken: 'a.b.c', refreshToken: 'r', expiresAtMs: 601_000 });
    expect(() => parseTokenResponse({ error: 'invalid_grant' }, 0)).toThrow(
      expect.objectContaining({ code: 'OIDC_FAILED', detail: 'invalid_grant' }) as Error,
    );
    expect(() => parseTokenResponse({ access_token: 'x' }, 0)).toThrow(
      expect.objectContaining({ code: 'OIDC_FAILED' }) as Error,
    );
    const fetcher = (() => Promise.reject(new TypeError('offline'))) as typeof fetch;
    await expect(exchangeCode(UI, 'c', 'v', fetcher, 0)).rejects.toMatchObject({
      code: 'OIDC_FAILED',
    });
    const ok = (() =>
      Promise.resolve(new Response(JSON.stringify({ id_token: 'x.y.z' })))) as typeof fetch;
    expect((await exchangeCode(UI, 'c', 'v', ok, 0)).idToken).toBe('x.y.z');
  });

  test('an error status is OIDC_FAILED with the provider error, even with a token-like body', async () => {
    const refused = (() =>
      Promise.resolve(
        new Response(JSON.stringify({ error: 'invalid_grant', id_token: 'x.y.z' }), {
          status: 400,
        }),
      )) as typeof fetch;
    await expect(exchangeCode(UI, 'c', 'v', refused, 0)).rejects.toMatchObject({
      code: 'OIDC_FAILED',
      detail: 'token endpoint: HTTP 400 invalid_grant',
    });
    const broken = (() =>
      Promise.resolve(new Response('<html>bad gateway</html>', { status: 502 }))) as typeof fetch;
    await expect(exchangeCode(UI, 'c', 'v', broken, 0)).rejects.toMatchObject({
      code: 'OIDC_FAILED',
      detail: 'token endpoint: HTTP 502',
    });
  });

  test('the session ends at the ID token exp, not after expires_in', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const idToken = `${part({ alg: 'none' })}.${part({ exp: 1_700_000_300 })}.sig`;
    expect(
      parseTokenResponse({ id_token: idToken, expires_in: 3600 }, 1_700_000_000_000).expiresAtMs,
    ).toBe(1_700_000_300_000);
  });

  test('the user name shown is the ID token cognito:username, else email, else "sso"', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = (claims: object) => `${part({ alg: 'none' })}.${part(claims)}.sig`;
    const name = (claims: object) => parseTokenResponse({ id_token: token(claims) }, 0).username;
    expect(name({ 'cognito:username': 'ana', email: 'ana@example.org' })).toBe('ana');
    expect(name({ email: 'ana@example.org' })).toBe('ana@example.org');
    expect(name({ email: '  ' })).toBe('sso');
    expect(name({ 'cognito:username': 42 })).toBe('sso');
    expect(parseTokenResponse({ id_token: 'not-a-jwt' }, 0).username).toBe('sso');
  });
});
