/**
 * [Note: key pair backup] The passphrase backup of a person's private key is the same kind of
 * JWE as a Model A key backup ([Note: key backup format] in key-backup.ts: PBES2-HS256+A128KW with
 * 600,000 PBKDF2 iterations, A256GCM), whose payload is the private key as PKCS#8 PEM (content
 * type `pkcs8+pem`) and whose `kid` is the public key's fingerprint (not secret: the people
 * directory shows it). So `jose` or `step crypto jwe decrypt` open it with the passphrase, and
 * what comes out is the PEM that `veil decrypt --private-key-file` and client-node's
 * RawRsaKeyringNode take. The app keeps this backup beside the non-extractable private key, so
 * "Export private key" needs the passphrase again and never reads the CryptoKey back.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, errors } from 'jose';
import { fromUtf8, utf8 } from '../core/bytes';
import { VeilError, needs } from '../core/errors';
import { isFingerprint } from '../core/provider-info';
import {
  BACKUP_CONTENT_ALGORITHM,
  BACKUP_ITERATIONS,
  BACKUP_KEY_ALGORITHM,
  MAX_BACKUP_ITERATIONS,
  MIN_PASSPHRASE_CHARS,
  describeBackup,
} from './key-backup';
import { importPrivateKey, pemToPkcs8, pkcs8ToPem, type PersonKeyPair } from './rsa-keys';

/** The content type of a key pair backup. */
export const KEY_PAIR_BACKUP_CONTENT_TYPE = 'pkcs8+pem';

/**
 * Encrypts a private key (PKCS#8 DER) under a passphrase. Does not zero `pkcs8`.
 * @throws VeilError BACKUP_PASSPHRASE_WEAK for a passphrase under 12 characters; BAD_ARGUMENT
 *   for a fingerprint that is not 64 hex digits.
 */
export async function createKeyPairBackup(
  pkcs8: Uint8Array,
  fingerprint: string,
  passphrase: string,
  iterations: number = BACKUP_ITERATIONS,
): Promise<string> {
  // Precondition: a long enough passphrase and the key's fingerprint.
  needs(typeof passphrase === 'string', 'BAD_ARGUMENT', 'passphrase');
  needs([...passphrase].length >= MIN_PASSPHRASE_CHARS, 'BACKUP_PASSPHRASE_WEAK');
  needs(isFingerprint(fingerprint), 'BAD_ARGUMENT', 'fingerprint');
  needs(
    Number.isSafeInteger(iterations) && iterations >= 1000 && iterations <= MAX_BACKUP_ITERATIONS,
    'OUT_OF_RANGE',
    'iterations',
  );
  const payload = utf8(pkcs8ToPem(pkcs8));
  const secret = utf8(passphrase);
  try {
    return await new CompactEncrypt(payload)
      .setProtectedHeader({
        alg: BACKUP_KEY_ALGORITHM,
        enc: BACKUP_CONTENT_ALGORITHM,
        cty: KEY_PAIR_BACKUP_CONTENT_TYPE,
        kid: fingerprint,
      })
      .setKeyManagementParameters({ p2c: iterations })
      .encrypt(secret);
  } finally {
    payload.fill(0);
    secret.fill(0);
  }
}

/** True when the text is a JWE whose header says it holds a private key (no passphrase asked). */
export function isKeyPairBackup(text: string): boolean {
  try {
    describeBackup(text);
    return decodeProtectedHeader(text.trim()).cty === KEY_PAIR_BACKUP_CONTENT_TYPE;
  } catch {
    return false;
  }
}

/**
 * Opens a key pair backup with its passphrase: the private key's PEM (secret: the caller drops
 * it as soon as it can) and, imported from it, the non-extractable key pair.
 * @throws VeilError BACKUP_INVALID when the text is not a key pair backup; BACKUP_WRONG_PASSPHRASE;
 *   PRIVATE_KEY_INVALID when what it holds is not an RSA private key, or not the one its `kid`
 *   names.
 */
export async function openKeyPairBackup(
  text: string,
  passphrase: string,
): Promise<{ readonly pem: string; readonly pair: PersonKeyPair }> {
  needs(typeof passphrase === 'string', 'BAD_ARGUMENT', 'passphrase');
  describeBackup(text);
  const header = decodeProtectedHeader(text.trim());
  if (header.cty !== KEY_PAIR_BACKUP_CONTENT_TYPE) {
    throw new VeilError('BACKUP_INVALID', 'it holds no private key');
  }
  const secret = utf8(passphrase);
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(text.trim(), secret, {
      keyManagementAlgorithms: ['PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW'],
      contentEncryptionAlgorithms: ['A128GCM', 'A192GCM', 'A256GCM'],
      maxPBES2Count: MAX_BACKUP_ITERATIONS,
    }));
  } catch (cause) {
    if (cause instanceof errors.JWEDecryptionFailed) {
      throw new VeilError('BACKUP_WRONG_PASSPHRASE', undefined, { cause });
    }
    throw new VeilError('BACKUP_INVALID', cause instanceof Error ? cause.name : undefined, {
      cause,
    });
  } finally {
    secret.fill(0);
  }
  const pem = fromUtf8(plaintext, 'backup payload');
  plaintext.fill(0);
  const pkcs8 = pemToPkcs8(pem);
  try {
    const pair = await importPrivateKey(pkcs8);
    if (typeof header.kid === 'string' && header.kid !== pair.fingerprint) {
      throw new VeilError('PRIVATE_KEY_INVALID', 'the backup names another key than it holds');
    }
    return { pem, pair };
  } finally {
    pkcs8.fill(0);
  }
}
