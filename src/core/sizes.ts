/**
 * Pure size arithmetic for framed 0x0478 messages as Veil writes them, so the upload engine can
 * plan S3 parts and Content-Length, and the download engine frame-aligned ranges, before a byte is
 * encrypted or fetched.
 *
 * [Note: full final frame] Veil writes the full-final form: a plaintext of n bytes becomes
 * frameCount = max(1, ceil(n / frameBytes)) frames, all regular except the last, which carries
 * n - (frameCount - 1) * frameBytes bytes (1..frameBytes, or 0 only when n = 0). An exact multiple
 * of the frame length therefore ends with a full final frame, never an empty one. The streaming
 * encryptor gets there without knowing n up front by holding back the last frame's bytes until
 * more input arrives or the input ends. Readers accept both forms.
 */
import { needs } from './errors';
import { FINAL_FRAME_OVERHEAD_BYTES, REGULAR_FRAME_OVERHEAD_BYTES } from './suites';

function checkSizes(plaintextBytes: number, frameBytes: number): void {
  // Precondition: a non-negative safe integer size and a frame length of 1..2^32-1.
  needs(Number.isSafeInteger(plaintextBytes), 'BAD_ARGUMENT', 'plaintextBytes');
  needs(plaintextBytes >= 0, 'OUT_OF_RANGE', 'plaintextBytes');
  needs(Number.isSafeInteger(frameBytes), 'BAD_ARGUMENT', 'frameBytes');
  needs(frameBytes >= 1 && frameBytes <= 0xffff_ffff, 'OUT_OF_RANGE', 'frameBytes');
}

/**
 * Number of frames (including the final one) for `plaintextBytes`, see [Note: full final frame].
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes or more than 2^32-2 frames.
 */
export function frameCount(plaintextBytes: number, frameBytes: number): number {
  checkSizes(plaintextBytes, frameBytes);
  const count = Math.max(1, Math.ceil(plaintextBytes / frameBytes));
  needs(count < 0xffff_ffff, 'OUT_OF_RANGE', 'too many frames for this frame length');
  return count;
}

/** Plaintext bytes in the final frame (0 only for an empty plaintext). */
export function finalFramePlaintextBytes(plaintextBytes: number, frameBytes: number): number {
  return plaintextBytes - (frameCount(plaintextBytes, frameBytes) - 1) * frameBytes;
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
): number {
  // Precondition: a non-negative header size.
  needs(Number.isSafeInteger(headerBytes) && headerBytes >= 0, 'OUT_OF_RANGE', 'headerBytes');
  const count = frameCount(plaintextBytes, frameBytes);
  const regularBytes = (count - 1) * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES);
  const finalBytes =
    finalFramePlaintextBytes(plaintextBytes, frameBytes) + FINAL_FRAME_OVERHEAD_BYTES;
  return headerBytes + regularBytes + finalBytes;
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
 * The byte range of frame `seq` (1-based) in a message of `plaintextBytes` written by Veil.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes or a seq beyond the last frame.
 */
export function frameRange(
  seq: number,
  plaintextBytes: number,
  frameBytes: number,
  headerBytes: number,
): FrameRange {
  const count = frameCount(plaintextBytes, frameBytes);
  // Precondition: seq names one of the frames.
  needs(Number.isInteger(seq), 'BAD_ARGUMENT', 'seq');
  needs(seq >= 1 && seq <= count, 'OUT_OF_RANGE', `seq ${seq} of ${count} frames`);
  needs(Number.isSafeInteger(headerBytes) && headerBytes >= 0, 'OUT_OF_RANGE', 'headerBytes');
  const isFinal = seq === count;
  const offsetBytes = headerBytes + (seq - 1) * (frameBytes + REGULAR_FRAME_OVERHEAD_BYTES);
  const framePlaintextBytes = isFinal
    ? finalFramePlaintextBytes(plaintextBytes, frameBytes)
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
 * `plaintextBytes`: fetch frames firstSeq..lastSeq (inclusive) to serve that range.
 * An empty range maps to the single frame holding `startBytes` (or the final frame at the end).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE when the range is not within the plaintext.
 */
export function framesForPlaintextRange(
  startBytes: number,
  endBytes: number,
  plaintextBytes: number,
  frameBytes: number,
): { readonly firstSeq: number; readonly lastSeq: number } {
  const count = frameCount(plaintextBytes, frameBytes);
  // Precondition: 0 <= startBytes <= endBytes <= plaintextBytes.
  needs(
    Number.isSafeInteger(startBytes) && Number.isSafeInteger(endBytes),
    'BAD_ARGUMENT',
    'range',
  );
  needs(0 <= startBytes && startBytes <= endBytes, 'OUT_OF_RANGE', 'range start');
  needs(endBytes <= plaintextBytes, 'OUT_OF_RANGE', 'range end beyond the plaintext');
  const firstSeq = Math.min(count, Math.floor(startBytes / frameBytes) + 1);
  const lastSeq =
    endBytes === startBytes ? firstSeq : Math.min(count, Math.ceil(endBytes / frameBytes));
  return { firstSeq, lastSeq };
}
