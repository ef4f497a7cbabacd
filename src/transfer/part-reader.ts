/**
 * Reads the plaintext of a run of parts (build-part.ts) in slices, one after another, from one
 * byte stream of the file's range, into buffers used again from slice to slice and job to job.
 *
 * [Note: reused read buffers] Reading a 16 MiB slice with `Blob.slice().bytes()` returns a new
 * buffer each time, and the first write to new memory costs about as much CPU as encrypting it
 * ([Note: recycled part buffers] in build-part.ts). A BYOB reader of the range's stream fills a
 * buffer the caller gives instead: measured in one worker (bench:upload stage table, load about
 * 20), 8,463 ms per GiB for `bytes()` against 5,191 for a BYOB reader into one reused buffer. The
 * engine holds two slices at once (one being sealed, the next being read), so a worker keeps at
 * most KEPT_READ_BUFFERS buffers between jobs. A slice is given back (`release`) only after every
 * frame of it was sealed and hashed: WebCrypto copies its input when called, so nothing reads the
 * buffer after that. Where the stream is not a byte stream, each slice is read with
 * `Blob.slice().bytes()` (or `arrayBuffer()`) as before.
 */
import { VeilError } from '../core';

/** Read buffers a worker keeps between slices and jobs, at most. */
export const KEPT_READ_BUFFERS = 2;

/** Buffers given back, ready for the next slice (shared by the jobs of this thread). */
const keptBuffers: ArrayBuffer[] = [];

/** Reads consecutive slices of one range of a file. */
export interface RangeReader {
  /**
   * The next `lengthBytes` bytes of the range.
   * @throws VeilError UPLOAD_FILE_UNREADABLE when the file cannot be read or is shorter.
   */
  next(lengthBytes: number): Promise<Uint8Array<ArrayBuffer>>;
  /** Gives back a slice no one reads any more; its buffer serves a later slice. */
  release(slice: Uint8Array<ArrayBuffer>): void;
  /** Stops reading (after the last slice, or on a failure). */
  close(): void;
}

/** A Blob slice's bytes: `bytes()` where the browser has it (faster in Chromium workers), else arrayBuffer(). */
async function sliceBytes(slice: Blob): Promise<ArrayBuffer> {
  const withBytes = slice as Blob & { bytes?: () => Promise<Uint8Array<ArrayBuffer>> };
  if (typeof withBytes.bytes === 'function') {
    const bytes = await withBytes.bytes();
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.slice().buffer;
  }
  return slice.arrayBuffer();
}

const shorter = (): VeilError =>
  new VeilError('UPLOAD_FILE_UNREADABLE', 'the file is shorter than when it was picked');

/** The newest kept buffer of at least `lengthBytes`, or a new one of exactly that length. */
function takeBuffer(lengthBytes: number): ArrayBuffer {
  for (let index = keptBuffers.length - 1; index >= 0; index--) {
    const kept = keptBuffers[index];
    if (kept !== undefined && kept.byteLength >= lengthBytes) {
      keptBuffers.splice(index, 1);
      return kept;
    }
  }
  return new ArrayBuffer(lengthBytes);
}

/** Reads each slice on its own, into a new buffer (the stream offers no BYOB reader). */
function sliceReader(file: Blob, startBytes: number): RangeReader {
  let at = startBytes;
  return {
    async next(lengthBytes) {
      const from = at;
      at += lengthBytes;
      let buffer: ArrayBuffer;
      try {
        buffer = await sliceBytes(file.slice(from, from + lengthBytes));
      } catch (cause) {
        throw new VeilError('UPLOAD_FILE_UNREADABLE', `bytes ${from}..${from + lengthBytes}`, {
          cause,
        });
      }
      if (buffer.byteLength !== lengthBytes) throw shorter();
      return new Uint8Array(buffer);
    },
    release: () => undefined,
    close: () => undefined,
  };
}

/** A read of the range's stream that brings nothing for this long is given up as stalled. */
export const STALLED_READ_MS = 30_000;

/**
 * One BYOB read, or 'stalled' when it brings nothing within `stallMs` ([Note: stalled reads]).
 * @throws what the read throws.
 */
async function readOrStall(
  reader: ReadableStreamBYOBReader,
  view: Uint8Array<ArrayBuffer>,
  stallMs: number,
): Promise<ReadableStreamReadResult<Uint8Array<ArrayBuffer>> | 'stalled'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), stallMs);
  });
  try {
    return await Promise.race([reader.read(view), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens bytes `startBytes..endBytes` of `file` for reading in consecutive slices
 * ([Note: reused read buffers]). Call `next` only after the previous `next` settled.
 *
 * [Note: stalled reads] Under heavy load, once in a bench run of 1 GiB from a picked file, the
 * upload stopped for good at two parts: no request was in flight and no job answered, while every
 * later part had been sent. A Blob's stream that stops delivering gives no error, so the reader
 * cannot tell a stall from a slow disk except by time: a read that brings nothing for `stallMs`
 * (STALLED_READ_MS) is given up, the stream cancelled, and this slice and the rest of the range
 * are read slice by slice as without a byte stream. The bytes read are the same file's, checked
 * for length as always, so a stall costs time, never content.
 */
export function openRange(
  file: Blob,
  startBytes: number,
  endBytes: number,
  options: { readonly stallMs?: number } = {},
): RangeReader {
  const stallMs = options.stallMs ?? STALLED_READ_MS;
  let reader: ReadableStreamBYOBReader;
  // Held until close: the stream of a slice no one holds may stall once the slice is collected.
  let range: Blob | undefined = file.slice(startBytes, endBytes);
  try {
    reader = range.stream().getReader({ mode: 'byob' });
  } catch {
    return sliceReader(file, startBytes);
  }
  let at = startBytes;
  /** Set once a read stalled: the rest of the range is read slice by slice. */
  let slices: RangeReader | undefined;
  return {
    async next(lengthBytes) {
      if (slices) return slices.next(lengthBytes);
      const from = at;
      at += lengthBytes;
      let buffer = takeBuffer(lengthBytes);
      let filled = 0;
      while (filled < lengthBytes) {
        let read: ReadableStreamReadResult<Uint8Array<ArrayBuffer>> | 'stalled';
        try {
          read = await readOrStall(
            reader,
            new Uint8Array(buffer, filled, lengthBytes - filled),
            stallMs,
          );
        } catch (cause) {
          throw new VeilError('UPLOAD_FILE_UNREADABLE', `bytes ${from}..${from + lengthBytes}`, {
            cause,
          });
        }
        if (read === 'stalled') {
          // The pending read holds the buffer: this slice is read again, whole, on its own.
          reader.cancel().catch(() => undefined);
          range = undefined;
          slices = sliceReader(file, from);
          return slices.next(lengthBytes);
        }
        if (read.done || !read.value) throw shorter();
        buffer = read.value.buffer;
        filled += read.value.byteLength;
      }
      return new Uint8Array(buffer, 0, lengthBytes);
    },
    release(slice) {
      const { buffer } = slice;
      if (buffer.byteLength === 0 || keptBuffers.includes(buffer)) return;
      keptBuffers.push(buffer);
      if (keptBuffers.length > KEPT_READ_BUFFERS) keptBuffers.shift();
    },
    close() {
      range = undefined;
      reader.cancel().catch(() => undefined);
    },
  };
}

/**
 * Zeroes and drops the read buffers this thread keeps between jobs (they hold the plaintext of
 * the last file read): called when the vault locks or the user signs out. A buffer a job is
 * reading into is not kept while it is in use, so a job in flight is not disturbed.
 * @returns how many buffers were wiped.
 */
export function wipeKeptBuffers(): number {
  const wiped = keptBuffers.splice(0);
  for (const buffer of wiped) new Uint8Array(buffer).fill(0);
  return wiped.length;
}
