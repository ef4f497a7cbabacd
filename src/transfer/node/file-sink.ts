/**
 * The download sink in Node: the plaintext goes to a temporary file beside the target (same
 * folder, so the final rename stays on one file system), created with mode 0600 and written
 * strictly in order as the engine releases verified bytes. `close()` flushes it to disk (fsync),
 * renames it over the target in one step and syncs the folder; `abort()` removes it. So the
 * target path holds either its old content or the whole verified plaintext, never a part of it,
 * and a failed or cancelled download leaves no temporary file behind.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VeilError } from '../../core';
import type { DownloadSink } from '../download-setup';
import { errorCode } from './file-source';

/** Options of fileSink. */
export interface FileSinkOptions {
  /** Permission bits of the new file (before the umask); default 0o600. */
  readonly mode?: number;
  /**
   * Never replace an existing target: close() links the file into place instead of renaming
   * it, which fails (DOWNLOAD_SAVE_FAILED, detail EEXIST) if the target exists by then.
   */
  readonly noOverwrite?: boolean;
}

/** A DownloadSink into a file; what it wrote is visible at `path` only once closed. */
export interface FileSink extends DownloadSink {
  /** The target path, replaced on close. */
  readonly path: string;
  /** The temporary file being written (gone after close or abort). */
  readonly tempPath: string;
  /** Bytes written so far. */
  readonly writtenBytes: number;
}

/** Suffix of the temporary files, e.g. `.report.pdf.3f9a1c0b2d4e.veil-partial`. */
export const TEMP_SUFFIX = '.veil-partial';

function saveFailed(cause: unknown): VeilError {
  return cause instanceof VeilError
    ? cause
    : new VeilError('DOWNLOAD_SAVE_FAILED', errorCode(cause), { cause });
}

/**
 * Creates the temporary file for a download to `path` and returns its sink. Hand it to
 * `downloadObject({ sink })`, which closes it on success and aborts it on any failure; a caller
 * that ends up not running the download must call `abort()` itself.
 * @throws VeilError DOWNLOAD_SAVE_FAILED when the folder is missing or not writable.
 */
export async function fileSink(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
  const tempPath = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`,
  );
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx', options.mode ?? 0o600);
  } catch (cause) {
    throw saveFailed(cause);
  }
  let writtenBytes = 0;
  let finished = false;

  const discard = async (): Promise<void> => {
    const open = handle;
    handle = undefined;
    await open?.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
  };

  return {
    path,
    tempPath,
    get writtenBytes() {
      return writtenBytes;
    },
    async write(chunk) {
      if (!handle) throw new VeilError('DOWNLOAD_SAVE_FAILED', 'the file is already closed');
      try {
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await handle.write(
            chunk,
            offset,
            chunk.length - offset,
            writtenBytes + offset,
          );
          offset += bytesWritten;
        }
        writtenBytes += chunk.length;
      } catch (cause) {
        throw saveFailed(cause);
      }
    },
    async close() {
      if (finished) return;
      if (!handle) throw new VeilError('DOWNLOAD_SAVE_FAILED', 'the download was aborted');
      try {
        await handle.sync();
        await handle.close();
        handle = undefined;
        if (options.noOverwrite) {
          await link(tempPath, path);
          await rm(tempPath, { force: true });
        } else {
          await rename(tempPath, path);
        }
        finished = true;
      } catch (cause) {
        await discard();
        throw saveFailed(cause);
      }
      await syncFolder(dirname(path));
    },
    async abort() {
      if (finished) return;
      await discard();
    },
  };
}

/** Makes a rename in `folder` durable; best effort (some systems cannot fsync a folder). */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // The rename is done; only its durability across a power cut is left to the system.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
