/**
 * Decrypts one ranged GET's worth of whole frames: runs inside a module worker (forwarded by
 * src/workers/worker.ts), or in process in Node tests. Each frame goes through the core's
 * decryptFrame (seq, final marker, canonical IV, size and tag checked); each frame's plaintext
 * comes back in the buffer WebCrypto wrote it to, handed to the page by transfer ([Note: fresh
 * buffers]). Nothing is returned unless every frame of the batch verified.
 *
 * [Note: frames in flight] The AES-GCM work of `crypto.subtle.decrypt` does not run on the
 * calling (worker) thread: Chromium hands it to the renderer's thread pool. A worker that awaits
 * one frame before it starts the next keeps one call in flight and its thread mostly waiting, so
 * the frames of a job are started FRAMES_IN_FLIGHT at a time and their results taken in order.
 * What the page sees does not change: the job still answers only after every frame verified,
 * and a failure is the one a frame-by-frame walk would have met first (the lowest seq's).
 *
 * [Note: fresh buffers] On these machines the first write to a newly allocated buffer costs
 * about as much CPU as AES-GCM over the same bytes (`bench:download` measured 3.6 to 4.5 s per
 * GiB for a fresh 8 MiB buffer filled by copy, against 0.1 s to copy into a buffer used before,
 * and 4.5 to 4.9 s to decrypt): the page faults of memory never touched, not the copy. So a
 * batch's plaintext is not joined into one buffer: the frames go to the page as WebCrypto
 * returned them, each buffer transferred, and are written one after another.
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
  /** The plaintext of each frame, in order, each a whole ArrayBuffer (transferable). */
  readonly plaintext: readonly Uint8Array<ArrayBuffer>[];
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
  const steps = frameSteps(job);
  const opened = await inFlight(steps, (step) =>
    decryptFrame({
      contentKey: job.contentKey,
      messageId: job.messageId,
      seq: step.seq,
      isFinal: step.seq === job.finalSeq,
      frame: frames.subarray(step.atBytes, step.atBytes + step.sizeBytes),
      frameBytes,
    }),
  );
  const plaintext: Uint8Array<ArrayBuffer>[] = [];
  for (const step of steps) {
    if (step.error) throw step.error;
    const result = opened[plaintext.length];
    if (!result || result.status === 'rejected') throw result?.reason;
    plaintext.push(wholeBuffer(result.value));
  }
  return { plaintext, decryptMs: performance.now() - startedMs };
}

/** Frames a job decrypts at once ([Note: frames in flight]). */
export const FRAMES_IN_FLIGHT = 4;

/** One frame of a job where its own fields put it, or the structural failure met there. */
interface FrameStep {
  readonly seq: number;
  readonly atBytes: number;
  readonly sizeBytes: number;
  readonly error?: VeilError;
}

/**
 * Walks the frames of `job.frames` by their own size fields, in order, as the frame-by-frame
 * loop did: a frame cut short, or bytes after the last frame, end the walk with that failure.
 * decryptFrame then checks that each frame is frame `seq`, final or not as expected, and its tag.
 */
function frameSteps(job: FramesJob): FrameStep[] {
  const { frames, frameBytes } = job;
  const steps: FrameStep[] = [];
  let at = 0;
  for (let seq = job.firstSeq; seq <= job.lastSeq; seq++) {
    const head = readFrameHeader(frames, at, frameBytes);
    const size = head?.frameSizeBytes ?? Infinity;
    if (at + size > frames.length) {
      steps.push({
        seq,
        atBytes: at,
        sizeBytes: 0,
        error: new VeilError('MALFORMED', `frame ${seq} is cut short`),
      });
      return steps;
    }
    steps.push({ seq, atBytes: at, sizeBytes: size });
    at += size;
  }
  if (at !== frames.length) {
    steps.push({
      seq: job.lastSeq + 1,
      atBytes: at,
      sizeBytes: 0,
      error: new VeilError('MALFORMED', 'bytes after the last frame'),
    });
  }
  return steps;
}

/**
 * Runs `decrypt` over the steps without an error, at most FRAMES_IN_FLIGHT at once; the results
 * in step order, each settled.
 */
async function inFlight(
  steps: readonly FrameStep[],
  decrypt: (step: FrameStep) => Promise<Uint8Array>,
): Promise<PromiseSettledResult<Uint8Array>[]> {
  const runnable = steps.filter((step) => !step.error);
  const results: PromiseSettledResult<Uint8Array>[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < runnable.length) {
      const index = next++;
      const step = runnable[index] as FrameStep;
      try {
        results[index] = { status: 'fulfilled', value: await decrypt(step) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FRAMES_IN_FLIGHT, runnable.length) }, lane));
  return results;
}

/** `bytes` as a whole ArrayBuffer (transferable): itself when it already is one, else a copy. */
function wholeBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}
