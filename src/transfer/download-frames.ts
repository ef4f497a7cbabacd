/**
 * Decrypts one ranged GET's worth of whole frames: runs inside a module worker (forwarded by
 * src/workers/worker.ts), or in process in Node tests. Each frame goes through the core's
 * decryptFrame (seq, final marker, canonical IV, size and tag checked); the plaintext of the batch
 * comes back as one buffer, handed to the page by transfer. Nothing is returned unless every
 * frame of the batch verified.
 */
import { VeilError, decryptFrame, needs, readFrameHeader } from '../core';

/** Frames firstSeq.. of one message, back to back, as fetched. */
export interface FramesJob {
  /** The derived content key (non-extractable AES-GCM; crosses to a worker by clone). */
  readonly contentKey: CryptoKey;
  /** The 32-byte message id. */
  readonly messageId: Uint8Array;
  /** Plaintext bytes per regular frame. */
  readonly frameBytes: number;
  /** Seq of the first frame in `frames`. */
  readonly firstSeq: number;
  /** Seq of the last frame in `frames`. */
  readonly lastSeq: number;
  /** Seq of the message's final frame. */
  readonly finalSeq: number;
  /** The frames' bytes (transferred to the worker). */
  readonly frames: Uint8Array<ArrayBuffer>;
}

/** A decrypted batch. */
export interface OpenedFrames {
  /** The plaintext of every frame, in order (a whole ArrayBuffer, transferable). */
  readonly plaintext: Uint8Array<ArrayBuffer>;
  /** Time spent decrypting, in milliseconds. */
  readonly decryptMs: number;
}

/**
 * Decrypts frames `firstSeq..lastSeq` from `job.frames`.
 * @throws VeilError OUT_OF_ORDER, NON_CANONICAL_IV, MALFORMED, FRAME_TAMPERED (from the core),
 *   BAD_ARGUMENT / OUT_OF_RANGE on a bad job.
 */
export async function decryptFrames(job: FramesJob): Promise<OpenedFrames> {
  const startedMs = performance.now();
  // Precondition: bytes, and a seq range that ends at or before the final frame.
  needs(job.frames instanceof Uint8Array, 'BAD_ARGUMENT', 'frames');
  needs(
    Number.isInteger(job.firstSeq) && Number.isInteger(job.lastSeq),
    'BAD_ARGUMENT',
    'seq range',
  );
  needs(
    1 <= job.firstSeq && job.firstSeq <= job.lastSeq && job.lastSeq <= job.finalSeq,
    'OUT_OF_RANGE',
    'seq range',
  );
  const { frames, frameBytes } = job;
  const pieces: Uint8Array[] = [];
  let plaintextBytes = 0;
  let at = 0;
  for (let seq = job.firstSeq; seq <= job.lastSeq; seq++) {
    const isFinal = seq === job.finalSeq;
    // The size is what the frame's own fields say; decryptFrame then checks it is frame `seq`,
    // final or not as expected (OUT_OF_ORDER otherwise), and its tag.
    const head = readFrameHeader(frames, at, frameBytes);
    const size = head?.frameSizeBytes ?? Infinity;
    if (at + size > frames.length) throw new VeilError('MALFORMED', `frame ${seq} is cut short`);
    const plaintext = await decryptFrame({
      contentKey: job.contentKey,
      messageId: job.messageId,
      seq,
      isFinal,
      frame: frames.subarray(at, at + size),
      frameBytes,
    });
    pieces.push(plaintext);
    plaintextBytes += plaintext.length;
    at += size;
  }
  if (at !== frames.length) throw new VeilError('MALFORMED', 'bytes after the last frame');
  const plaintext = new Uint8Array(plaintextBytes);
  let writeAt = 0;
  for (const piece of pieces) {
    plaintext.set(piece, writeAt);
    writeAt += piece.length;
  }
  return { plaintext, decryptMs: performance.now() - startedMs };
}
