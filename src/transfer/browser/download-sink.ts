/**
 * Where a download is written: the File System Access API's save picker (a
 * FileSystemWritableFileStream, which Chromium fills in a temporary swap file and commits only on
 * close, so abort() leaves no partial file), any WritableStream, or, in browsers without the
 * picker, a Blob saved through a link for small objects and a streamed download through Veil's
 * service worker for larger ones ([Note: service-worker download] in download-sw-sink.ts).
 */
import { VeilError } from '../../core';
import { serviceWorkerSink } from './download-sw-sink';

import type { DownloadSink } from '../download-setup';

export type { DownloadSink } from '../download-setup';

function saveFailed(cause: unknown): VeilError {
  return cause instanceof VeilError
    ? cause
    : new VeilError('DOWNLOAD_SAVE_FAILED', cause instanceof Error ? cause.name : undefined, {
        cause,
      });
}

/** Bytes per write to a WritableStream sink: smaller chunks are joined up to this. */
export const WRITE_BLOCK_BYTES = 8 * 1024 * 1024;

/**
 * A sink over a WritableStream (e.g. from FileSystemFileHandle.createWritable()).
 *
 * [Note: joined writes] Each write to a FileSystemWritableFileStream is a round trip to the
 * browser process, and a framed download hands over one chunk per 512 KiB frame: written as they
 * come, OPFS took them at about 55 MB/s here against 75 MB/s for 8 MiB writes (bench:download).
 * So chunks smaller than `blockBytes` are copied into one buffer, reused for the whole download,
 * and written when it fills and at close; a chunk of `blockBytes` or more that meets an empty
 * buffer is written as it is. Joining holds back at most `blockBytes` of verified plaintext,
 * which an abort drops with the rest (the writable commits nothing until close).
 */
export function sinkFromWritable(
  writable: WritableStream<Uint8Array>,
  blockBytes = WRITE_BLOCK_BYTES,
): DownloadSink {
  const writer = writable.getWriter();
  let block: Uint8Array<ArrayBuffer> | undefined;
  let filled = 0;
  const put = async (bytes: Uint8Array): Promise<void> => {
    try {
      await writer.write(bytes);
    } catch (cause) {
      throw saveFailed(cause);
    }
  };
  const flush = async (): Promise<void> => {
    if (!block || filled === 0) return;
    const bytes = block.subarray(0, filled);
    filled = 0;
    await put(bytes);
  };
  return {
    async write(chunk) {
      if (filled === 0 && chunk.length >= blockBytes) return put(chunk);
      let at = 0;
      while (at < chunk.length) {
        block ??= new Uint8Array(blockBytes);
        const taken = Math.min(blockBytes - filled, chunk.length - at);
        block.set(chunk.subarray(at, at + taken), filled);
        filled += taken;
        at += taken;
        if (filled === blockBytes) await flush();
      }
    },
    async close() {
      await flush();
      try {
        await writer.close();
      } catch (cause) {
        throw saveFailed(cause);
      }
    },
    async abort(reason) {
      filled = 0;
      await writer.abort(reason).catch(() => undefined);
    },
  };
}

/** A sink that collects the bytes in memory and hands a Blob to `onDone` when closed. */
export function blobSink(
  onDone: (blob: Blob) => void,
  type = 'application/octet-stream',
): DownloadSink {
  let chunks: Uint8Array<ArrayBuffer>[] = [];
  return {
    write(chunk) {
      chunks.push(new Uint8Array(chunk));
      return Promise.resolve();
    },
    close() {
      const blob = new Blob(chunks, { type });
      chunks = [];
      onDone(blob);
      return Promise.resolve();
    },
    abort() {
      chunks = [];
      return Promise.resolve();
    },
  };
}

/** Saves `blob` as a file named `name` through a temporary link (a normal browser download). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The part of the File System Access API the save target uses (not in TypeScript's DOM lib). */
interface SavePickerWindow {
  showSaveFilePicker?: (options?: {
    suggestedName?: string;
  }) => Promise<{ createWritable(): Promise<WritableStream<Uint8Array>> }>;
}

/** Largest object saved through a Blob (held in memory) when the save picker is missing. */
export const DEFAULT_BLOB_LIMIT_BYTES = 256 * 1024 * 1024;

/** How chooseSaveTarget saves: the picker's file, a Blob, or a stream through the service worker. */
export type SaveTargetKind = 'file-system-access' | 'blob' | 'service-worker';

/** The save target chooseSaveTarget returns. */
export interface SaveTarget {
  readonly sink: DownloadSink;
  /**
   * Where the file goes: the file the user picked ('file-system-access'), or the browser's own
   * downloads ('blob', for either way of getting there; `via` tells which).
   */
  readonly kind: 'file-system-access' | 'blob';
  /** How: the picker's writable, a Blob held in memory, or a service-worker stream. */
  readonly via: SaveTargetKind;
}

/**
 * Asks the user where to save `suggestedName` (call it from the click handler: the picker needs
 * a user gesture) and returns the sink. Without the picker, objects up to `blobLimitBytes` are
 * collected into a Blob and saved through a link when the download completes; larger ones stream
 * into the browser's downloads through Veil's service worker, registered on first use
 * ([Note: service-worker download]), which starts the browser's download at the first verified
 * bytes. Both land in the browser's downloads (`kind: 'blob'`); `via` tells them apart.
 * `sizeBytes` is the object's size (or the plaintext's, when known).
 * @throws VeilError DOWNLOAD_CANCELLED when the user dismisses the picker, DOWNLOAD_SAVE_FAILED
 *   when the picker fails, or when the object is too large for a Blob and the browser cannot run
 *   the service worker.
 */
export async function chooseSaveTarget(
  suggestedName: string,
  sizeBytes: number,
  blobLimitBytes = DEFAULT_BLOB_LIMIT_BYTES,
): Promise<SaveTarget> {
  const picker = (globalThis as SavePickerWindow).showSaveFilePicker;
  if (typeof picker === 'function') {
    try {
      const handle = await picker.call(globalThis, { suggestedName });
      const sink = sinkFromWritable(await handle.createWritable());
      return { sink, kind: 'file-system-access', via: 'file-system-access' };
    } catch (cause) {
      if (cause instanceof Error && cause.name === 'AbortError') {
        throw new VeilError('DOWNLOAD_CANCELLED', 'no place to save was chosen', { cause });
      }
      throw saveFailed(cause);
    }
  }
  if (sizeBytes > blobLimitBytes) {
    const sink = await serviceWorkerSink({ fileName: suggestedName });
    return { sink, kind: 'blob', via: 'service-worker' };
  }
  return { sink: blobSink((blob) => saveBlob(blob, suggestedName)), kind: 'blob', via: 'blob' };
}
