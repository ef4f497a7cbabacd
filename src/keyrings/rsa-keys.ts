/**
 * RSA key pairs for sharing with people, on WebCrypto only (the page, a worker, Node's
 * webcrypto): a new RSA-OAEP-4096 key pair, the fingerprint of a public key ([Note: a person's
 * key] in src/core/provider-info.ts), PKCS#8 PEM in and out, and a private key imported as a
 * non-extractable CryptoKey with the public key it belongs to.
 *
 * [Note: RSA-OAEP parameters] Every RSA key here is RSA-OAEP with SHA-256 as both the OAEP hash
 * and the MGF1 hash (WebCrypto has one `hash` for both), the parameters of the ESDK raw RSA
 * keyring's `OAEP_SHA256_MGF1` padding and of client-node's `RawRsaKeyringNode` with
 * `oaepHash: 'sha256'`. New keys are 4096 bits with exponent 65537; keys made elsewhere are
 * accepted from 2048 bits up.
 */
import { asBufferSource, fromBase64, toBase64, toHex } from '../core/bytes';
import { VeilError, needs } from '../core/errors';

/** The algorithm every key of a person is used with ([Note: RSA-OAEP parameters]). */
export const RSA_OAEP_SHA256 = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
/** Modulus bits of a new key pair. */
export const NEW_KEY_BITS = 4096;
/** The smallest modulus accepted from a key made elsewhere. */
export const MIN_KEY_BITS = 2048;

const PKCS8_LABEL = 'PRIVATE KEY';

/**
 * The fingerprint of a public key: SHA-256 of its SubjectPublicKeyInfo DER, as 64 lowercase hex
 * digits ([Note: a person's key]).
 * @throws VeilError BAD_ARGUMENT when `spki` is not bytes.
 */
export async function spkiFingerprint(spki: Uint8Array): Promise<string> {
  // Precondition: DER bytes.
  needs(spki instanceof Uint8Array && spki.length > 0, 'BAD_ARGUMENT', 'spki');
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(spki))));
}

/** Bits of an RSA CryptoKey's modulus. */
function modulusBits(key: CryptoKey): number {
  return (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
}

/**
 * Imports a public key (SPKI DER) for wrapping data keys, and checks it is RSA of at least 2048
 * bits.
 * @throws VeilError PERSON_ENTRY_INVALID when the bytes are not such a key.
 */
export async function importPublicKey(spki: Uint8Array): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', asBufferSource(spki), RSA_OAEP_SHA256, true, [
      'encrypt',
    ]);
  } catch (cause) {
    throw new VeilError('PERSON_ENTRY_INVALID', 'the public key is not an RSA key', { cause });
  }
  if (modulusBits(key) < MIN_KEY_BITS) {
    throw new VeilError('PERSON_ENTRY_INVALID', `a ${modulusBits(key)}-bit key is too short`);
  }
  return key;
}

/** A key pair of one person: the private key (non-extractable) and the public key it belongs to. */
export interface PersonKeyPair {
  readonly privateKey: CryptoKey;
  /** The public key as SubjectPublicKeyInfo DER. */
  readonly publicKeySpki: Uint8Array;
  /** spkiFingerprint(publicKeySpki). */
  readonly fingerprint: string;
}

/**
 * Imports a PKCS#8 RSA private key as a non-extractable decryption key, and derives its public key
 * (through an extractable copy that is dropped at once: WebCrypto gives a private key's public
 * half only as a JWK). The caller zeroes `pkcs8` when done.
 * @throws VeilError PRIVATE_KEY_INVALID when the bytes are not an RSA private key of >= 2048 bits.
 */
export async function importPrivateKey(pkcs8: Uint8Array): Promise<PersonKeyPair> {
  needs(pkcs8 instanceof Uint8Array, 'BAD_ARGUMENT', 'pkcs8');
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    const extractable = await crypto.subtle.importKey(
      'pkcs8',
      asBufferSource(pkcs8),
      RSA_OAEP_SHA256,
      true,
      ['decrypt'],
    );
    const jwk = await crypto.subtle.exportKey('jwk', extractable);
    publicKey = await crypto.subtle.importKey(
      'jwk',
      { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', ext: true },
      RSA_OAEP_SHA256,
      true,
      ['encrypt'],
    );
    privateKey = await crypto.subtle.importKey(
      'pkcs8',
      asBufferSource(pkcs8),
      RSA_OAEP_SHA256,
      false,
      ['decrypt'],
    );
  } catch (cause) {
    throw new VeilError('PRIVATE_KEY_INVALID', 'not an RSA private key in PKCS#8', { cause });
  }
  if (modulusBits(privateKey) < MIN_KEY_BITS) {
    throw new VeilError('PRIVATE_KEY_INVALID', `a ${modulusBits(privateKey)}-bit key`);
  }
  const publicKeySpki = new Uint8Array(await crypto.subtle.exportKey('spki', publicKey));
  return { privateKey, publicKeySpki, fingerprint: await spkiFingerprint(publicKeySpki) };
}

/** A new key pair and its private key's PKCS#8 bytes, for the one backup made at creation. */
export interface NewKeyPair extends PersonKeyPair {
  /** PKCS#8 DER of the private key: secret; the caller zeroes it once the backup is made. */
  readonly pkcs8: Uint8Array;
}

/**
 * Creates an RSA-OAEP-4096 key pair ([Note: RSA-OAEP parameters]). The private key returned is
 * non-extractable; its PKCS#8 bytes come along once, for the passphrase backup.
 */
export async function generateKeyPair(): Promise<NewKeyPair> {
  const pair = await crypto.subtle.generateKey(
    {
      ...RSA_OAEP_SHA256,
      modulusLength: NEW_KEY_BITS,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ['encrypt', 'decrypt'],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const imported = await importPrivateKey(pkcs8);
  return { ...imported, pkcs8 };
}

/** PKCS#8 DER as PEM text (`-----BEGIN PRIVATE KEY-----`, 64 characters a line). */
export function pkcs8ToPem(pkcs8: Uint8Array): string {
  const lines = toBase64(pkcs8).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${PKCS8_LABEL}-----\n${lines.join('\n')}\n-----END ${PKCS8_LABEL}-----\n`;
}

/**
 * The DER bytes of the first PKCS#8 block in PEM text. An RSA-only block (`BEGIN RSA PRIVATE
 * KEY`, PKCS#1) or an encrypted one is refused with what to do instead.
 * @throws VeilError PRIVATE_KEY_INVALID when there is no unencrypted PKCS#8 block.
 */
export function pemToPkcs8(pem: string): Uint8Array {
  needs(typeof pem === 'string', 'BAD_ARGUMENT', 'pem');
  if (pem.includes('BEGIN RSA PRIVATE KEY')) {
    throw new VeilError(
      'PRIVATE_KEY_INVALID',
      'PKCS#1; convert it with `openssl pkcs8 -topk8 -nocrypt`',
    );
  }
  if (pem.includes('BEGIN ENCRYPTED PRIVATE KEY')) {
    throw new VeilError(
      'PRIVATE_KEY_INVALID',
      'an encrypted PKCS#8 key; decrypt it with `openssl pkcs8`',
    );
  }
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!match?.[1]) throw new VeilError('PRIVATE_KEY_INVALID', 'no PKCS#8 PEM block');
  try {
    return fromBase64(match[1].replace(/\s+/g, ''), 'PEM body');
  } catch (cause) {
    throw new VeilError('PRIVATE_KEY_INVALID', 'the PEM body is not base64', { cause });
  }
}
