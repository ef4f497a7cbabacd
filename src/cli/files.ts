/**
 * File plumbing for the command line: Node file streams as WHATWG streams, and atomic outputs
 * (written to OUT.tmp-xxxx and renamed at the end, removed on any failure, so OUT only ever
 * appears complete).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Read size for input files: large reads keep per-chunk overhead low; memory stays flat. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A file as a ReadableStream of byte chunks, pulled one read at a time (so backpressure holds:
 * nothing is read ahead of what the consumer asked for).
 */
export function readFileStream(path: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        handle = await open(path, 'r');
      },
      async pull(controller) {
        if (!handle) return;
        const buffer = new Uint8Array(READ_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK_BYTES, null);
        if (bytesRead === 0) {
          await handle.close();
          handle = undefined;
          controller.close();
          return;
        }
        controller.enqueue(buffer.subarray(0, bytesRead));
      },
      async cancel() {
        await handle?.close();
        handle = undefined;
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Runs `produce` with a WritableStream on a temporary file next to `outPath`, then renames it to
 * `outPath`. On any failure the temporary file is removed and the error rethrown; an existing
 * `outPath` is left untouched.
 * @param mode file mode of the new file (e.g. 0o600 for key files).
 */
export async function writeAtomically(
  outPath: string,
  produce: (sink: WritableStream<Uint8Array>) => Promise<void>,
  mode = 0o644,
): Promise<void> {
  const tmpPath = `${outPath}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(tmpPath, 'wx', mode);
  let closed = false;
  try {
    const sink = new WritableStream<Uint8Array>({
      async write(chunk) {
        let offsetBytes = 0;
        while (offsetBytes < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, offsetBytes);
          offsetBytes += bytesWritten;
        }
      },
    });
    await produce(sink);
    await handle.close();
    closed = true;
    await rename(tmpPath, outPath);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmpPath, { force: true });
    throw error;
  }
}

/** A sink that discards what it is given and counts the bytes. */
export function countingSink(): { sink: WritableStream<Uint8Array>; bytes: () => number } {
  let totalBytes = 0;
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      totalBytes += chunk.length;
    },
  });
  return { sink, bytes: () => totalBytes };
}
