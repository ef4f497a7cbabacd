/**
 * The Model A key file: a JWK (RFC 7517) that the official ESDK raw AES keyring can use too.
 *
 *   {"kty":"oct","k":"<base64url key>","kid":"<key name>","alg":"A256GCMKW","namespace":"veil"}
 *
 * `kid` is the raw AES key name and `namespace` the key namespace (provider id), `veil` when
 * absent. `alg` (A128GCMKW / A192GCMKW / A256GCMKW: AES-GCM key wrapping) is written for clarity
 * and, when present, must match the key length. Pure: parsing and serializing only.
 */
import { fromBase64, toBase64Url } from './bytes';
import { VeilError, needs } from './errors';

/** The default raw AES key namespace of Veil keys. */
export const DEFAULT_KEY_NAMESPACE = 'veil';

/** A parsed key file. `keyBytes` is secret: zero it once imported. */
export interface RawAesKeyMaterial {
  readonly keyBytes: Uint8Array;
  readonly keyName: string;
  readonly keyNamespace: string;
}

const ALG_BY_BYTES: Readonly<Record<number, string>> = {
  16: 'A128GCMKW',
  24: 'A192GCMKW',
  32: 'A256GCMKW',
};

/**
 * Parses a key file's JSON text.
 * @throws VeilError KEY_FILE_INVALID (the detail names the field, never the key).
 */
export function parseKeyFile(text: string): RawAesKeyMaterial {
  // Precondition: JSON text.
  needs(typeof text === 'string', 'BAD_ARGUMENT', 'key file text');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VeilError('KEY_FILE_INVALID', 'not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VeilError('KEY_FILE_INVALID', 'not a JSON object');
  }
  const jwk = json as Record<string, unknown>;
  if (jwk.kty !== 'oct') throw new VeilError('KEY_FILE_INVALID', '"kty" must be "oct"');
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) {
    throw new VeilError('KEY_FILE_INVALID', '"kid" (the key name) is missing');
  }
  const keyNamespace = jwk.namespace ?? DEFAULT_KEY_NAMESPACE;
  if (typeof keyNamespace !== 'string' || keyNamespace.length === 0) {
    throw new VeilError('KEY_FILE_INVALID', '"namespace" must be a non-empty string');
  }
  if (typeof jwk.k !== 'string' || !/^[A-Za-z0-9_-]+$/.test(jwk.k)) {
    throw new VeilError('KEY_FILE_INVALID', '"k" must be base64url');
  }
  const keyBytes = fromBase64(jwk.k, '"k"');
  const alg = ALG_BY_BYTES[keyBytes.length];
  if (alg === undefined) {
    keyBytes.fill(0);
    throw new VeilError('KEY_FILE_INVALID', '"k" must hold 16, 24 or 32 bytes');
  }
  if (jwk.alg !== undefined && jwk.alg !== alg && jwk.alg !== alg.replace('KW', '')) {
    keyBytes.fill(0);
    throw new VeilError(
      'KEY_FILE_INVALID',
      `"alg" does not match a ${keyBytes.length * 8}-bit key`,
    );
  }
  return { keyBytes, keyName: jwk.kid, keyNamespace };
}

/**
 * Serializes a key as key file JSON (with a trailing newline).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for a missing name or a key not 16/24/32 bytes.
 */
export function serializeKeyFile(key: RawAesKeyMaterial): string {
  // Precondition: 16, 24 or 32 key bytes and non-empty names.
  needs(key.keyBytes instanceof Uint8Array, 'BAD_ARGUMENT', 'keyBytes');
  const alg = ALG_BY_BYTES[key.keyBytes.length];
  needs(alg !== undefined, 'OUT_OF_RANGE', 'keyBytes must be 16, 24 or 32 bytes');
  needs(typeof key.keyName === 'string' && key.keyName.length > 0, 'BAD_ARGUMENT', 'keyName');
  needs(
    typeof key.keyNamespace === 'string' && key.keyNamespace.length > 0,
    'BAD_ARGUMENT',
    'keyNamespace',
  );
  const jwk = {
    kty: 'oct',
    kid: key.keyName,
    alg,
    k: toBase64Url(key.keyBytes),
    namespace: key.keyNamespace,
  };
  return `${JSON.stringify(jwk, null, 2)}\n`;
}
