/**
 * `--private-key-file KEY.pem|BACKUP.jwe`: opens files shared with a person on the command line.
 * The file is the person's RSA private key as PKCS#8 PEM (what the app's "Export private key"
 * writes, or `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096`), or the app's
 * passphrase backup of it ([Note: key pair backup] in src/keyrings/rsa-backup.ts), opened with
 * VEIL_KEY_PASSPHRASE or a prompt. The keyring answers for the EDK named by the key's own
 * fingerprint ([Note: a person's key] in src/core/provider-info.ts), so a file shared with
 * someone else fails NO_MATCHING_EDK and names the keys it needs.
 */
import { readFile } from 'node:fs/promises';
import { VeilError } from '../core/errors';
import { RawRsaKeyring } from '../keyrings/raw-rsa';
import { isKeyPairBackup, openKeyPairBackup } from '../keyrings/rsa-backup';
import { importPrivateKey, pemToPkcs8, type PersonKeyPair } from '../keyrings/rsa-keys';
import { decodeProtectedHeader } from 'jose';
import { backupPassphrase } from './passphrase';

/** The key pair in a private key file's text (PEM, or a key pair backup). */
async function keyPairOf(path: string, text: string): Promise<PersonKeyPair> {
  const trimmed = text.trim();
  if (isKeyPairBackup(trimmed)) {
    const kid = decodeProtectedHeader(trimmed).kid;
    const passphrase = await backupPassphrase(path, typeof kid === 'string' ? kid : undefined);
    return (await openKeyPairBackup(trimmed, passphrase)).pair;
  }
  const pkcs8 = pemToPkcs8(text);
  try {
    return await importPrivateKey(pkcs8);
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Reads a private key file: the key pair (private key non-extractable, public key, fingerprint).
 * @throws VeilError IO_FAILED when the file cannot be read; PRIVATE_KEY_INVALID when it is not an
 *   RSA private key (PKCS#8 PEM) of >= 2048 bits; the backup errors (BACKUP_INVALID,
 *   BACKUP_WRONG_PASSPHRASE, PASSPHRASE_NEEDED).
 */
export async function loadKeyPair(path: string): Promise<PersonKeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new VeilError('IO_FAILED', `cannot read private key file ${path}`, { cause });
  }
  return keyPairOf(path, text);
}

/**
 * Reads a private key file and builds the raw RSA keyring that opens what was shared with it.
 * @throws the errors of loadKeyPair.
 */
export async function loadPrivateKeyKeyring(path: string): Promise<RawRsaKeyring> {
  const pair = await loadKeyPair(path);
  return new RawRsaKeyring({ keyName: pair.fingerprint, privateKey: pair.privateKey });
}
