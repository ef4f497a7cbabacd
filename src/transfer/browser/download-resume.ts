/**
 * A save target that lets an interrupted download continue where it stopped.
 *
 * [Note: download resume] The engine writes verified plaintext strictly in order, so "how far it
 * got" is one number: the bytes written. A FileSystemFileHandle target (the save picker's file,
 * or a file in the origin-private file system) can hold on to them: on a network failure
 * (S3_RETRIES_EXHAUSTED or S3_UNREACHABLE, after the engine's own retries) or credentials that
 * expired mid-download (CREDENTIALS_EXPIRED: sign in again, then resume) this sink
 * commits what was written instead of discarding it, and `writtenBytes` says how much that is.
 * `downloadObject({ resumeFrom: { writtenBytes, etag } })` into
 * `resumableFileSink(handle, { resumeAtBytes: writtenBytes })` then reopens the file with
 * `createWritable({ keepExistingData: true })`, cuts it to that length, seeks there, and fetches
 * only the frames from there on, every GET with If-Match on the first attempt's ETag (a changed
 * object stops with DOWNLOAD_OBJECT_CHANGED). Any other failure (integrity, a changed object, a
 * cancel) empties the file: no unverified or partial plaintext is left under the user's name.
 *
 * A kept prefix is a truncated plaintext file under the user's chosen name, so it is kept only
 * while a resume is pending: after such a failure the sink's `pendingResume` is true, and its
 * owner must either resume (a new sink with `resumeAtBytes`, which then answers for the file) or,
 * when the user gives up (dismisses the failed download, cancels it, leaves the page), call
 * `discard()`, which empties the file and commits that. An owner that cannot promise this should
 * not use this sink.
 *
 * Within one page session only. After a reload the committed prefix is still on disk and the
 * handle can be kept in IndexedDB, but a reload can strike at any moment, and
 * FileSystemWritableFileStream writes into a swap file that only close() commits: surviving a
 * reload would need a commit every few MiB, and Chromium makes each reopen with keepExistingData
 * copy the whole file so far into a new swap file (quadratic in the object size), and each
 * commit of a picker file runs the browser's download checks and leaves a partial plaintext file
 * under the user's chosen name for as long as the page is gone. OPFS's in-place
 * createSyncAccessHandle (worker only) avoids the copies but keeps the file private to the app,
 * so it would need a second save to hand it over. Signed (0x0578) and non-framed messages cannot
 * continue either way: only a read from the start checks their signature or single tag.
 */
import { VeilError } from '../../core';
import type { DownloadSink } from '../download-setup';

/** Failures after which the written output is kept for a resume. */
const RESUMABLE_CODES: ReadonlySet<string> = new Set([
  'S3_RETRIES_EXHAUSTED',
  'S3_UNREACHABLE',
  'CREDENTIALS_EXPIRED',
]);

/** True when a download that failed with `error` may continue from what it wrote. */
export function isResumableFailure(error: unknown): boolean {
  return error instanceof VeilError && RESUMABLE_CODES.has(error.code);
}

/** The part of a file handle this sink uses (FileSystemFileHandle, from the picker or OPFS). */
export interface ResumableFileHandle {
  getFile(): Promise<Blob>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<FileSystemWritableFileStream>;
}

/** A sink that can keep its output for a resume (see [Note: download resume]). */
export interface ResumableSink extends DownloadSink {
  /** Bytes the file holds from the start, in order: the resume point after a failure. */
  readonly writtenBytes: number;
  /** Whether the last abort kept the output (a network failure) or emptied the file. */
  readonly kept: boolean;
  /**
   * True while the file holds a kept prefix waiting for a resume: the owner must resume or call
   * `discard()` ([Note: download resume]).
   */
  readonly pendingResume: boolean;
  /**
   * Gives up on the output: empties the file (truncates it to 0 bytes and commits that), unless
   * the download completed. Safe to call more than once.
   * @throws VeilError DOWNLOAD_SAVE_FAILED when the file cannot be emptied.
   */
  discard(): Promise<void>;
}

function saveFailed(cause: unknown): VeilError {
  return cause instanceof VeilError
    ? cause
    : new VeilError('DOWNLOAD_SAVE_FAILED', cause instanceof Error ? cause.name : undefined, {
        cause,
      });
}

/**
 * Opens `handle` for writing, from byte `resumeAtBytes` on (default 0: from the start). The file
 * must already hold at least that many bytes (a previous attempt's committed output).
 * @throws VeilError OUT_OF_RANGE for a bad offset, DOWNLOAD_SAVE_FAILED when the file holds
 *   fewer bytes than the resume point or cannot be opened.
 */
export async function resumableFileSink(
  handle: ResumableFileHandle,
  options: { readonly resumeAtBytes?: number } = {},
): Promise<ResumableSink> {
  const resumeAtBytes = options.resumeAtBytes ?? 0;
  // Precondition: a non-negative byte offset.
  if (!Number.isSafeInteger(resumeAtBytes) || resumeAtBytes < 0) {
    throw new VeilError('OUT_OF_RANGE', 'resumeAtBytes');
  }
  let writable: FileSystemWritableFileStream;
  try {
    if (resumeAtBytes > 0) {
      const existing = (await handle.getFile()).size;
      if (existing < resumeAtBytes) {
        throw new VeilError(
          'DOWNLOAD_SAVE_FAILED',
          `the file holds ${existing} bytes, fewer than the ${resumeAtBytes} to continue from`,
        );
      }
    }
    writable = await handle.createWritable({ keepExistingData: resumeAtBytes > 0 });
    if (resumeAtBytes > 0) {
      await writable.truncate(resumeAtBytes);
      await writable.seek(resumeAtBytes);
    }
  } catch (cause) {
    throw saveFailed(cause);
  }
  let writtenBytes = resumeAtBytes;
  let kept = false;
  /**
   * 'open' while writing; 'kept' after a network failure committed the prefix; 'unsure' when an
   * abort failed, so the file may still hold what an earlier attempt committed.
   */
  let state: 'open' | 'complete' | 'kept' | 'emptied' | 'unsure' = 'open';
  return {
    get writtenBytes() {
      return writtenBytes;
    },
    get kept() {
      return kept;
    },
    get pendingResume() {
      return state === 'kept';
    },
    async discard() {
      if (state === 'complete' || state === 'emptied') return;
      try {
        if (state === 'open') {
          await writable.truncate(0);
          await writable.close();
        } else {
          // Committed earlier: a fresh writable (without the existing data) commits an empty file.
          await (await handle.createWritable({ keepExistingData: false })).close();
        }
      } catch (cause) {
        throw saveFailed(cause);
      }
      state = 'emptied';
      kept = false;
      writtenBytes = 0;
    },
    async write(chunk) {
      try {
        await writable.write(chunk as Uint8Array<ArrayBuffer>);
      } catch (cause) {
        throw saveFailed(cause);
      }
      writtenBytes += chunk.length;
    },
    async close() {
      try {
        await writable.close();
      } catch (cause) {
        throw saveFailed(cause);
      }
      state = 'complete';
    },
    async abort(reason) {
      try {
        if (isResumableFailure(reason)) {
          // Everything written so far verified and is in order: commit it for the resume.
          await writable.close();
          kept = true;
          state = 'kept';
          return;
        }
        // Also drop what earlier attempts committed: nothing partial stays under the name.
        await writable.truncate(0);
        await writable.close();
        writtenBytes = 0;
        state = 'emptied';
      } catch {
        await writable.abort().catch(() => undefined);
        state = 'unsure';
      }
    },
  };
}
