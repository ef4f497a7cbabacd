/**
 * Pure size arithmetic for framed 0x0478 messages, so the upload engine can plan S3 parts and
 * Content-Length, and the download engine frame-aligned ranges, before a byte is encrypted or
 * fetched.
 *
 * [Note: empty final frame] Veil writes what client-node and Python ESDK 4.x write: a plaintext
 * of n bytes becomes frameCount = floor(n / frameBytes) + 1 frames, all regular except the last,
 * which carries n mod frameBytes bytes (0..frameBytes-1). So an exact non-zero multiple of the
 * frame length ends with an empty final frame after its full regular frames, and an empty
 * plaintext is one empty final frame. Every official ESDK release reads this form; Python ESDK
 * 3.x and aws-encryption-cli 4.3.0 refuse the other one ("Invalid final frame length").
 * The other form, 'full-final', ends an exact multiple with a full final frame instead
 * (max(1, ceil(n / frameBytes)) frames). ESDK-NET and Veil before this change wrote it; Veil
 * still reads it, and the size functions take the form as an optional last argument for that.
 * Both forms agree on every size that is not an exact non-zero multiple of the frame length.
 *
 * [Note: layout from the size] A body of B bytes with frame length F is r regular frames of F+32
 * bytes and one final frame of L+40 bytes, 0 <= L <= F. Since L <= F < F+32, B-40 = r(F+32) + L
 * has at most one solution, so the size alone tells the layout, in either form: for the same
 * plaintext kF the full-final body is 32 bytes shorter than the empty-final one (r = k-1, L = F
 * against r = k, L = 0). layoutFromCiphertextSize solves it; no solution means the message was
 * cut short, extended or is not this kind of message.
 */
import { VeilError, needs } from './errors';
import { FINAL_FRAME_OVERHEAD_BYTES, REGULAR_FRAME_OVERHEAD_BYTES } from './suites';

/**
 * How a message whose plaintext is an exact non-zero multiple of the frame length ends, see
 * [Note: empty final frame]. Veil writes 'empty-final' and reads both.
 */
export type FinalFrameForm = 'empty-final' | 'full-final';

/** The form Veil writes. */
export const WRITTEN_FINAL_FRAME_FORM: FinalFrameForm = 'empty-final';

/** Largest frame count: seq is a u32 and 0xFFFFFFFF marks the final frame. */
const MAX_FRAMES = 0xffff_fffe;

function checkFrameBytes(frameBytes: number): void {
  // Precondition: a frame length of 1..2^32-1.
  needs(Number.isSafeInteger(frameBytes), 'BAD_ARGUMENT', 'frameBytes');
  needs(frameBytes >= 1 && frameBytes <= 0xffff_ffff, 'OUT_OF_RANGE', 'frameBytes');
}

function checkSizes(plaintextBytes: number, frameBytes: number, form: FinalFrameForm): void {
  // Precondition: a non-negative safe integer size, a frame length and a known form.
  needs(Number.isSafeInteger(plaintextBytes), 'BAD_ARGUMENT', 'plaintextBytes');
  needs(plaintextBytes >= 0, 'OUT_OF_RANGE', 'plaintextBytes');
  checkFrameBytes(frameBytes);
  needs(form === 'empty-final' || form === 'full-final', 'BAD_ARGUMENT', 'form');
}

function checkHeaderBytes(headerBytes: number): void {
  // Precondition: a non-negative header size.
  needs(Number.isSafeInteger(headerBytes) && headerBytes >= 0, 'OUT_OF_RANGE', 'headerBytes');
}

/**
 * Number of frames (including the final one) for `plaintextBytes`, see [Note: empty final frame].
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes or more than 2^32-2 frames.
 */
export function frameCount(
  plaintextBytes: number,
  frameBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): number {
  checkSizes(plaintextBytes, frameBytes, form);
  const count =
    form === 'empty-final'
      ? Math.floor(plaintextBytes / frameBytes) + 1
      : Math.max(1, Math.ceil(plaintextBytes / frameBytes));
  needs(count <= MAX_FRAMES, 'OUT_OF_RANGE', 'too many frames for this frame length');
  return count;
}

/**
 * Plaintext bytes in the final frame: 0..frameBytes-1 in the empty-final form; in the full-final
 * form, frameBytes for an exact non-zero multiple.
 * @throws VeilError as frameCount.
 */
export function finalFramePlaintextBytes(
  plaintextBytes: number,
  frameBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): number {
  return plaintextBytes - (frameCount(plaintextBytes, frameBytes, form) - 1) * frameBytes;
}

/**
 * Total message bytes: `headerBytes` (header body plus auth tag, from the built header) plus the
 * framed body. Unsigned suite, so there is no footer.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes.
 */
export function ciphertextSize(
  plaintextBytes: number,
  frameBytes: number,
  headerBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): number {
  checkHeaderBytes(headerBytes);
  const count = frameCount(plaintextBytes, frameBytes, form);
  const regularBytes = (count - 1) * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES);
  const finalBytes =
    finalFramePlaintextBytes(plaintextBytes, frameBytes, form) + FINAL_FRAME_OVERHEAD_BYTES;
  return headerBytes + regularBytes + finalBytes;
}

/** A framed, unsigned message's layout, as its size tells it ([Note: layout from the size]). */
export interface MessageLayout {
  /** The whole message. */
  readonly ciphertextBytes: number;
  /** Header body plus auth tag: where the first frame starts. */
  readonly headerBytes: number;
  /** Plaintext bytes per regular frame. */
  readonly frameBytes: number;
  /** Regular frames before the final one. */
  readonly regularFrames: number;
  /** All frames, the final one included (the final frame's seq). */
  readonly frameCount: number;
  /** Plaintext bytes of the final frame (0..frameBytes). */
  readonly finalFramePlaintextBytes: number;
  /** Plaintext bytes of the whole message. */
  readonly plaintextBytes: number;
  /**
   * 'full-final' when the final frame is full; every other size is laid out the same in both
   * forms and says 'empty-final'.
   */
  readonly form: FinalFrameForm;
}

/**
 * The layout of a framed, unsigned message of `ciphertextBytes`, in either final-frame form, see
 * [Note: layout from the size]; undefined when no layout has that size.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad sizes.
 */
export function layoutFromCiphertextSize(
  ciphertextBytes: number,
  frameBytes: number,
  headerBytes: number,
): MessageLayout | undefined {
  // Precondition: safe integer sizes and a frame length of 1..2^32-1.
  needs(
    Number.isSafeInteger(ciphertextBytes) && ciphertextBytes >= 0,
    'OUT_OF_RANGE',
    'ciphertextBytes',
  );
  checkFrameBytes(frameBytes);
  checkHeaderBytes(headerBytes);
  const bodyBytes = ciphertextBytes - headerBytes - FINAL_FRAME_OVERHEAD_BYTES;
  if (bodyBytes < 0) return undefined;
  const regularSize = frameBytes + REGULAR_FRAME_OVERHEAD_BYTES;
  const regularFrames = Math.floor(bodyBytes / regularSize);
  const finalBytes = bodyBytes - regularFrames * regularSize;
  if (finalBytes > frameBytes || regularFrames + 1 > MAX_FRAMES) return undefined;
  return {
    ciphertextBytes,
    headerBytes,
    frameBytes,
    regularFrames,
    frameCount: regularFrames + 1,
    finalFramePlaintextBytes: finalBytes,
    plaintextBytes: regularFrames * frameBytes + finalBytes,
    form: finalBytes === frameBytes ? 'full-final' : 'empty-final',
  };
}

/**
 * The plaintext size of a framed, unsigned message of `ciphertextBytes`, in either final-frame
 * form (the inverse of ciphertextSize, see [Note: layout from the size]).
 * @throws VeilError MALFORMED when no framed body has that size, BAD_ARGUMENT / OUT_OF_RANGE on
 *   bad sizes.
 */
export function plaintextSize(
  ciphertextBytes: number,
  frameBytes: number,
  headerBytes: number,
): number {
  const layout = layoutFromCiphertextSize(ciphertextBytes, frameBytes, headerBytes);
  if (!layout) {
    throw new VeilError(
      'MALFORMED',
      `no framed body at frame length ${frameBytes} is ${ciphertextBytes - headerBytes} bytes`,
    );
  }
  return layout.plaintextBytes;
}

/** Where one frame sits in the message and which plaintext it carries. */
export interface FrameRange {
  readonly seq: number;
  readonly isFinal: boolean;
  /** Offset of the frame's first byte in the whole message. */
  readonly offsetBytes: number;
  /** Serialized frame size. */
  readonly lengthBytes: number;
  /** Offset of the frame's first plaintext byte in the plaintext. */
  readonly plaintextOffsetBytes: number;
  /** Plaintext bytes in the frame. */
  readonly plaintextBytes: number;
}

/**
 * The byte range of frame `seq` (1-based) in a message of `plaintextBytes` in `form`.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes or a seq beyond the last frame.
 */
export function frameRange(
  seq: number,
  plaintextBytes: number,
  frameBytes: number,
  headerBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): FrameRange {
  const count = frameCount(plaintextBytes, frameBytes, form);
  // Precondition: seq names one of the frames.
  needs(Number.isInteger(seq), 'BAD_ARGUMENT', 'seq');
  needs(seq >= 1 && seq <= count, 'OUT_OF_RANGE', `seq ${seq} of ${count} frames`);
  checkHeaderBytes(headerBytes);
  const isFinal = seq === count;
  const offsetBytes = headerBytes + (seq - 1) * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES);
  const framePlaintextBytes = isFinal
    ? finalFramePlaintextBytes(plaintextBytes, frameBytes, form)
    : frameBytes;
  return {
    seq,
    isFinal,
    offsetBytes,
    lengthBytes:
      framePlaintextBytes + (isFinal ? FINAL_FRAME_OVERHEAD_BYTES : REGULAR_FRAME_OVERHEAD_BYTES),
    plaintextOffsetBytes: (seq - 1) * frameBytes,
    plaintextBytes: framePlaintextBytes,
  };
}

/**
 * The frames that hold plaintext bytes [startBytes, endBytes) (end exclusive) of a message of
 * `plaintextBytes` in `form`: fetch frames firstSeq..lastSeq (inclusive) to serve that range.
 * An empty range maps to the single frame holding `startBytes` (the final frame at the end). An
 * empty final frame holds no byte, so only an empty range at the end maps to it.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE when the range is not within the plaintext.
 */
export function framesForPlaintextRange(
  startBytes: number,
  endBytes: number,
  plaintextBytes: number,
  frameBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): { readonly firstSeq: number; readonly lastSeq: number } {
  const count = frameCount(plaintextBytes, frameBytes, form);
  checkPlaintextRange(startBytes, endBytes, plaintextBytes);
  const firstSeq = Math.min(count, Math.floor(startBytes / frameBytes) + 1);
  const lastSeq =
    endBytes === startBytes ? firstSeq : Math.min(count, Math.ceil(endBytes / frameBytes));
  return { firstSeq, lastSeq };
}

/**
 * Checks that [startBytes, endBytes) (end exclusive) lies within a plaintext of `plaintextBytes`:
 * the one rule for plaintext ranges, shared by framesForPlaintextRange and the range readers of
 * objects whose size is known (plain objects included).
 * @throws VeilError BAD_ARGUMENT when a bound is not a safe integer, OUT_OF_RANGE when
 *   startBytes < 0, startBytes > endBytes or endBytes > plaintextBytes.
 */
export function checkPlaintextRange(
  startBytes: number,
  endBytes: number,
  plaintextBytes: number,
): void {
  // Precondition: 0 <= startBytes <= endBytes <= plaintextBytes.
  needs(
    Number.isSafeInteger(startBytes) && Number.isSafeInteger(endBytes),
    'BAD_ARGUMENT',
    'range',
  );
  needs(0 <= startBytes && startBytes <= endBytes, 'OUT_OF_RANGE', 'range start');
  needs(endBytes <= plaintextBytes, 'OUT_OF_RANGE', 'range end beyond the plaintext');
}

/**
 * Serialized bytes of one frame that carries `framePlaintextBytes`: a regular frame (always the
 * frame length) adds 32 bytes (seq, IV, tag), the final frame 40 (marker, seq, IV, length, tag).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE unless 0..2^32-1 bytes and a boolean isFinal.
 */
export function serializedFrameBytes(framePlaintextBytes: number, isFinal: boolean): number {
  // Precondition: a frame's plaintext length fits its u32 field.
  needs(Number.isSafeInteger(framePlaintextBytes), 'BAD_ARGUMENT', 'framePlaintextBytes');
  needs(
    framePlaintextBytes >= 0 && framePlaintextBytes <= 0xffff_ffff,
    'OUT_OF_RANGE',
    'framePlaintextBytes',
  );
  needs(typeof isFinal === 'boolean', 'BAD_ARGUMENT', 'isFinal');
  return (
    framePlaintextBytes + (isFinal ? FINAL_FRAME_OVERHEAD_BYTES : REGULAR_FRAME_OVERHEAD_BYTES)
  );
}

/**
 * Serialized bytes of frames firstSeq..lastSeq (inclusive, back to back) of a message of
 * `plaintextBytes` in `form`: what an S3 part or a ranged GET of those frames holds, without the
 * header. The final frame counts with its own length when lastSeq is the final frame.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes or a seq range outside the message.
 */
export function framesByteSize(
  firstSeq: number,
  lastSeq: number,
  plaintextBytes: number,
  frameBytes: number,
  form: FinalFrameForm = WRITTEN_FINAL_FRAME_FORM,
): number {
  const count = frameCount(plaintextBytes, frameBytes, form);
  // Precondition: 1 <= firstSeq <= lastSeq <= the frame count.
  needs(Number.isInteger(firstSeq) && Number.isInteger(lastSeq), 'BAD_ARGUMENT', 'seq range');
  needs(1 <= firstSeq && firstSeq <= lastSeq, 'OUT_OF_RANGE', 'seq range');
  needs(lastSeq <= count, 'OUT_OF_RANGE', `seq ${lastSeq} of ${count} frames`);
  const includesFinal = lastSeq === count;
  const regularFrames = lastSeq - firstSeq + (includesFinal ? 0 : 1);
  const finalBytes = includesFinal
    ? finalFramePlaintextBytes(plaintextBytes, frameBytes, form) + FINAL_FRAME_OVERHEAD_BYTES
    : 0;
  return regularFrames * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES) + finalBytes;
}
