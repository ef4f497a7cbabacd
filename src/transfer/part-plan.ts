/**
 * Pure part planning for uploads: which frames each S3 part holds, and the exact byte size and
 * offset of every part, known before a byte is encrypted (so Content-Length and resume need no
 * scan of the file).
 *
 * [Note: parts hold whole frames] Part 1 starts with the message header; every part holds
 * `framesPerPart` whole frames, the last part the rest. Frames never straddle parts, so a worker
 * builds one part from one plaintext range and parts upload in any order. `framesPerPart` starts
 * at the part size asked for (8 MiB of plaintext by default) and grows so a file never needs more
 * than 10,000 parts. With `encrypted: false` (the plain server-side modes) a part is just the
 * same plaintext range, so both modes share one plan and one engine.
 *
 * [Note: the empty final frame rides with the last part] A file that is an exact non-zero
 * multiple of the frame length ends with an empty final frame ([Note: empty final frame] in
 * sizes.ts). That frame never gets a part of its own: the last part holds it after its data
 * frames (up to framesPerPart + 1 frames). So a file of exactly one part's size is still one
 * PutObject, and a plan has the same part count and part boundaries in both final-frame forms,
 * which keeps resume records written before the empty-final form replayable (resume must replay
 * the stored form, see PlanInput.finalFrameForm).
 */
import {
  WRITTEN_FINAL_FRAME_FORM,
  finalFramePlaintextBytes,
  frameCount,
  frameRange,
  framesByteSize,
  needs,
} from '../core';
import type { FinalFrameForm } from '../core';

/** S3's smallest part except the last one (5 MiB). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part (5 GiB). */
export const S3_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's largest part count. */
export const S3_MAX_PARTS = 10_000;
/** Plaintext bytes per part Veil starts from. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/** Inputs of a plan. */
export interface PlanInput {
  /** The file's size. */
  readonly plaintextBytes: number;
  /** Plaintext bytes per frame (the header's frame length). */
  readonly frameBytes: number;
  /** Header bytes (body plus auth tag) at the start of part 1; 0 when not encrypted. */
  readonly headerBytes: number;
  /** Whether parts hold an ESDK message (true) or the plaintext itself (false). */
  readonly encrypted: boolean;
  /** Plaintext bytes per part to start from; at least 5 MiB; default 8 MiB. */
  readonly partBytes?: number;
  /** Use exactly this many frames per part (a resume replays the stored plan). */
  readonly framesPerPart?: number;
  /**
   * How an exact multiple of the frame length ends; default WRITTEN_FINAL_FRAME_FORM
   * ('empty-final'). A resume must replay the form its first parts were sealed in: an upload
   * recorded before Veil wrote the empty-final form is 'full-final'. Sealing frame k once as the
   * final frame and again as a regular frame would reuse its IV under one key.
   */
  readonly finalFrameForm?: FinalFrameForm;
}

/** The whole plan: part count and sizes. */
export interface UploadPlan {
  readonly plaintextBytes: number;
  readonly frameBytes: number;
  readonly headerBytes: number;
  readonly encrypted: boolean;
  /** How the message ends (see PlanInput.finalFrameForm). */
  readonly finalFrameForm: FinalFrameForm;
  readonly frameCount: number;
  readonly framesPerPart: number;
  readonly partCount: number;
  /** Bytes of the object: the whole message, or the plaintext when not encrypted. */
  readonly objectBytes: number;
  /** True when one request (PutObject) carries the object. */
  readonly singleRequest: boolean;
}

/** One part of a plan. */
export interface PartSpec {
  /** S3 part number, from 1. */
  readonly partNumber: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly plaintextOffsetBytes: number;
  readonly plaintextBytes: number;
  /** Where the part starts in the object. */
  readonly objectOffsetBytes: number;
  /** The part's size (its Content-Length). */
  readonly objectBytes: number;
}

/**
 * Plans the parts of an upload, see [Note: parts hold whole frames].
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bad sizes, a part size under 5 MiB, or a
 *   file so large that a part would exceed 5 GiB.
 */
export function planUpload(input: PlanInput): UploadPlan {
  const { plaintextBytes, frameBytes, headerBytes, encrypted } = input;
  // Precondition: sizes are non-negative safe integers (frameCount checks the first two).
  needs(Number.isSafeInteger(headerBytes) && headerBytes >= 0, 'OUT_OF_RANGE', 'headerBytes');
  needs(encrypted || headerBytes === 0, 'BAD_ARGUMENT', 'headerBytes without encryption');
  const finalFrameForm = input.finalFrameForm ?? WRITTEN_FINAL_FRAME_FORM;
  const frames = frameCount(plaintextBytes, frameBytes, finalFrameForm);
  // Frames that carry data; an empty final frame after them rides with the last part.
  const dataFrames =
    frames > 1 && finalFramePlaintextBytes(plaintextBytes, frameBytes, finalFrameForm) === 0
      ? frames - 1
      : frames;
  let framesPerPart: number;
  if (input.framesPerPart !== undefined) {
    // Precondition: a replayed plan has a positive whole frame count per part.
    needs(Number.isSafeInteger(input.framesPerPart), 'BAD_ARGUMENT', 'framesPerPart');
    needs(input.framesPerPart >= 1, 'OUT_OF_RANGE', 'framesPerPart');
    framesPerPart = input.framesPerPart;
  } else {
    const partBytes = input.partBytes ?? DEFAULT_PART_BYTES;
    // Precondition: every part but the last must reach S3's 5 MiB minimum.
    needs(Number.isSafeInteger(partBytes), 'BAD_ARGUMENT', 'partBytes');
    needs(partBytes >= S3_MIN_PART_BYTES, 'OUT_OF_RANGE', 'partBytes must be at least 5 MiB');
    framesPerPart = Math.max(
      Math.ceil(partBytes / frameBytes),
      Math.ceil(dataFrames / S3_MAX_PARTS),
    );
  }
  const partCount = Math.ceil(dataFrames / framesPerPart);
  needs(partCount <= S3_MAX_PARTS, 'OUT_OF_RANGE', 'more than 10,000 parts');
  const plan: UploadPlan = {
    plaintextBytes,
    frameBytes,
    headerBytes,
    encrypted,
    finalFrameForm,
    frameCount: frames,
    framesPerPart,
    partCount,
    objectBytes: 0,
    singleRequest: partCount === 1,
  };
  const last = partSpec(plan, partCount);
  const objectBytes = last.objectOffsetBytes + last.objectBytes;
  const largest = partCount === 1 ? last : partSpec(plan, 1);
  needs(
    Math.max(largest.objectBytes, last.objectBytes) <= S3_MAX_PART_BYTES,
    'OUT_OF_RANGE',
    'the file is too large for S3 (a part would exceed 5 GiB)',
  );
  return { ...plan, objectBytes };
}

/**
 * The frames, plaintext range and object range of part `partNumber` (1-based) of `plan`.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE when the part is not in the plan.
 */
export function partSpec(plan: UploadPlan, partNumber: number): PartSpec {
  // Precondition: a part number of the plan.
  needs(Number.isInteger(partNumber), 'BAD_ARGUMENT', 'partNumber');
  needs(partNumber >= 1 && partNumber <= plan.partCount, 'OUT_OF_RANGE', `part ${partNumber}`);
  const firstSeq = (partNumber - 1) * plan.framesPerPart + 1;
  // The last part runs to the final frame (see [Note: the empty final frame rides with the last part]).
  const lastSeq = partNumber === plan.partCount ? plan.frameCount : partNumber * plan.framesPerPart;
  const plaintextOffsetBytes = (firstSeq - 1) * plan.frameBytes;
  const plaintextEnd = Math.min(plan.plaintextBytes, lastSeq * plan.frameBytes);
  const plaintextBytes = Math.max(0, plaintextEnd - plaintextOffsetBytes);
  if (!plan.encrypted) {
    return {
      partNumber,
      firstSeq,
      lastSeq,
      plaintextOffsetBytes,
      plaintextBytes,
      objectOffsetBytes: plaintextOffsetBytes,
      objectBytes: plaintextBytes,
    };
  }
  const { plaintextBytes: fileBytes, frameBytes, headerBytes, finalFrameForm } = plan;
  // Part 1 starts with the header; every part holds frames firstSeq..lastSeq after it.
  const first = frameRange(firstSeq, fileBytes, frameBytes, headerBytes, finalFrameForm);
  const objectOffsetBytes = partNumber === 1 ? 0 : first.offsetBytes;
  return {
    partNumber,
    firstSeq,
    lastSeq,
    plaintextOffsetBytes,
    plaintextBytes,
    objectOffsetBytes,
    objectBytes:
      first.offsetBytes -
      objectOffsetBytes +
      framesByteSize(firstSeq, lastSeq, fileBytes, frameBytes, finalFrameForm),
  };
}
