/** The Model A key file (JWK): parse, serialize, and refuse what is not a key. */
import { describe, expect, it } from 'vitest';
import { parseKeyFile, serializeKeyFile } from '../../../src/core/key-file';
import { expectThrowsCode, testKeyBytes } from './helpers';

describe('key file', () => {
  it.each([128, 192, 256] as const)('round-trips a %i-bit key with A*GCMKW', (bits) => {
    const text = serializeKeyFile({
      keyBytes: testKeyBytes(bits),
      keyName: 'team key',
      keyNamespace: 'veil',
    });
    const jwk = JSON.parse(text) as Record<string, string>;
    expect(jwk).toMatchObject({
      kty: 'oct',
      kid: 'team key',
      alg: `A${bits}GCMKW`,
      namespace: 'veil',
    });
    expect(jwk.k).toMatch(/^[A-Za-z0-9_-]+$/);
    const parsed = parseKeyFile(text);
    expect(parsed.keyBytes).toEqual(testKeyBytes(bits));
    expect(parsed.keyName).toBe('team key');
  });
  it('defaults the namespace to veil and accepts A256GCM or no alg', () => {
    const k = Buffer.from(testKeyBytes(256)).toString('base64url');
    expect(parseKeyFile(JSON.stringify({ kty: 'oct', k, kid: 'x' })).keyNamespace).toBe('veil');
    expect(
      parseKeyFile(JSON.stringify({ kty: 'oct', k, kid: 'x', alg: 'A256GCM', namespace: 'ns' }))
        .keyNamespace,
    ).toBe('ns');
  });
  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['kty', JSON.stringify({ kty: 'RSA', k: 'AAAA', kid: 'x' })],
    ['kid missing', JSON.stringify({ kty: 'oct', k: 'AAAA' })],
    ['k not base64url', JSON.stringify({ kty: 'oct', k: 'AA+A', kid: 'x' })],
    [
      'k of 20 bytes',
      JSON.stringify({ kty: 'oct', k: Buffer.alloc(20).toString('base64url'), kid: 'x' }),
    ],
    [
      'alg mismatch',
      JSON.stringify({
        kty: 'oct',
        k: Buffer.alloc(16).toString('base64url'),
        kid: 'x',
        alg: 'A256GCMKW',
      }),
    ],
    [
      'empty namespace',
      JSON.stringify({
        kty: 'oct',
        k: Buffer.alloc(16).toString('base64url'),
        kid: 'x',
        namespace: '',
      }),
    ],
  ])('refuses %s (KEY_FILE_INVALID)', (_name, text) => {
    expectThrowsCode(() => parseKeyFile(text), 'KEY_FILE_INVALID');
  });
  it('never puts the key in an error message', () => {
    const k = Buffer.from(testKeyBytes(128)).toString('base64url');
    try {
      parseKeyFile(JSON.stringify({ kty: 'oct', k, kid: 'x', alg: 'A256GCMKW' }));
    } catch (error) {
      expect(String(error)).not.toContain(k);
    }
  });
});
