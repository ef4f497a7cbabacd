/**
 * The ZIP itself: client-zip's `makeZip` fed one entry at a time, each entry's bytes a
 * ReadableStream that a download writes into through a DownloadSink, and the ZIP's bytes piped
 * into the save target's sink.
 *
 * [Note: a streaming ZIP] Nothing is held whole: an entry's pipe holds at most
 * `ENTRY_BUFFER_CHUNKS` chunks, and the download's `write` waits until client-zip took them
 * (backpressure down to the ranged GETs), so memory stays bounded whatever the sizes. Entries
 * are downloaded one after the other, in order. A download that fails (WRONG_KEY,
 * DOWNLOAD_OBJECT_CHANGED, FRAME_TAMPERED…) aborts its pipe with ZIP_FILE_FAILED naming the
 * entry, which errors the ZIP stream, and the save target is aborted: a ZIP is never presented
 * as complete without one of its files (the save picker's file is discarded; the service-worker
 * download ends as a failed download). Cancelling is not wrapped: it stays DOWNLOAD_CANCELLED.
 */
import { makeZip } from 'client-zip';
import { VeilError } from '../../core/errors';
import type { DownloadSink } from '../../transfer/download-setup';
import type { ZipEntry } from './zip-entries';

/** Chunks an entry's pipe holds before the download waits. */
export const ENTRY_BUFFER_CHUNKS = 2;

/** `reason` as the ZIP's failure: ZIP_FILE_FAILED naming `path`, or a cancel as it is. */
export function entryFailure(path: string, reason: unknown): VeilError {
  if (reason instanceof VeilError && reason.code === 'DOWNLOAD_CANCELLED') return reason;
  if (reason instanceof VeilError && reason.code === 'ZIP_FILE_FAILED') return reason;
  return new VeilError('ZIP_FILE_FAILED', path, { cause: reason });
}

/**
 * A pipe for one entry: the sink the download writes into and the stream client-zip reads.
 * `write` resolves once the chunk is taken (backpressure); `abort` errors the stream with
 * ZIP_FILE_FAILED naming `path`.
 */
export function entryPipe(path: string): {
  sink: DownloadSink;
  readable: ReadableStream<Uint8Array>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(
    undefined,
    { highWaterMark: 1 },
    { highWaterMark: ENTRY_BUFFER_CHUNKS },
  );
  const writer = writable.getWriter();
  return {
    readable,
    sink: {
      async write(chunk) {
        await writer.ready;
        await writer.write(chunk);
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(entryFailure(path, reason)).catch(() => undefined),
    },
  };
}

/** Downloads one entry into `sink` (closing it on success, aborting it on failure). */
export type EntryDownload = (entry: ZipEntry, sink: DownloadSink) => Promise<unknown>;

/**
 * The ZIP of `entries` as a stream, each entry's bytes from `download`, one entry at a time
 * ([Note: a streaming ZIP]). `onEntryDone` is called after each entry is complete.
 * The stream errors with ZIP_FILE_FAILED (or DOWNLOAD_CANCELLED) when an entry fails.
 */
export function zipStream(
  entries: readonly ZipEntry[],
  download: EntryDownload,
  onEntryDone?: (entry: ZipEntry, index: number) => void,
  lastModified = new Date(),
): ReadableStream<Uint8Array> {
  async function* inputs(): AsyncGenerator<{
    name: string;
    input: ReadableStream<Uint8Array>;
    lastModified: Date;
  }> {
    for (const [index, entry] of entries.entries()) {
      const pipe = entryPipe(entry.path);
      let failure: VeilError | undefined;
      const done = download(entry, pipe.sink).then(
        () => undefined,
        async (error: unknown) => {
          failure = entryFailure(entry.path, error);
          // The engine aborts its sink itself; this covers a failure before it had one.
          await pipe.sink.abort(error);
        },
      );
      yield { name: entry.path, input: pipe.readable, lastModified };
      await done;
      if (failure !== undefined) throw failure;
      onEntryDone?.(entry, index);
    }
  }
  return makeZip(inputs(), { buffersAreUTF8: true });
}

/**
 * Writes `zip` into `sink` chunk by chunk, then closes it; on any failure aborts the sink and
 * throws the failure. `onBytes` gets the ZIP bytes written so far.
 */
export async function pipeZip(
  zip: ReadableStream<Uint8Array>,
  sink: DownloadSink,
  onBytes?: (writtenBytes: number) => void,
): Promise<void> {
  const reader = zip.getReader();
  let writtenBytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      writtenBytes += value.byteLength;
      await sink.write(value);
      onBytes?.(writtenBytes);
    }
    await sink.close();
  } catch (error) {
    await reader.cancel(error).catch(() => undefined);
    await sink.abort(error).catch(() => undefined);
    throw error;
  }
}
