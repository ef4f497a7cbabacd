/**
 * `veil encrypt` and `veil decrypt`: file to file through the core's streams, with flat memory
 * (one read chunk plus one frame in flight) and an atomic output that never replaces an
 * existing file unless `force` is set.
 */
import { access, stat } from 'node:fs/promises';
import { createDecryptStream } from '../core/decrypt-stream';
import { createEncryptStream } from '../core/encrypt-stream';
import type { EncryptionContext } from '../core/encryption-context';
import { VeilError } from '../core/errors';
import { unpadWhenMarked } from '../core/unpad';
import { readFileStream, writeAtomically } from './files';
import { cliKeyring, explainDecryptFailure, type KeyringFlags } from './keyrings';

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
 * Refuses an existing OUT before any work is done (no key is loaded, no KMS call made).
 * @throws VeilError OUTPUT_EXISTS.
 */
async function refuseExisting(outPath: string): Promise<void> {
  const exists = await access(outPath).then(
    () => true,
    () => false,
  );
  if (exists) throw new VeilError('OUTPUT_EXISTS', outPath);
}

/**
 * Writes OUT atomically (see writeAtomically). Without `force` the finished file is linked into
 * place, so an OUT that appeared meanwhile is still not replaced; with `force` it is renamed
 * over an existing OUT.
 * @throws VeilError OUTPUT_EXISTS when OUT exists at the end and `force` is not set.
 */
async function writeOutput(
  outPath: string,
  force: boolean,
  mode: number,
  produce: (sink: WritableStream<Uint8Array>) => Promise<void>,
): Promise<void> {
  try {
    await writeAtomically(outPath, produce, mode, { noOverwrite: !force });
  } catch (error) {
    if (!force && (error as { code?: unknown } | null)?.code === 'EEXIST') {
      throw new VeilError('OUTPUT_EXISTS', outPath, { cause: error });
    }
    throw error;
  }
}

/**
 * Encrypts IN to OUT as a framed 0x0478 message.
 * @throws VeilError OUTPUT_EXISTS without `force`; from the key files, the core, or IO_FAILED.
 */
export async function encryptFile(options: {
  readonly keys: KeyringFlags;
  readonly inPath: string;
  readonly outPath: string;
  readonly frameBytes: number | undefined;
  readonly encryptionContext: EncryptionContext;
  /** Replace an existing OUT. */
  readonly force: boolean;
}): Promise<void> {
  const plaintextBytes = await inputBytes(options.inPath);
  if (!options.force) await refuseExisting(options.outPath);
  const { keyring, close } = await cliKeyring('encrypt', options.keys);
  try {
    const encryptor = createEncryptStream({
      keyring,
      encryptionContext: options.encryptionContext,
      frameBytes: options.frameBytes,
      plaintextBytes,
    });
    await writeOutput(options.outPath, options.force, 0o644, (sink) =>
      readFileStream(options.inPath).pipeThrough(encryptor).pipeTo(sink),
    );
  } finally {
    close();
  }
}

/**
 * Decrypts IN to OUT (mode 0600); OUT appears only if the whole message authenticated. A padded
 * message ([Note: size padding] in core/padding.ts) is written without its padding.
 * @throws VeilError OUTPUT_EXISTS without `force`; NO_KEY_GIVEN when no key was given and KMS
 *   discovery opens none; from the key files, the core, or IO_FAILED.
 */
export async function decryptFile(options: {
  readonly keys: KeyringFlags;
  readonly inPath: string;
  readonly outPath: string;
  /** Replace an existing OUT. */
  readonly force: boolean;
}): Promise<void> {
  await inputBytes(options.inPath);
  if (!options.force) await refuseExisting(options.outPath);
  const { keyring, close } = await cliKeyring('decrypt', options.keys);
  try {
    // Plaintext is written owner-only (0600): it was worth encrypting.
    const unpad = unpadWhenMarked();
    await writeOutput(options.outPath, options.force, 0o600, (sink) =>
      readFileStream(options.inPath)
        .pipeThrough(createDecryptStream({ keyring, onHeader: unpad.onHeader }))
        .pipeThrough(unpad.stream)
        .pipeTo(sink),
    );
  } catch (error) {
    throw explainDecryptFailure(error, options.keys);
  } finally {
    close();
  }
}
