/**
 * Builds the bytes of one S3 part from the file: runs inside a module worker (forwarded by
 * src/workers/worker.ts), or in process in Node tests. Reads the part's plaintext in big slices
 * (up to 16 MiB, frame-aligned; the next slice is read while the current one is encrypted), seals
 * frame-sized views of each slice with the content key, and writes header (part 1) and frames
 * into one buffer of the exact part size, which the worker hands back by transfer.
 *
 * Measured in headless Chromium (DESIGN.md, Data flow): slice reads have a fixed cost, so big
 * reads inside the worker beat small ones, and AES-GCM is fastest on calls of at most 768 KiB,
 * which is why frames, not slices, are the unit of encryption.
 */
import { VeilError, needs } from '../core/errors';
import { sealFrame } from '../core/frame';
import { finalFramePlaintextBytes, frameCount } from '../core/sizes';
import { FINAL_FRAME_OVERHEAD_BYTES, REGULAR_FRAME_OVERHEAD_BYTES } from '../core/suites';

/** Plaintext bytes per slice read from the file, at most (rounded down to whole frames). */
export const DEFAULT_READ_BYTES = 16 * 1024 * 1024;

/** What encrypts the frames of a part; absent for the plain server-side modes. */
export interface PartCipher {
  /** The derived content key (non-extractable AES-GCM). */
  readonly contentKey: CryptoKey;
  /** The 32-byte message id. */
  readonly messageId: Uint8Array;
  /** The serialized header (body plus auth tag), given for part 1 only. */
  readonly headerBytes?: Uint8Array;
}

/** One part to build: frames firstSeq..lastSeq of the file. */
export interface PartJob {
  /** The whole file (a Blob is passed to a worker by reference, not copied). */
  readonly file: Blob;
  /** Plaintext bytes per frame. */
  readonly frameBytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly cipher?: PartCipher;
  /** Plaintext bytes per slice read; default DEFAULT_READ_BYTES. */
  readonly readBytes?: number;
}

/** A built part. */
export interface BuiltPart {
  /** The part's bytes, exactly its planned size (a whole ArrayBuffer, transferable). */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Plaintext bytes the part carries. */
  readonly plaintextBytes: number;
  /** Time spent reading the file and sealing frames, in milliseconds. */
  readonly buildMs: number;
}

async function readSlice(file: Blob, startBytes: number, endBytes: number): Promise<Uint8Array> {
  let buffer: ArrayBuffer;
  try {
    buffer = await file.slice(startBytes, endBytes).arrayBuffer();
  } catch (cause) {
    throw new VeilError('UPLOAD_FILE_UNREADABLE', `bytes ${startBytes}..${endBytes}`, { cause });
  }
  if (buffer.byteLength !== endBytes - startBytes) {
    throw new VeilError('UPLOAD_FILE_UNREADABLE', 'the file is shorter than when it was picked');
  }
  return new Uint8Array(buffer);
}

/**
 * Reads and (with `cipher`) encrypts frames `firstSeq..lastSeq` of `file` into one part.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on a bad job, UPLOAD_FILE_UNREADABLE when the
 *   file cannot be read or has shrunk.
 */
export async function buildPart(job: PartJob): Promise<BuiltPart> {
  const startedMs = performance.now();
  // Precondition: a Blob, a frame length, and a seq range within the file's frames.
  needs(job.file instanceof Blob, 'BAD_ARGUMENT', 'file');
  const totalBytes = job.file.size;
  const frames = frameCount(totalBytes, job.frameBytes);
  const { frameBytes, firstSeq, lastSeq, cipher } = job;
  needs(Number.isInteger(firstSeq) && Number.isInteger(lastSeq), 'BAD_ARGUMENT', 'seq range');
  needs(1 <= firstSeq && firstSeq <= lastSeq && lastSeq <= frames, 'OUT_OF_RANGE', 'seq range');
  const readFrames = Math.max(1, Math.floor((job.readBytes ?? DEFAULT_READ_BYTES) / frameBytes));
  const plaintextStart = (firstSeq - 1) * frameBytes;
  const plaintextEnd = Math.min(totalBytes, lastSeq * frameBytes);

  if (!cipher) {
    const bytes = new Uint8Array(plaintextEnd - plaintextStart);
    for (let at = plaintextStart; at < plaintextEnd; at += readFrames * frameBytes) {
      const end = Math.min(plaintextEnd, at + readFrames * frameBytes);
      bytes.set(await readSlice(job.file, at, end), at - plaintextStart);
    }
    return { bytes, plaintextBytes: bytes.length, buildMs: performance.now() - startedMs };
  }

  const headerBytes = cipher.headerBytes ?? new Uint8Array(0);
  const finalInPart = lastSeq === frames;
  const regularFrames = lastSeq - firstSeq + (finalInPart ? 0 : 1);
  const size =
    headerBytes.length +
    regularFrames * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES) +
    (finalInPart
      ? finalFramePlaintextBytes(totalBytes, frameBytes) + FINAL_FRAME_OVERHEAD_BYTES
      : 0);
  const bytes = new Uint8Array(size);
  bytes.set(headerBytes, 0);
  let writeAt = headerBytes.length;

  // Slices of readFrames frames; the next read starts before the current slice is sealed.
  const sliceEnd = (seq: number): number => Math.min(lastSeq, seq + readFrames - 1);
  const read = (seq: number): Promise<Uint8Array> =>
    readSlice(job.file, (seq - 1) * frameBytes, Math.min(totalBytes, sliceEnd(seq) * frameBytes));
  let next: Promise<Uint8Array> | undefined = read(firstSeq);
  for (let sliceSeq = firstSeq; next; sliceSeq = sliceEnd(sliceSeq) + 1) {
    const slice = await next;
    const following = sliceEnd(sliceSeq) + 1;
    next = following <= lastSeq ? read(following) : undefined;
    // Keep a failing prefetch from surfacing as an unhandled rejection; it is awaited next turn.
    next?.catch(() => undefined);
    for (let seq = sliceSeq; seq <= sliceEnd(sliceSeq); seq++) {
      const from = (seq - sliceSeq) * frameBytes;
      const plaintext = slice.subarray(from, Math.min(slice.length, from + frameBytes));
      const { prefix, sealed } = await sealFrame({
        contentKey: cipher.contentKey,
        messageId: cipher.messageId,
        seq,
        isFinal: seq === frames,
        plaintext,
      });
      bytes.set(prefix, writeAt);
      bytes.set(sealed, writeAt + prefix.length);
      writeAt += prefix.length + sealed.length;
    }
  }
  needs(writeAt === size, 'INTERNAL_ERROR', 'part size');
  return {
    bytes,
    plaintextBytes: plaintextEnd - plaintextStart,
    buildMs: performance.now() - startedMs,
  };
}
