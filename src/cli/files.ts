/**
 * File plumbing for the command line: Node file streams as WHATWG streams, and atomic outputs
 * (written to OUT.tmp-xxxx, synced and renamed at the end, removed on any failure or on SIGINT /
 * SIGTERM through discardPendingOutputs, so OUT only ever appears complete).
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { link, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

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

/** An output being written: its temporary path and a way to stop the pipe feeding it. */
interface PendingOutput {
  readonly tmpPath: string;
  stop(reason: unknown): void;
}

/** Outputs whose temporary file may exist, for discardPendingOutputs. */
const pendingOutputs = new Set<PendingOutput>();

/**
 * Stops every pipe still writing an output and removes their temporary files, synchronously, so
 * the command line can exit at once on SIGINT/SIGTERM leaving neither OUT nor OUT.tmp-* behind.
 */
export function discardPendingOutputs(reason: unknown): void {
  for (const pending of pendingOutputs) {
    pending.stop(reason);
    try {
      unlinkSync(pending.tmpPath);
    } catch {
      // Not created yet, or already renamed or removed.
    }
  }
  pendingOutputs.clear();
}

/**
 * Registers a temporary output written by someone else (the download engine's file sink), so
 * that discardPendingOutputs removes it and calls `stop` on SIGINT/SIGTERM like the outputs of
 * writeAtomically.
 * @returns the function that forgets it again (once the output was renamed or removed).
 */
export function trackPendingOutput(tmpPath: string, stop: (reason: unknown) => void): () => void {
  const pending: PendingOutput = { tmpPath, stop };
  pendingOutputs.add(pending);
  return () => pendingOutputs.delete(pending);
}

/** Flushes a directory entry change (a rename or link) to disk; best effort. */
async function syncDirectory(path: string): Promise<void> {
  try {
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch {
    // Some platforms and file systems cannot fsync a directory; the data itself is synced.
  }
}

/**
 * Runs `produce` with a WritableStream on a temporary file next to `outPath`, syncs it to disk
 * and then moves it to `outPath`. On any failure the temporary file is removed and the error
 * rethrown; an existing `outPath` is left untouched.
 * @param mode file mode of the new file (e.g. 0o600 for key files).
 * @param options.noOverwrite never replace an existing `outPath` (link, not rename): IO_FAILED
 *   with EEXIST if it exists, even when it was created while `produce` ran.
 */
export async function writeAtomically(
  outPath: string,
  produce: (sink: WritableStream<Uint8Array>) => Promise<void>,
  mode = 0o644,
  options: { readonly noOverwrite?: boolean } = {},
): Promise<void> {
  const tmpPath = `${outPath}.tmp-${randomBytes(6).toString('hex')}`;
  let sinkController: WritableStreamDefaultController | undefined;
  const pending: PendingOutput = { tmpPath, stop: (reason) => sinkController?.error(reason) };
  pendingOutputs.add(pending); // before open: a signal during open still removes the file
  let handle: FileHandle | undefined;
  let closed = false;
  try {
    handle = await open(tmpPath, 'wx', mode);
    const file = handle;
    const sink = new WritableStream<Uint8Array>({
      start(controller) {
        sinkController = controller;
      },
      async write(chunk) {
        let offsetBytes = 0;
        while (offsetBytes < chunk.length) {
          const { bytesWritten } = await file.write(chunk, offsetBytes);
          offsetBytes += bytesWritten;
        }
      },
    });
    await produce(sink);
    await file.sync(); // the data is on disk before the name points at it
    await file.close();
    closed = true;
    if (options.noOverwrite) {
      await link(tmpPath, outPath); // fails with EEXIST instead of replacing
      await rm(tmpPath, { force: true });
    } else {
      await rename(tmpPath, outPath);
    }
    pendingOutputs.delete(pending);
    await syncDirectory(outPath);
  } catch (error) {
    if (handle && !closed) await handle.close().catch(() => undefined);
    await rm(tmpPath, { force: true });
    pendingOutputs.delete(pending);
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
