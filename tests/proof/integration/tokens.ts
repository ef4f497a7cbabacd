/**
 * ID tokens for refusal tests: signed with moto's own user-pool key (which the moto package
 * ships), so the HSM proxy's signature check passes and its expiry, audience, issuer and
 * token_use checks are what refuse them; or signed with a fresh key the proxy does not trust.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createSign, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Stack } from '../../../scripts/stack/stack';

/** What the tokens are made from: a file's stack (useLocalStack), without its processes. */
type TokenStack = Omit<Stack, 'services' | 'stop'>;

let motoKey: JsonWebKey | undefined;

/** moto's private user-pool JWK (n, e and d only). */
function motoPrivateJwk(): JsonWebKey {
  motoKey ??= JSON.parse(
    spawnSync(
      process.env.VEIL_PYTHON ?? 'python3',
      [
        '-c',
        "import json; from moto.utilities.utils import load_resource; print(json.dumps(load_resource('moto.cognitoidp.models', 'resources/jwks-private.json')))",
      ],
      { encoding: 'utf8' },
    ).stdout,
  ) as JsonWebKey;
  return motoKey;
}

/**
 * RS256 by hand: moto's JWK has no CRT parameters, which node:crypto will not import.
 * EMSA-PKCS1-v1_5 with SHA-256, then m^d mod n.
 */
export function rs256(data: Buffer, jwk: JsonWebKey): string {
  const big = (b64: string | undefined): bigint =>
    BigInt(`0x${Buffer.from(b64 ?? '', 'base64url').toString('hex')}`);
  const n = big(jwk.n);
  const d = big(jwk.d);
  const size = Buffer.from(jwk.n ?? '', 'base64url').length;
  const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(data).digest(),
  ]);
  const encoded = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.alloc(size - digestInfo.length - 3, 0xff),
    Buffer.from([0]),
    digestInfo,
  ]);
  let result = 1n;
  let base = BigInt(`0x${encoded.toString('hex')}`) % n;
  for (let exponent = d; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % n;
    base = (base * base) % n;
  }
  return Buffer.from(result.toString(16).padStart(size * 2, '0'), 'hex').toString('base64url');
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims of a demo-group ID token of the stack's pool, expired an hour ago unless overridden. */
function claims(stack: TokenStack, overrides: Record<string, unknown>): Record<string, unknown> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return {
    iss: `https://cognito-idp.${stack.config.region}.amazonaws.com/${stack.aws.userPoolId}`,
    sub: 'forged-sub',
    aud: stack.aws.userPoolClientId,
    token_use: 'id',
    iat: nowSeconds - 7200,
    exp: nowSeconds - 3600,
    'cognito:username': 'forged',
    'cognito:groups': ['veil-hsm-users'],
    ...overrides,
  };
}

/** A token signed with moto's user-pool key. */
export function motoSignedToken(stack: TokenStack, overrides: Record<string, unknown>): string {
  const input = `${b64({ alg: 'RS256', kid: 'dummy' })}.${b64(claims(stack, overrides))}`;
  return `${input}.${rs256(Buffer.from(input), motoPrivateJwk())}`;
}

/** A token with the pool's claims and moto's key id, signed with a key nobody trusts. */
export function foreignToken(stack: TokenStack, overrides: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64({ alg: 'RS256', kid: 'dummy' })}.${b64(claims(stack, overrides))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  return `${input}.${signature}`;
}
