/**
 * Pure planning for downloads: what kind of object this is, where each frame of a framed message
 * sits, which ranged GETs fetch it, and which frames hold a plaintext byte range.
 *
 * [Note: body layout from the object size] A framed object may end either way: with an empty
 * final frame (what Veil, client-node and Python ESDK 4.x write) or, for an exact multiple of the
 * frame length, with a full final frame (ESDK-NET, and Veil objects written before it switched).
 * The download never assumes one: it takes the layout from the object's size through the core's
 * layoutFromCiphertextSize ([Note: layout from the size] in sizes.ts), which has at most one
 * answer for any size, since the two forms of the same plaintext differ by 32 bytes. When there
 * is none (or the last frame turns out not to be that final frame) the object is truncated, has
 * trailing bytes or was altered, and the download reads it sequentially instead, where the core's
 * stream says exactly which (see download.ts).
 */
import { VeilError, needs } from '../core/errors';
import { layoutFromCiphertextSize } from '../core/sizes';
import { FINAL_FRAME_OVERHEAD_BYTES, REGULAR_FRAME_OVERHEAD_BYTES } from '../core/suites';

/** User metadata value of x-amz-meta-veil-format for plain uploads (see prepare.ts). */
const PLAIN_FORMAT = 'plain';

/** First bytes of an ESDK v2 message: version 2, suite 0x0478 or 0x0578, then the message id. */
const ESDK_V2_PREFIXES = [
  [0x02, 0x04, 0x78],
  [0x02, 0x05, 0x78],
] as const;

/** Bytes classifyObject needs from the start of the object. */
export const SNIFF_BYTES = 3;

/**
 * 'esdk' for an AWS Encryption SDK v2 message, 'plain' for anything else (a plain or SSE-only
 * upload), which downloads as it is. Veil's metadata wins; without it the first bytes decide.
 */
export function classifyObject(
  metadata: Readonly<Record<string, string>> | undefined,
  firstBytes: Uint8Array,
): 'esdk' | 'plain' {
  const format = metadata?.['veil-format'];
  if (format === PLAIN_FORMAT) return 'plain';
  if (format !== undefined && format.startsWith('esdk')) return 'esdk';
  const matches = ESDK_V2_PREFIXES.some((prefix) =>
    prefix.every((byte, index) => firstBytes[index] === byte),
  );
  return matches ? 'esdk' : 'plain';
}

/** Where the frames of a framed message sit, derived from the object size. */
export interface BodyLayout {
  readonly objectBytes: number;
  /** Header body plus auth tag: where the first frame starts. */
  readonly headerBytes: number;
  /** Plaintext bytes per regular frame. */
  readonly frameBytes: number;
  /** Regular frames before the final one. */
  readonly regularFrames: number;
  /** Plaintext bytes of the final frame (0..frameBytes). */
  readonly finalPlaintextBytes: number;
  /** All frames, the final one included (its seq). */
  readonly frameCount: number;
  /** Plaintext bytes of the whole message. */
  readonly plaintextBytes: number;
}

/**
 * The layout of a framed, unsigned message of `objectBytes` bytes, see [Note: body layout from
 * the object size]; undefined when no layout fits the size.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad sizes.
 */
export function bodyLayout(
  objectBytes: number,
  headerBytes: number,
  frameBytes: number,
): BodyLayout | undefined {
  // Precondition: safe integer sizes and a frame length of 1..2^32-1 (checked by the core).
  const layout = layoutFromCiphertextSize(objectBytes, frameBytes, headerBytes);
  if (!layout) return undefined;
  return {
    objectBytes,
    headerBytes,
    frameBytes,
    regularFrames: layout.regularFrames,
    finalPlaintextBytes: layout.finalFramePlaintextBytes,
    frameCount: layout.frameCount,
    plaintextBytes: layout.plaintextBytes,
  };
}

/** Offset of frame `seq` in the object. */
export function frameOffsetBytes(layout: BodyLayout, seq: number): number {
  return layout.headerBytes + (seq - 1) * (layout.frameBytes + REGULAR_FRAME_OVERHEAD_BYTES);
}

/** One ranged GET of whole frames. */
export interface FrameBatch {
  readonly index: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** First byte of the range in the object. */
  readonly startBytes: number;
  /** One past the last byte (the HTTP Range header's last byte is endBytes - 1). */
  readonly endBytes: number;
  /** Plaintext offset of firstSeq's first byte. */
  readonly plaintextOffsetBytes: number;
  /** Plaintext bytes the batch yields. */
  readonly plaintextBytes: number;
}

/**
 * Splits frames firstSeq..lastSeq into ranged GETs of whole frames, each about `targetBytes`
 * (at least one frame).
 * @throws VeilError OUT_OF_RANGE for a seq range outside the message or a bad target.
 */
export function planBatches(
  layout: BodyLayout,
  targetBytes: number,
  firstSeq = 1,
  lastSeq = layout.frameCount,
): FrameBatch[] {
  // Precondition: a positive target and seqs within the message.
  needs(Number.isSafeInteger(targetBytes) && targetBytes >= 1, 'OUT_OF_RANGE', 'targetBytes');
  needs(
    Number.isInteger(firstSeq) && Number.isInteger(lastSeq),
    'BAD_ARGUMENT',
    'seq range must be integers',
  );
  needs(1 <= firstSeq && firstSeq <= lastSeq, 'OUT_OF_RANGE', 'seq range');
  needs(lastSeq <= layout.frameCount, 'OUT_OF_RANGE', 'seq beyond the final frame');
  const regularSize = layout.frameBytes + REGULAR_FRAME_OVERHEAD_BYTES;
  const framesPerBatch = Math.max(1, Math.floor(targetBytes / regularSize));
  const batches: FrameBatch[] = [];
  for (let seq = firstSeq; seq <= lastSeq; seq += framesPerBatch) {
    const last = Math.min(lastSeq, seq + framesPerBatch - 1);
    const includesFinal = last === layout.frameCount;
    const regularInBatch = last - seq + (includesFinal ? 0 : 1);
    const plaintextBytes =
      regularInBatch * layout.frameBytes + (includesFinal ? layout.finalPlaintextBytes : 0);
    const startBytes = frameOffsetBytes(layout, seq);
    batches.push({
      index: batches.length,
      firstSeq: seq,
      lastSeq: last,
      startBytes,
      endBytes:
        startBytes +
        regularInBatch * regularSize +
        (includesFinal ? layout.finalPlaintextBytes + FINAL_FRAME_OVERHEAD_BYTES : 0),
      plaintextOffsetBytes: (seq - 1) * layout.frameBytes,
      plaintextBytes,
    });
  }
  return batches;
}

/**
 * The frames that hold plaintext bytes [startBytes, endBytes) of the message (like the core's
 * framesForPlaintextRange, but for both final-frame forms). An empty range maps to one frame.
 * @throws VeilError OUT_OF_RANGE when the range is not within the plaintext.
 */
export function framesForRange(
  layout: BodyLayout,
  startBytes: number,
  endBytes: number,
): { readonly firstSeq: number; readonly lastSeq: number } {
  // Precondition: 0 <= startBytes <= endBytes <= plaintextBytes.
  needs(
    Number.isSafeInteger(startBytes) && Number.isSafeInteger(endBytes),
    'BAD_ARGUMENT',
    'range',
  );
  needs(0 <= startBytes && startBytes <= endBytes, 'OUT_OF_RANGE', 'range start');
  needs(endBytes <= layout.plaintextBytes, 'OUT_OF_RANGE', 'range end beyond the plaintext');
  const firstSeq = Math.min(layout.frameCount, Math.floor(startBytes / layout.frameBytes) + 1);
  const lastSeq =
    endBytes === startBytes
      ? firstSeq
      : Math.min(layout.frameCount, Math.ceil(endBytes / layout.frameBytes));
  return { firstSeq, lastSeq };
}

/**
 * Checks that the bytes of the final frame (fetched at its planned offset) are a final frame with
 * the planned seq and length. False means the layout does not hold (see [Note: body layout from
 * the object size]).
 */
export function finalFrameMatches(layout: BodyLayout, frame: Uint8Array): boolean {
  if (frame.length !== layout.finalPlaintextBytes + FINAL_FRAME_OVERHEAD_BYTES) return false;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return (
    view.getUint32(0) === 0xffff_ffff &&
    view.getUint32(4) === layout.frameCount &&
    view.getUint32(4 + 4 + 12) === layout.finalPlaintextBytes
  );
}

/** The next header range to fetch: at least `needBytes`, doubling, at most the object. */
export function nextHeaderRange(
  fetchedBytes: number,
  needBytes: number,
  objectBytes: number,
): number {
  if (fetchedBytes >= objectBytes) throw new VeilError('TRUNCATED', 'in the header');
  return Math.min(objectBytes, Math.max(needBytes, fetchedBytes * 2));
}
