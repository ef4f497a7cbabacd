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
import {
  VeilError,
  frameRange,
  framesByteSize,
  framesForPlaintextRange,
  layoutFromCiphertextSize,
  needs,
  readFrameHeader,
  serializedFrameBytes,
} from '../core';
import type { FinalFrameForm } from '../core';

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
  /** 'full-final' when the final frame is full, else 'empty-final' (the core's MessageLayout). */
  readonly form: FinalFrameForm;
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
    form: layout.form,
  };
}

/**
 * Offset of frame `seq` in the object.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for a seq outside the message.
 */
export function frameOffsetBytes(layout: BodyLayout, seq: number): number {
  const { plaintextBytes, frameBytes, headerBytes, form } = layout;
  return frameRange(seq, plaintextBytes, frameBytes, headerBytes, form).offsetBytes;
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
  const framesPerBatch = Math.max(
    1,
    Math.floor(targetBytes / serializedFrameBytes(layout.frameBytes, false)),
  );
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
        framesByteSize(seq, last, layout.plaintextBytes, layout.frameBytes, layout.form),
      plaintextOffsetBytes: (seq - 1) * layout.frameBytes,
      plaintextBytes,
    });
  }
  return batches;
}

/**
 * The frames that hold plaintext bytes [startBytes, endBytes) of the message: the core's
 * framesForPlaintextRange in the layout's final-frame form. An empty range maps to one frame.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE when the range is not within the plaintext.
 */
export function framesForRange(
  layout: BodyLayout,
  startBytes: number,
  endBytes: number,
): { readonly firstSeq: number; readonly lastSeq: number } {
  const { plaintextBytes, frameBytes, form } = layout;
  return framesForPlaintextRange(startBytes, endBytes, plaintextBytes, frameBytes, form);
}

/**
 * Checks that the bytes of the final frame (fetched at its planned offset) are a final frame with
 * the planned seq and length. False means the layout does not hold (see [Note: body layout from
 * the object size]).
 */
export function finalFrameMatches(layout: BodyLayout, frame: Uint8Array): boolean {
  const head = readFrameHeader(frame, 0, layout.frameBytes);
  return (
    head !== undefined &&
    head.isFinal &&
    head.seq === layout.frameCount &&
    head.plaintextBytes === layout.finalPlaintextBytes &&
    head.frameSizeBytes === frame.length
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
