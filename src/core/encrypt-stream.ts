/**
 * Streaming encryption as a WHATWG TransformStream: plaintext chunks in, a framed 0x0478 message
 * out (header first, then frames in order). Memory is the chunk in hand plus a few frames.
 * Writes the empty-final form, see [Note: empty final frame] in sizes.ts: a frame is sealed as a
 * regular frame as soon as it is full, and the end of input seals what is left (0..frameBytes-1
 * bytes) as the final frame, so an exact multiple of the frame length ends with an empty final
 * frame. Frames of one chunk are sealed concurrently (framesInFlight) and emitted in order, as in
 * [Note: frames in flight].
 */
import { VeilError, needs } from './errors';
import type { SealedFrame } from './frame';
import { sealFrame } from './frame';
import type { WriteOptions, WrittenHeader } from './message';
import { createMessageHeader } from './message';

/** Options of a streaming encryption. */
export interface EncryptStreamOptions extends WriteOptions {
  /** When given, the input must have exactly this many bytes (else LENGTH_MISMATCH). */
  readonly plaintextBytes?: number;
  /** Called with the header once built, before any frame (e.g. to plan parts or store it). */
  readonly onHeader?: (header: WrittenHeader) => void;
  /** Frames sealed concurrently, emitted in order; default 2. */
  readonly framesInFlight?: number;
}

/**
 * A TransformStream that encrypts its input into one ESDK message (suite 0x0478, framed).
 * @throws (through the stream) whatever createMessageHeader throws, LENGTH_MISMATCH, and
 *   BAD_ARGUMENT for a chunk that is not a Uint8Array.
 */
export function createEncryptStream(
  options: EncryptStreamOptions,
): TransformStream<Uint8Array, Uint8Array> {
  // Precondition: options object; plaintextBytes, when given, a non-negative safe integer;
  // framesInFlight, when given, a positive integer.
  needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
  const expectedBytes = options.plaintextBytes;
  needs(
    expectedBytes === undefined || (Number.isSafeInteger(expectedBytes) && expectedBytes >= 0),
    'OUT_OF_RANGE',
    'plaintextBytes',
  );
  const framesInFlight = options.framesInFlight ?? 2;
  needs(
    Number.isSafeInteger(framesInFlight) && framesInFlight >= 1,
    'OUT_OF_RANGE',
    'framesInFlight',
  );
  let written: WrittenHeader | undefined;
  let frameBytes = 0;
  /** Plaintext of the frame being filled (owned: zeroed once sealed). */
  let pending = new Uint8Array(0);
  let pendingBytes = 0;
  let seq = 1;
  let totalBytes = 0;
  const inFlight: Promise<SealedFrame>[] = [];

  /** Starts sealing one frame; `owned` buffers are zeroed once sealed. */
  const launch = (plaintext: Uint8Array, isFinal: boolean, owned: Uint8Array | undefined): void => {
    if (!written) throw new VeilError('BAD_ARGUMENT', 'header not built');
    const sealing = sealFrame({
      contentKey: written.contentKey,
      messageId: written.messageId,
      seq,
      isFinal,
      plaintext,
    }).finally(() => owned?.fill(0));
    sealing.catch(() => undefined); // rejections are rethrown in order by drain
    seq += 1;
    inFlight.push(sealing);
  };

  const drain = async (
    controller: TransformStreamDefaultController<Uint8Array>,
    keep: number,
  ): Promise<void> => {
    while (inFlight.length > keep) {
      const next = inFlight.shift();
      if (!next) return;
      const { prefix, sealed } = await next;
      controller.enqueue(prefix);
      controller.enqueue(sealed);
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    start: async (controller) => {
      written = await createMessageHeader(options);
      frameBytes = written.frameBytes;
      pending = new Uint8Array(frameBytes);
      options.onHeader?.(written);
      controller.enqueue(written.headerBytes);
    },
    transform: async (chunk, controller) => {
      // Precondition: the stream carries bytes.
      needs(chunk instanceof Uint8Array, 'BAD_ARGUMENT', 'a plaintext chunk is not a Uint8Array');
      totalBytes += chunk.length;
      if (expectedBytes !== undefined && totalBytes > expectedBytes) {
        throw new VeilError('LENGTH_MISMATCH', `more than the ${expectedBytes} bytes announced`);
      }
      let offsetBytes = 0;
      while (offsetBytes < chunk.length) {
        if (pendingBytes === 0 && chunk.length - offsetBytes >= frameBytes) {
          // Seal straight from the chunk when a whole frame is in hand.
          launch(chunk.subarray(offsetBytes, offsetBytes + frameBytes), false, undefined);
          offsetBytes += frameBytes;
        } else {
          const copyBytes = Math.min(frameBytes - pendingBytes, chunk.length - offsetBytes);
          pending.set(chunk.subarray(offsetBytes, offsetBytes + copyBytes), pendingBytes);
          pendingBytes += copyBytes;
          offsetBytes += copyBytes;
          if (pendingBytes < frameBytes) continue;
          // A full frame is a regular frame: the final one carries the rest, maybe nothing.
          launch(pending, false, pending);
          pending = new Uint8Array(frameBytes);
          pendingBytes = 0;
        }
        await drain(controller, framesInFlight - 1);
      }
      // The chunk is the caller's: nothing may still read it once this call returns.
      await drain(controller, 0);
    },
    flush: async (controller) => {
      if (expectedBytes !== undefined && totalBytes !== expectedBytes) {
        throw new VeilError('LENGTH_MISMATCH', `${totalBytes} bytes, expected ${expectedBytes}`);
      }
      launch(pending.subarray(0, pendingBytes), true, pending);
      await drain(controller, 0);
    },
  });
}
