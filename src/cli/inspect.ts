/**
 * `veil inspect`: the header as JSON (version, suite, message id, encryption context, EDKs, frame
 * length) and, with a key, whether the body is complete and authenticated.
 */
import { createDecryptStream } from '../core/decrypt-stream';
import { VeilError } from '../core/errors';
import { ByteQueue } from '../core/byte-queue';
import type { MessageHeader } from '../core/header';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  tryParseHeader,
} from '../core/header';
import { describeHeader } from '../core/header-view';
import { countingSink, readFileStream } from './files';
import { cliKeyring, explainDecryptFailure, type KeyringFlags } from './keyrings';

/**
 * Reads just the header of `inPath`, with the decrypt stream's limits (16 EDKs, 64 MiB frames,
 * hence a header of at most about 3.2 MiB) and its parsing pattern: bytes are queued and the
 * parser runs again only once the field it was missing can be complete, so a crafted header
 * costs time and memory linear in its size, and a hostile EDK count fails on the first chunk.
 * @throws VeilError TRUNCATED, TOO_MANY_EDKS, FRAME_TOO_LARGE and the other header errors.
 */
async function readHeaderOnly(inPath: string): Promise<MessageHeader> {
  const reader = readFileStream(inPath).getReader();
  const queue = new ByteQueue();
  let needBytes = 1;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new VeilError('TRUNCATED', 'in the header');
      queue.push(value);
      if (queue.lengthBytes < needBytes) continue;
      const parsed = tryParseHeader(queue.peek(queue.lengthBytes) ?? new Uint8Array(0), {
        maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      });
      if ('header' in parsed) return parsed.header;
      needBytes = Math.max(parsed.needBytes, 1);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Prints the header of IN as JSON to `print`; with keys, also decrypts the body to nowhere
 * and reports whether it is complete and authenticated.
 * @throws VeilError on a malformed header, or with a key on any decryption failure (after
 *   printing what was learned).
 */
export async function inspectFile(options: {
  readonly inPath: string;
  /** Keys to check the body with; none means the header only. */
  readonly keys: KeyringFlags | undefined;
  readonly print: (text: string) => void;
}): Promise<void> {
  if (options.keys === undefined) {
    const header = await readHeaderOnly(options.inPath);
    options.print(JSON.stringify(describeHeader(header, false), null, 2));
    return;
  }
  const { keyring, close } = await cliKeyring('decrypt', options.keys);
  let header: MessageHeader | undefined;
  const { sink, bytes } = countingSink();
  const decryptor = createDecryptStream({ keyring, onHeader: (parsed) => (header = parsed) });
  try {
    await readFileStream(options.inPath).pipeThrough(decryptor).pipeTo(sink);
  } catch (error) {
    close();
    if (header) {
      const code = error instanceof VeilError ? error.code : 'IO_FAILED';
      const view = describeHeader(header, true);
      view.body = { complete: false, authenticated: false, error: code };
      options.print(JSON.stringify(view, null, 2));
    }
    throw explainDecryptFailure(error, options.keys);
  }
  close();
  if (!header) throw new VeilError('MALFORMED');
  const view = describeHeader(header, true);
  view.body = { complete: true, authenticated: true, plaintextBytes: bytes() };
  options.print(JSON.stringify(view, null, 2));
}
