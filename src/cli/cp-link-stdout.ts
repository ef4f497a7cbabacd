/**
 * [Note: stdout after verification] `veil cp '<share link>' -` writes the plaintext to stdout,
 * and stdout cannot be taken back: a byte written there is in the reader's hands. Releasing
 * each frame once its tag verified is not enough, because a message can still fail after a
 * verified frame: the body can be cut after any frame (no final frame: TRUNCATED), hold bytes
 * after its final frame, or (suite 0x0578) carry a signature that fails at the very end. A
 * reader of a cut stream would hold a verified but incomplete file and no way to tell. So the
 * download engine writes the plaintext to a private temporary file (mode 0600, created
 * exclusively in the OS temp folder, os.tmpdir(), honouring TMPDIR), and only once the whole
 * message verified (the engine closed the sink) is that file copied to stdout. The file is
 * removed on every path: after the copy, on any failure (stdout stays empty), and on SIGINT or
 * SIGTERM (registered with trackPendingOutput, so discardPendingOutputs unlinks it).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { VeilError } from '../core/errors';
import type { DownloadSink } from '../transfer/download-setup';
import { trackPendingOutput } from './files';

/** Bytes read from the temporary file per write to stdout. */
const COPY_CHUNK_BYTES = 1024 * 1024;

/** A download sink into a private temporary file whose content goes to stdout at the end. */
export interface StdoutSink extends DownloadSink {
  /** The temporary file (gone once released or discarded). */
  readonly tempPath: string;
  /**
   * Copies the verified plaintext to `out`, then removes the temporary file. Call only after
   * the download finished (the engine closed the sink).
   * @throws VeilError DOWNLOAD_SAVE_FAILED before close; the write errors of `out` (EPIPE).
   */
  release(out: Writable): Promise<void>;
  /** Removes the temporary file, whatever happened; safe to call more than once. */
  discard(): Promise<void>;
}

/** Writes `chunk` to `out` and waits until it was handed on (or failed). */
function writeOut(out: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Creates the private temporary file (see the note) and its sink.
 * @param stop called with the reason on SIGINT/SIGTERM (the download's abort).
 * @throws VeilError DOWNLOAD_SAVE_FAILED when the temp folder cannot take the file.
 */
export async function stdoutSink(stop: (reason: unknown) => void): Promise<StdoutSink> {
  const tempPath = join(tmpdir(), `veil-link-${randomBytes(8).toString('hex')}.veil-partial`);
  const untrack = trackPendingOutput(tempPath, stop); // before open: a signal removes it too
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx', 0o600);
  } catch (cause) {
    untrack();
    throw new VeilError('DOWNLOAD_SAVE_FAILED', (cause as { code?: string }).code ?? 'open', {
      cause,
    });
  }
  let writtenBytes = 0;
  let closed = false;
  let discarded = false;
  const discard = async (): Promise<void> => {
    discarded = true;
    const open = handle;
    handle = undefined;
    await open?.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
    untrack();
  };
  return {
    tempPath,
    async write(chunk) {
      if (!handle) throw new VeilError('DOWNLOAD_SAVE_FAILED', 'the file is already closed');
      let offsetBytes = 0;
      while (offsetBytes < chunk.length) {
        const { bytesWritten } = await handle.write(
          chunk,
          offsetBytes,
          chunk.length - offsetBytes,
          writtenBytes + offsetBytes,
        );
        offsetBytes += bytesWritten;
      }
      writtenBytes += chunk.length;
    },
    async close() {
      if (!handle) throw new VeilError('DOWNLOAD_SAVE_FAILED', 'the download was aborted');
      await handle.close();
      handle = undefined;
      closed = true;
    },
    abort: discard,
    discard,
    async release(out) {
      // Precondition: the engine closed the sink, so the whole message verified.
      if (!closed || discarded) {
        throw new VeilError('DOWNLOAD_SAVE_FAILED', 'the download did not finish');
      }
      try {
        const source = createReadStream(tempPath, { highWaterMark: COPY_CHUNK_BYTES });
        for await (const chunk of source) await writeOut(out, chunk as Buffer);
      } finally {
        await discard();
      }
    },
  };
}
