/**
 * `veil encrypt` and `veil decrypt`: file to file through the core's streams, with flat memory
 * (one read chunk plus one frame in flight) and an atomic output.
 */
import { stat } from 'node:fs/promises';
import { createDecryptStream } from '../core/decrypt-stream';
import { createEncryptStream } from '../core/encrypt-stream';
import type { EncryptionContext } from '../core/encryption-context';
import { VeilError } from '../core/errors';
import { readFileStream, writeAtomically } from './files';
import { cliKeyring, type KeyringFlags } from './keyrings';

async function inputBytes(inPath: string): Promise<number> {
  try {
    const info = await stat(inPath);
    if (!info.isFile()) throw new VeilError('IO_FAILED', `${inPath} is not a file`);
    return info.size;
  } catch (cause) {
    if (cause instanceof VeilError) throw cause;
    throw new VeilError('IO_FAILED', `cannot read ${inPath}`, { cause });
  }
}

/**
 * Encrypts IN to OUT as a framed 0x0478 message.
 * @throws VeilError from the key file, the core, or IO_FAILED.
 */
export async function encryptFile(options: {
  readonly keys: KeyringFlags;
  readonly inPath: string;
  readonly outPath: string;
  readonly frameBytes: number | undefined;
  readonly encryptionContext: EncryptionContext;
}): Promise<void> {
  const plaintextBytes = await inputBytes(options.inPath);
  const { keyring, close } = await cliKeyring('encrypt', options.keys);
  try {
    const encryptor = createEncryptStream({
      keyring,
      encryptionContext: options.encryptionContext,
      frameBytes: options.frameBytes,
      plaintextBytes,
    });
    await writeAtomically(options.outPath, (sink) =>
      readFileStream(options.inPath).pipeThrough(encryptor).pipeTo(sink),
    );
  } finally {
    close();
  }
}

/**
 * Decrypts IN to OUT (mode 0600); OUT appears only if the whole message authenticated.
 * @throws VeilError from the key file, the core, or IO_FAILED.
 */
export async function decryptFile(options: {
  readonly keys: KeyringFlags;
  readonly inPath: string;
  readonly outPath: string;
}): Promise<void> {
  await inputBytes(options.inPath);
  const { keyring, close } = await cliKeyring('decrypt', options.keys);
  try {
    // Plaintext is written owner-only (0600): it was worth encrypting.
    await writeAtomically(
      options.outPath,
      (sink) =>
        readFileStream(options.inPath).pipeThrough(createDecryptStream({ keyring })).pipeTo(sink),
      0o600,
    );
  } finally {
    close();
  }
}
