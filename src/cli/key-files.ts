/**
 * Key files on disk for the command line: load one (a JWK key file, or a passphrase backup as
 * the app writes it, [Note: key backup format] in src/keyrings/key-backup.ts) into a raw AES
 * keyring; write a fresh one with mode 0600. The JWK format itself lives in the core
 * (src/core/key-file.ts).
 */
import { randomBytes } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { DEFAULT_KEY_NAMESPACE, parseKeyFile, serializeKeyFile } from '../core/key-file';
import type { RawAesKeyMaterial } from '../core/key-file';
import { VeilError } from '../core/errors';
import { describeBackup, openBackup } from '../keyrings/key-backup';
import { RawAesKeyring } from '../keyrings/raw-aes';
import { writeAtomically } from './files';
import { backupPassphrase } from './passphrase';

/** A JWE in compact serialization: five base64url parts, the second (encrypted key) may be empty. */
const COMPACT_JWE =
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The key material in a key file's text: a JWK as is, or a backup opened with its passphrase
 * (VEIL_KEY_PASSPHRASE, else a prompt on the terminal).
 * @throws VeilError KEY_FILE_INVALID, BACKUP_INVALID, BACKUP_WRONG_PASSPHRASE,
 *   PASSPHRASE_NEEDED.
 */
async function keyMaterial(keyFilePath: string, text: string): Promise<RawAesKeyMaterial> {
  const trimmed = text.trim();
  if (!COMPACT_JWE.test(trimmed)) return parseKeyFile(text);
  const { keyName } = describeBackup(trimmed);
  const passphrase = await backupPassphrase(keyFilePath, keyName);
  return openBackup(trimmed, passphrase);
}

/**
 * Reads a key file or a key backup and builds its keyring; the raw key bytes are zeroed once
 * imported.
 * @throws VeilError IO_FAILED when the file cannot be read, KEY_FILE_INVALID when it is not a
 *   key, and the backup errors of keyMaterial.
 */
export async function loadKeyring(keyFilePath: string): Promise<RawAesKeyring> {
  let text: string;
  try {
    text = await readFile(keyFilePath, 'utf8');
  } catch (cause) {
    throw new VeilError('IO_FAILED', `cannot read key file ${keyFilePath}`, { cause });
  }
  return RawAesKeyring.fromBytes(await keyMaterial(keyFilePath, text));
}

/**
 * Writes a fresh 256-bit key file (mode 0600); refuses to replace an existing file, also one
 * created while it runs (the new file is linked into place, which fails if the name exists).
 * @returns the key name written.
 * @throws VeilError IO_FAILED when the file exists or cannot be written.
 */
export async function writeNewKeyFile(
  outPath: string,
  keyName: string | undefined,
  keyNamespace: string | undefined,
): Promise<string> {
  // Drawn straight into the array zeroed below (a copy of randomBytes' Buffer would leave the key
  // in that Buffer).
  const keyBytes = crypto.getRandomValues(new Uint8Array(32));
  const name =
    keyName ?? `veil-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const text = serializeKeyFile({
    keyBytes,
    keyName: name,
    keyNamespace: keyNamespace ?? DEFAULT_KEY_NAMESPACE,
  });
  keyBytes.fill(0);
  const refuse = (cause?: unknown): VeilError =>
    new VeilError('IO_FAILED', `${outPath} exists; refusing to overwrite a key`, { cause });
  // Fail early when OUT exists; the no-overwrite link below is what makes it safe against a key
  // created in between.
  const exists = await access(outPath).then(
    () => true,
    () => false,
  );
  if (exists) throw refuse();
  try {
    await writeAtomically(
      outPath,
      async (sink) => {
        const bytes = new TextEncoder().encode(text);
        try {
          const writer = sink.getWriter();
          await writer.write(bytes);
          await writer.close();
        } finally {
          bytes.fill(0);
        }
      },
      0o600,
      { noOverwrite: true },
    );
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'EEXIST') throw refuse(error);
    throw error;
  }
  return name;
}

/**
 * The key name (`kid`) of a key file or backup, read without its passphrase: a backup names its
 * key in its protected header. Undefined for a backup that names none. Key bytes read from a JWK
 * are zeroed at once.
 * @throws VeilError IO_FAILED, KEY_FILE_INVALID or BACKUP_INVALID as loadKeyring would.
 */
export async function keyFileName(keyFilePath: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(keyFilePath, 'utf8');
  } catch (cause) {
    throw new VeilError('IO_FAILED', `cannot read key file ${keyFilePath}`, { cause });
  }
  const trimmed = text.trim();
  if (COMPACT_JWE.test(trimmed)) return describeBackup(trimmed).keyName;
  const material = parseKeyFile(text);
  material.keyBytes.fill(0);
  return material.keyName;
}
