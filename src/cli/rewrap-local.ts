/**
 * `veil rewrap FILE`: the keys of a local encrypted file changed in place, with the same core
 * rewrapHeader as the S3 engine ([Note: rewrap keeps the body] in core/rewrap-header.ts). The
 * header is read and opened, the new header is written to a temporary file beside FILE, the body
 * bytes after the old header are copied after it unchanged, and the temporary file is synced and
 * renamed over FILE (writeAtomically in files.ts). FILE keeps its mode. On any failure, or when
 * FILE changed while it was copied (its size or modification time), FILE is left as it was and
 * no temporary file stays. A symbolic link is followed: the file it points at is rewritten.
 */
import { open, realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { VeilError } from '../core/errors';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  tryParseHeader,
  type MessageHeader,
} from '../core/header';
import { keysNeeded, type NeededKey } from '../core/provider-info';
import { rewrapHeader } from '../core/rewrap-header';
import { escapeUntrusted } from '../core/untrusted-text';
import { writeAtomically } from './files';
import { formatBytes } from './progress-line';
import { modelOfProvider, type RewrapKeys } from './rewrap-keys';

/** Bytes read at a time while copying the body. */
const COPY_CHUNK_BYTES = 1024 * 1024;
/** First read for the header; grown until it parses. */
const FIRST_READ_BYTES = 64 * 1024;

/** The format errors that mean "this is not an ESDK message" rather than a damaged one. */
const NOT_A_MESSAGE = new Set(['UNSUPPORTED_VERSION', 'UNSUPPORTED_SUITE', 'MALFORMED']);

/** What the local side of `veil rewrap` is given. */
export interface RewrapLocalOptions {
  readonly keys: RewrapKeys;
  readonly path: string;
  readonly dryRun: boolean;
  readonly print: (line: string) => void;
}

async function readAt(handle: FileHandle, positionBytes: number, lengthBytes: number) {
  const buffer = new Uint8Array(lengthBytes);
  let filled = 0;
  while (filled < lengthBytes) {
    const { bytesRead } = await handle.read(buffer, filled, lengthBytes - filled, positionBytes);
    if (bytesRead === 0) break;
    filled += bytesRead;
    positionBytes += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Reads and parses the header of an open file.
 * @throws VeilError REWRAP_NOT_A_MESSAGE for a file no ESDK wrote (or an empty one); the header
 *   errors (TRUNCATED, TOO_MANY_EDKS, ...) for a damaged one.
 */
async function readHeader(handle: FileHandle, fileBytes: number): Promise<MessageHeader> {
  if (fileBytes === 0) throw new VeilError('REWRAP_NOT_A_MESSAGE', 'the file is empty');
  let readBytes = Math.min(fileBytes, FIRST_READ_BYTES);
  for (;;) {
    const bytes = await readAt(handle, 0, readBytes);
    let parsed: ReturnType<typeof tryParseHeader>;
    try {
      parsed = tryParseHeader(bytes, {
        maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      });
    } catch (error) {
      if (error instanceof VeilError && NOT_A_MESSAGE.has(error.code)) {
        throw new VeilError('REWRAP_NOT_A_MESSAGE', error.code, { cause: error });
      }
      throw error;
    }
    if ('header' in parsed) return parsed.header;
    if (readBytes >= fileBytes) throw new VeilError('TRUNCATED', 'in the header');
    readBytes = Math.min(fileBytes, Math.max(parsed.needBytes, readBytes * 2));
  }
}

/** "A name, C arn…" for a list of keys (escaped: the header is not authenticated yet). */
function keyList(keys: readonly NeededKey[]): string {
  return keys
    .map((key) => `${modelOfProvider(key.providerId)} ${escapeUntrusted(key.keyName)}`)
    .join(', ');
}

/** True when the header already names every key to add and none is removed. */
function nothingToChange(header: MessageHeader, keys: RewrapKeys): boolean {
  if (keys.remove.length > 0) return false;
  const named = keysNeeded(header);
  return keys.adds.every((wanted) =>
    named.some((key) => key.keyName === wanted.keyName && key.providerId === wanted.providerId),
  );
}

/**
 * Rewraps the local file at `options.path` (see the header).
 * @throws VeilError REWRAP_NOT_A_MESSAGE, REWRAP_SIGNED_MESSAGE, REWRAP_KEY_NOT_FOUND,
 *   REWRAP_LAST_KEY, REWRAP_WOULD_LOCK_OUT, REWRAP_SOURCE_CHANGED (the file changed while it was
 *   copied), the keyrings' errors (NO_MATCHING_EDK, WRONG_KEY, HEADER_TAMPERED, KMS_*, HSM_*),
 *   and IO_FAILED-mapped file errors.
 */
export async function rewrapLocalFile(options: RewrapLocalOptions): Promise<void> {
  const { keys } = options;
  const path = await realpath(options.path);
  const before = await stat(path);
  const handle = await open(path, 'r');
  let header: MessageHeader;
  try {
    header = await readHeader(handle, before.size);
  } finally {
    await handle.close();
  }
  const display = escapeUntrusted(options.path);
  if (nothingToChange(header, keys)) {
    options.print(`unchanged  ${display}  it already has the keys asked for`);
    return;
  }
  if (options.dryRun) {
    const removed = keysNeeded(header).filter((key) =>
      keys.remove.some((r) => r.keyName === key.keyName),
    );
    options.print(
      `plan: rewrap ${display}  keys now: ${keyList(keysNeeded(header))}` +
        (removed.length > 0 ? `; remove: ${keyList(removed)}` : '') +
        (keys.adds.length > 0 ? `; add: ${keyList(keys.adds)}` : '') +
        `; ${formatBytes(before.size - header.headerBytes)} of body copied unchanged`,
    );
    return;
  }
  const rewrapped = await rewrapHeader(header, {
    openWith: keys.openWith,
    ...(keys.addWith ? { addWith: keys.addWith } : {}),
    ...(keys.remove.length > 0 ? { remove: keys.remove } : {}),
  });
  await writeAtomically(
    path,
    async (sink) => {
      const writer = sink.getWriter();
      const source = await open(path, 'r');
      try {
        await writer.write(rewrapped.headerBytes);
        let positionBytes = header.headerBytes;
        while (positionBytes < before.size) {
          const lengthBytes = Math.min(COPY_CHUNK_BYTES, before.size - positionBytes);
          const chunk = await readAt(source, positionBytes, lengthBytes);
          if (chunk.length !== lengthBytes) {
            throw new VeilError('REWRAP_SOURCE_CHANGED', 'the file became shorter');
          }
          await writer.write(chunk);
          positionBytes += lengthBytes;
        }
        const after = await source.stat();
        if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
          throw new VeilError('REWRAP_SOURCE_CHANGED', 'the file was written to meanwhile');
        }
        await writer.close();
      } finally {
        writer.releaseLock();
        await source.close();
      }
    },
    before.mode & 0o7777,
  );
  options.print(
    `rewrapped  ${display}  keys: ${keyList(keysNeeded(rewrapped.header))}  ` +
      `(header ${header.headerBytes} → ${rewrapped.headerBytes.length} bytes, body unchanged)`,
  );
}
