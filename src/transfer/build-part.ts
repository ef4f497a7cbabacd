/**
 * Builds the bytes of S3 parts from the file: runs inside a module worker (forwarded by
 * src/workers/worker.ts), or in process in Node tests. A job is one part or a run of consecutive
 * parts; the worker reads the run's plaintext in big slices (up to 16 MiB, frame-aligned, across
 * part boundaries; the next slice is read while the current one is sealed), seals frame-sized
 * views of each slice with the content key, and writes header (part 1) and frames into one
 * buffer per part, of the exact part size, which the worker hands back by transfer.
 *
 * [Note: part runs] Slice reads have a fixed cost, so big reads inside the worker beat small
 * ones, and AES-GCM is fastest on calls of at most 768 KiB (DESIGN.md, Data flow): frames, not
 * slices, are the unit of encryption. With 8 MiB parts a one-part job could read only 8 MiB and
 * had nothing to prefetch; a run of consecutive parts lets one worker stream through 16 to 32 MiB
 * of the file with a read always in flight. The page still holds at most `partsInFlight` parts:
 * a run counts as its parts (upload.ts sizes runs from `partsInFlight` and the pool size).
 *
 * [Note: recycled part buffers] The first write to a new 8 MiB buffer costs about as much CPU as
 * encrypting it (the page faults of fresh memory; [Note: fresh buffers] in the README's issue-22
 * section), while a copy into a buffer used before costs a twentieth of that. So the engine hands
 * each part's buffer back once it is done with the part (PartBuilder.recycle), the worker pool
 * sends those buffers with the next job (`spare`, transferred), and a part whose size equals a
 * spare buffer's length is written into it. Every byte of a reused buffer is written again (the
 * size check at the end fails otherwise), so nothing of an earlier part can remain in it.
 *
 * [Note: checksum as written] Each part's CRC-32 is carried along as its bytes are written (the
 * header, then each frame's prefix and sealed bytes, right after the seal returns them), not
 * computed over the finished 8 MiB part: the bytes are read while still in the core's cache, and
 * the CRC is of exactly the bytes written, in order, so it equals the CRC of the whole part.
 */
import { WRITTEN_FINAL_FRAME_FORM, frameCount, framesByteSize, needs, sealFrame } from '../core';
import type { FinalFrameForm } from '../core';
import { crc32, crc32Base64 } from './crc32';
import { openRange } from './part-reader';

/** The worker's kept read buffers, wiped on lock and sign-out (for worker.ts, which imports only this file). */
export { wipeKeptBuffers } from './part-reader';
import { frameHash, partDigest } from './part-digest';

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
  /** The resume digest key: with it, each part gets a plaintextDigest ([Note: resume digests]). */
  readonly digestKey?: CryptoKey;
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
  /** The plan's final-frame form (UploadPlan.finalFrameForm); default 'empty-final'. */
  readonly finalFrameForm?: FinalFrameForm;
  /** Buffers the part may be written into ([Note: recycled part buffers]). */
  readonly spare?: readonly ArrayBuffer[];
}

/** A run of consecutive parts to build in one job (see [Note: part runs]). */
export interface PartRunJob {
  /** The whole file (a Blob is passed to a worker by reference, not copied). */
  readonly file: Blob;
  /** Plaintext bytes per frame. */
  readonly frameBytes: number;
  /** The parts' frame ranges, in order, each starting right after the previous one. */
  readonly parts: readonly { readonly firstSeq: number; readonly lastSeq: number }[];
  /** The cipher; its `headerBytes`, when given, go at the start of the first part (part 1). */
  readonly cipher?: PartCipher;
  /** Plaintext bytes per slice read; default DEFAULT_READ_BYTES. */
  readonly readBytes?: number;
  /** The plan's final-frame form (UploadPlan.finalFrameForm); default 'empty-final'. */
  readonly finalFrameForm?: FinalFrameForm;
  /**
   * Buffers the parts may be written into, each used for at most one part whose size equals its
   * length; the others are dropped ([Note: recycled part buffers]).
   */
  readonly spare?: readonly ArrayBuffer[];
}

/** A built part. */
export interface BuiltPart {
  /** The part's bytes, exactly its planned size (a whole ArrayBuffer, transferable). */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Plaintext bytes the part carries. */
  readonly plaintextBytes: number;
  /** Time spent reading the file and sealing frames (for a run: the whole run), in ms. */
  readonly buildMs: number;
  /** The part's CRC-32 as S3 writes it (base64), for UploadPart's ChecksumCRC32. */
  readonly checksumCrc32?: string;
  /** The keyed digest of the plaintext encrypted into the part ([Note: resume digests]). */
  readonly plaintextDigest?: string;
}

/** A buffer of exactly `sizeBytes`: one of `spare` (removed from it) when one fits, else a new one. */
function partBuffer(spare: ArrayBuffer[], sizeBytes: number): Uint8Array<ArrayBuffer> {
  const index = spare.findIndex((buffer) => buffer.byteLength === sizeBytes);
  if (index < 0) return new Uint8Array(sizeBytes);
  const [buffer] = spare.splice(index, 1);
  return new Uint8Array(buffer ?? new ArrayBuffer(sizeBytes));
}

/**
 * Reads and (with `cipher`) encrypts frames `firstSeq..lastSeq` of `file` into one part.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on a bad job, UPLOAD_FILE_UNREADABLE when the
 *   file cannot be read or has shrunk.
 */
export async function buildPart(job: PartJob): Promise<BuiltPart> {
  const { firstSeq, lastSeq, ...rest } = job;
  const [part] = await buildParts({ ...rest, parts: [{ firstSeq, lastSeq }] });
  needs(part, 'INTERNAL_ERROR', 'no part built');
  return part;
}

/** One part being filled. */
interface Output {
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** SHA-256 of each frame's plaintext, when the cipher has a digest key. */
  readonly frameHashes: Promise<Uint8Array>[];
  readonly plaintextBytes: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
  writeAt: number;
  /** CRC-32 of bytes[0, writeAt), kept up as they are written ([Note: checksum as written]). */
  crc: number;
}

/**
 * Reads and (with `cipher`) encrypts a run of consecutive parts (see [Note: part runs]).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on a bad job (parts not consecutive, out of the
 *   file's frames), UPLOAD_FILE_UNREADABLE when the file cannot be read or has shrunk.
 */
export async function buildParts(job: PartRunJob): Promise<BuiltPart[]> {
  const startedMs = performance.now();
  // Precondition: a Blob, a frame length, and consecutive seq ranges within the file's frames.
  needs(job.file instanceof Blob, 'BAD_ARGUMENT', 'file');
  needs(typeof job.parts?.length === 'number' && job.parts.length > 0, 'BAD_ARGUMENT', 'parts');
  const totalBytes = job.file.size;
  const form = job.finalFrameForm ?? WRITTEN_FINAL_FRAME_FORM;
  const frames = frameCount(totalBytes, job.frameBytes, form);
  const { frameBytes, cipher } = job;
  let expectedFirst: number | undefined;
  for (const { firstSeq, lastSeq } of job.parts) {
    needs(Number.isInteger(firstSeq) && Number.isInteger(lastSeq), 'BAD_ARGUMENT', 'seq range');
    needs(1 <= firstSeq && firstSeq <= lastSeq && lastSeq <= frames, 'OUT_OF_RANGE', 'seq range');
    needs(expectedFirst === undefined || firstSeq === expectedFirst, 'BAD_ARGUMENT', 'parts');
    expectedFirst = lastSeq + 1;
  }
  const runFirst = job.parts[0]?.firstSeq ?? 1;
  const runLast = job.parts[job.parts.length - 1]?.lastSeq ?? 0;
  const readFrames = Math.max(1, Math.floor((job.readBytes ?? DEFAULT_READ_BYTES) / frameBytes));
  const headerBytes = cipher?.headerBytes ?? new Uint8Array(0);
  const spare = (job.spare ?? []).filter(
    (buffer) => buffer instanceof ArrayBuffer && buffer.byteLength > 0,
  );
  const outputs: Output[] = job.parts.map(({ firstSeq, lastSeq }, index) => {
    const head = index === 0 ? headerBytes.length : 0;
    const plaintextBytes = Math.min(totalBytes, lastSeq * frameBytes) - (firstSeq - 1) * frameBytes;
    const size =
      head +
      (cipher ? framesByteSize(firstSeq, lastSeq, totalBytes, frameBytes, form) : plaintextBytes);
    return {
      firstSeq,
      lastSeq,
      frameHashes: [],
      plaintextBytes,
      bytes: partBuffer(spare, size),
      writeAt: head,
      crc: index === 0 ? crc32(headerBytes) : 0,
    };
  });
  outputs[0]?.bytes.set(headerBytes, 0);

  // Slices of readFrames frames across the run, from one reader of the run's bytes; the next read
  // starts before this one is sealed ([Note: reused read buffers] in part-reader.ts).
  const sliceEnd = (seq: number): number => Math.min(runLast, seq + readFrames - 1);
  const startOf = (seq: number): number => (seq - 1) * frameBytes;
  const endOf = (seq: number): number => Math.min(totalBytes, sliceEnd(seq) * frameBytes);
  const reader = openRange(job.file, startOf(runFirst), endOf(runLast));
  const read = (seq: number): Promise<Uint8Array<ArrayBuffer>> =>
    reader.next(endOf(seq) - startOf(seq));
  try {
    let partIndex = 0;
    let next: Promise<Uint8Array<ArrayBuffer>> | undefined = read(runFirst);
    for (let sliceSeq = runFirst; next; sliceSeq = sliceEnd(sliceSeq) + 1) {
      const slice = await next;
      const following = sliceEnd(sliceSeq) + 1;
      next = following <= runLast ? read(following) : undefined;
      // Keep a failing prefetch from surfacing as an unhandled rejection; it is awaited next turn.
      next?.catch(() => undefined);
      for (let seq = sliceSeq; seq <= sliceEnd(sliceSeq); seq++) {
        while ((outputs[partIndex]?.lastSeq ?? Infinity) < seq) partIndex++;
        const out = outputs[partIndex];
        needs(out, 'INTERNAL_ERROR', 'frame outside the run');
        const from = (seq - sliceSeq) * frameBytes;
        const plaintext = slice.subarray(from, Math.min(slice.length, from + frameBytes));
        if (!cipher) {
          out.bytes.set(plaintext, out.writeAt);
          out.writeAt += plaintext.length;
          out.crc = crc32(plaintext, out.crc);
          continue;
        }
        // The hash runs beside the seal (WebCrypto works off the calling thread).
        if (cipher.digestKey) out.frameHashes.push(frameHash(plaintext));
        const { prefix, sealed } = await sealFrame({
          contentKey: cipher.contentKey,
          messageId: cipher.messageId,
          seq,
          isFinal: seq === frames,
          plaintext,
        });
        out.bytes.set(prefix, out.writeAt);
        out.bytes.set(sealed, out.writeAt + prefix.length);
        out.writeAt += prefix.length + sealed.length;
        out.crc = crc32(sealed, crc32(prefix, out.crc));
      }
      // Every frame of the slice was sealed and hashed (WebCrypto copied them): its buffer is free.
      reader.release(slice);
    }
  } finally {
    reader.close();
  }
  const digestKey = cipher?.digestKey;
  const digests = await Promise.all(
    outputs.map(async (out) =>
      digestKey ? partDigest(digestKey, out, await Promise.all(out.frameHashes)) : undefined,
    ),
  );
  const buildMs = performance.now() - startedMs;
  return outputs.map((out, index) => {
    needs(out.writeAt === out.bytes.length, 'INTERNAL_ERROR', 'part size');
    const plaintextDigest = digests[index];
    return {
      bytes: out.bytes,
      plaintextBytes: out.plaintextBytes,
      buildMs,
      checksumCrc32: crc32Base64(out.crc),
      ...(plaintextDigest ? { plaintextDigest } : {}),
    };
  });
}
