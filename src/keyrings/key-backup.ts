/**
 * [Note: key backup format] A passphrase-protected backup of a Model A key is a JWE (RFC 7516)
 * in compact serialization that any JOSE library or tool can open with the passphrase:
 *
 * - key management `PBES2-HS256+A128KW` (RFC 7518 §4.8: PBKDF2-HMAC-SHA256 over the passphrase's
 *   UTF-8 bytes, 16 random salt bytes, `p2c` iterations, then AES key wrap of the content key),
 * - content encryption `A256GCM`,
 * - content type `jwk+json`: the payload is the key file itself (src/core/key-file.ts), so what
 *   comes out is a key file the official ESDK raw AES keyring can use too,
 * - the key name as `kid` in the protected header (not secret: every object's EDK names it too),
 *   so an import can say which key a backup holds before asking for the passphrase.
 *
 * It is the format smallstep's `step crypto jwe decrypt` and `jose` (npm) read as they are.
 * `p2c` is 600,000 (OWASP's figure for PBKDF2-HMAC-SHA256); imports accept up to 10,000,000
 * so backups made elsewhere with more iterations open too. Pure: jose on WebCrypto, no DOM
 * or Node, so the app's Keys view and the command line (src/cli/key-files.ts) share it.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, errors } from 'jose';
import { fromUtf8, utf8 } from '../core/bytes';
import { VeilError, needs } from '../core/errors';
import { parseKeyFile, serializeKeyFile, type RawAesKeyMaterial } from '../core/key-file';

export const BACKUP_KEY_ALGORITHM = 'PBES2-HS256+A128KW';
export const BACKUP_CONTENT_ALGORITHM = 'A256GCM';
export const BACKUP_CONTENT_TYPE = 'jwk+json';
/** PBKDF2 iterations written into new backups. */
export const BACKUP_ITERATIONS = 600_000;
/** The most iterations an import accepts (a bound on the work a crafted file can demand). */
export const MAX_BACKUP_ITERATIONS = 10_000_000;
/** The shortest passphrase a new backup accepts, in characters. */
export const MIN_PASSPHRASE_CHARS = 12;

const ACCEPTED_KEY_ALGORITHMS = ['PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW'];
const ACCEPTED_CONTENT_ALGORITHMS = ['A128GCM', 'A192GCM', 'A256GCM'];

/** What a backup says about itself before it is opened. */
export interface BackupSummary {
  /** The key name recorded in the header, if any. */
  readonly keyName: string | undefined;
  readonly keyAlgorithm: string;
  readonly iterations: number;
}

/**
 * Encrypts a key file under a passphrase. Does not zero `key.keyBytes` (the caller owns them).
 * @throws VeilError BACKUP_PASSPHRASE_WEAK for a passphrase under MIN_PASSPHRASE_CHARS;
 *   BAD_ARGUMENT / OUT_OF_RANGE for a bad key (see serializeKeyFile) or iteration count.
 */
export async function createBackup(
  key: RawAesKeyMaterial,
  passphrase: string,
  iterations: number = BACKUP_ITERATIONS,
): Promise<string> {
  // Precondition: a passphrase long enough to resist guessing, and a sane iteration count.
  needs(typeof passphrase === 'string', 'BAD_ARGUMENT', 'passphrase');
  needs([...passphrase].length >= MIN_PASSPHRASE_CHARS, 'BACKUP_PASSPHRASE_WEAK');
  needs(
    Number.isSafeInteger(iterations) && iterations >= 1000 && iterations <= MAX_BACKUP_ITERATIONS,
    'OUT_OF_RANGE',
    'iterations',
  );
  const payload = utf8(serializeKeyFile(key));
  const secret = utf8(passphrase);
  try {
    return await new CompactEncrypt(payload)
      .setProtectedHeader({
        alg: BACKUP_KEY_ALGORITHM,
        enc: BACKUP_CONTENT_ALGORITHM,
        cty: BACKUP_CONTENT_TYPE,
        kid: key.keyName,
      })
      .setKeyManagementParameters({ p2c: iterations })
      .encrypt(secret);
  } finally {
    payload.fill(0);
    secret.fill(0);
  }
}

/**
 * Reads a backup's header without the passphrase.
 * @throws VeilError BACKUP_INVALID when the text is not a PBES2 JWE.
 */
export function describeBackup(text: string): BackupSummary {
  needs(typeof text === 'string', 'BAD_ARGUMENT', 'backup text');
  let header;
  try {
    header = decodeProtectedHeader(text.trim());
  } catch (cause) {
    throw new VeilError('BACKUP_INVALID', 'not a JWE', { cause });
  }
  const { alg, p2c, kid } = header;
  if (typeof alg !== 'string' || !ACCEPTED_KEY_ALGORITHMS.includes(alg)) {
    throw new VeilError('BACKUP_INVALID', `key algorithm ${String(alg)}`);
  }
  if (typeof p2c !== 'number' || !Number.isSafeInteger(p2c) || p2c < 1) {
    throw new VeilError('BACKUP_INVALID', '"p2c" is missing');
  }
  if (p2c > MAX_BACKUP_ITERATIONS) {
    throw new VeilError('BACKUP_INVALID', `"p2c" ${p2c} is above ${MAX_BACKUP_ITERATIONS}`);
  }
  return { keyName: typeof kid === 'string' ? kid : undefined, keyAlgorithm: alg, iterations: p2c };
}

/**
 * Opens a backup with its passphrase and parses the key file inside. The caller owns (and must
 * zero) the returned key bytes.
 * @throws VeilError BACKUP_INVALID for something else than a PBES2 JWE of a key file;
 *   BACKUP_WRONG_PASSPHRASE when the passphrase does not open it (or it was altered).
 */
export async function openBackup(text: string, passphrase: string): Promise<RawAesKeyMaterial> {
  needs(typeof passphrase === 'string', 'BAD_ARGUMENT', 'passphrase');
  describeBackup(text);
  const secret = utf8(passphrase);
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(text.trim(), secret, {
      keyManagementAlgorithms: ACCEPTED_KEY_ALGORITHMS,
      contentEncryptionAlgorithms: ACCEPTED_CONTENT_ALGORITHMS,
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
  try {
    return parseKeyFile(fromUtf8(plaintext, 'backup payload'));
  } catch (cause) {
    throw new VeilError('BACKUP_INVALID', 'the payload is not a key file', { cause });
  } finally {
    plaintext.fill(0);
  }
}
