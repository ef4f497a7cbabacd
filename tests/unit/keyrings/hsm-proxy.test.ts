/**
 * The Model B keyring against a scripted fetch: URL rules, retries on busy answers, and which
 * proxy answers end a decryption and which move on to the next EDK. The real proxy is exercised
 * by tests/integration/hsm-keyring.test.ts and tests/e2e/hsm-browser.spec.ts.
 */
import { describe, expect, test } from 'vitest';
import { HSM_PROVIDER_ID, HsmProxyKeyring } from '../../../src/keyrings/hsm-proxy';
import type { EncryptedDataKey } from '../../../src/core/keyring';

type Answer = { status: number; body: Record<string, unknown> } | 'network-error';

function scripted(answers: Answer[]) {
  const seen: { url: string; body: Record<string, unknown> }[] = [];
  const fetcher = (url: string, init?: { body?: string }): Promise<Response> => {
    seen.push({ url, body: JSON.parse(init?.body ?? '{}') as Record<string, unknown> });
    const answer = answers.shift();
    if (!answer) throw new Error('no scripted answer left');
    if (answer === 'network-error') return Promise.reject(new TypeError('fetch failed'));
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status }));
  };
  return { fetcher: fetcher as unknown as typeof fetch, seen };
}

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const edk = (label: string): EncryptedDataKey => ({
  providerId: HSM_PROVIDER_ID,
  providerInfo: new TextEncoder().encode(label),
  ciphertext: new Uint8Array(60),
});
const request = (edks: EncryptedDataKey[]) => ({
  suiteId: 0x0478 as const,
  encryptionContext: { a: 'b' },
  encryptedDataKeys: edks,
});

describe('HsmProxyKeyring', () => {
  test('needs https, except on loopback', () => {
    const idToken = () => 't';
    expect(() => new HsmProxyKeyring({ proxyUrl: 'http://hsm.example.org', idToken })).toThrow(
      /https/,
    );
    expect(() => new HsmProxyKeyring({ proxyUrl: 'ftp://127.0.0.1', idToken })).toThrow(/https/);
    expect(() => new HsmProxyKeyring({ proxyUrl: 'http://127.0.0.1:8787', idToken })).not.toThrow();
    expect(
      () =>
        new HsmProxyKeyring({
          proxyUrl: 'https://hsm.example.org',
          keyLabel: 'bad label',
          idToken,
        }),
    ).toThrow(expect.objectContaining({ code: 'KEYRING_INVALID' }) as Error);
  });

  test('retries a busy proxy and a lost request, then sends the AAD of the context', async () => {
    const { fetcher, seen } = scripted([
      { status: 429, body: { error: 'RATE_LIMITED' } },
      'network-error',
      {
        status: 200,
        body: { keyLabel: 'k', plaintext: key(1), wrapped: Buffer.alloc(60, 2).toString('base64') },
      },
    ]);
    const keyring = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      keyLabel: 'k',
      idToken: () => 't',
      fetch: fetcher,
    });
    const result = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: { a: 'b' } });
    expect(Buffer.from(result.dataKey)).toEqual(Buffer.alloc(32, 1));
    expect(result.encryptedDataKeys[0]?.providerId).toBe(HSM_PROVIDER_ID);
    expect(seen).toHaveLength(3);
    // serialize({a: 'b'}) = 00 01 | 00 01 'a' | 00 01 'b'
    expect(Buffer.from(seen[2]?.body.aad as string, 'base64')).toEqual(
      Buffer.from([0, 1, 0, 1, 97, 0, 1, 98]),
    );
  });

  test('moves past EDKs it may not open and reports the last refusal when none opens', async () => {
    const { fetcher, seen } = scripted([
      { status: 403, body: { error: 'FORBIDDEN_LABEL' } },
      { status: 200, body: { keyLabel: 'b', plaintext: key(3) } },
    ]);
    const keyring = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      idToken: () => 't',
      fetch: fetcher,
    });
    const opened = await keyring.onDecrypt(request([edk('a'), edk('b')]));
    expect(Buffer.from(opened ?? [])).toEqual(Buffer.alloc(32, 3));
    expect(seen.map((call) => call.body.keyLabel)).toEqual(['a', 'b']);

    const refusing = scripted([
      { status: 400, body: { error: 'UNWRAP_FAILED' } },
      { status: 404, body: { error: 'KEY_NOT_FOUND' } },
    ]);
    const other = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      idToken: () => 't',
      fetch: refusing.fetcher,
    });
    await expect(other.onDecrypt(request([edk('a'), edk('b')]))).rejects.toMatchObject({
      code: 'HSM_KEY_NOT_FOUND',
    });
  });

  test('stops at once on a refused sign-in, and ignores files without HSM EDKs', async () => {
    const { fetcher, seen } = scripted([{ status: 401, body: { error: 'TOKEN_EXPIRED' } }]);
    const keyring = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      idToken: () => 't',
      fetch: fetcher,
    });
    await expect(keyring.onDecrypt(request([edk('a'), edk('b')]))).rejects.toMatchObject({
      code: 'HSM_UNAUTHENTICATED',
    });
    expect(seen).toHaveLength(1);
    const raw: EncryptedDataKey = {
      providerId: 'veil',
      providerInfo: new Uint8Array(1),
      ciphertext: new Uint8Array(48),
    };
    expect(await keyring.onDecrypt(request([raw]))).toBeUndefined();
  });

  test('refuses a proxy answer with a data key of the wrong size', async () => {
    const { fetcher } = scripted([
      { status: 200, body: { keyLabel: 'a', plaintext: Buffer.alloc(16).toString('base64') } },
    ]);
    const keyring = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      idToken: () => 't',
      fetch: fetcher,
    });
    await expect(keyring.onDecrypt(request([edk('a')]))).rejects.toMatchObject({
      code: 'HSM_INVALID_RESPONSE',
    });
  });
  test('accepts owner-bound 80-byte wraps, moves past another owner’s EDK, and names the refusal', async () => {
    const bound = (fill: number): EncryptedDataKey => ({
      ...edk('k'),
      ciphertext: new Uint8Array(80).fill(fill),
    });
    const { fetcher, seen } = scripted([
      { status: 403, body: { error: 'NOT_KEY_OWNER', message: 'another user' } },
      { status: 200, body: { keyLabel: 'k', plaintext: key(5) } },
      { status: 403, body: { error: 'NOT_KEY_OWNER', message: 'another user' } },
      { status: 403, body: { error: 'LEGACY_WRAP_REFUSED', message: 'legacy' } },
    ]);
    const keyring = new HsmProxyKeyring({
      proxyUrl: 'https://hsm.test',
      idToken: () => 't',
      fetch: fetcher,
    });
    const opened = await keyring.onDecrypt(request([bound(1), bound(2)]));
    expect(Buffer.from(opened ?? [])).toEqual(Buffer.alloc(32, 5));
    expect(seen).toHaveLength(2);
    await expect(keyring.onDecrypt(request([bound(3), edk('k')]))).rejects.toMatchObject({
      code: 'HSM_NOT_OWNER',
    });
  });
});
