/**
 * How a rewrapped object is written, in pure size arithmetic ([Note: rewrap plan]).
 *
 * [Note: rewrap plan] The new object is the new header followed by the old body bytes
 * ([Note: rewrap keeps the body] in core/rewrap-header.ts). A new object of at most
 * `putMaxBytes` (default 5 MiB, S3's smallest part) is written by one PutObject: the new header
 * and the whole body, read from the old object as ciphertext. A larger one is a multipart upload
 * in which part 1 is the new header plus the first body bytes, read as ciphertext, so that the
 * part is exactly 5 MiB (the minimum for every part but the last); every other part is an
 * UploadPartCopy of a range of the old object, copied inside S3. Copy parts are `copyPartBytes`
 * (default 128 MiB), grown when needed so that the upload stays within 10,000 parts, and never
 * over S3's 5 GiB part limit; only the last may be smaller than 5 MiB. So at most 5 MiB of body
 * passes through the client whatever the object's size.
 */
import { VeilError, needs } from '../core';

/** S3's smallest part (every part of a multipart upload but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part, and largest PutObject. */
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Default size of a copy part. */
export const DEFAULT_COPY_PART_BYTES = 128 * 1024 * 1024;
/** Default largest new object written by one PutObject. */
export const DEFAULT_PUT_MAX_BYTES = MIN_PART_BYTES;

/** A range of the old object, [startBytes, endBytes). */
export interface ObjectRange {
  readonly startBytes: number;
  readonly endBytes: number;
}

/** One UploadPartCopy: part `partNumber` of the new object is `range` of the old one. */
export interface CopyPart {
  readonly partNumber: number;
  readonly range: ObjectRange;
}

/** What both ways share: sizes, and the bytes that pass through the client or stay in S3. */
interface PlanSizes {
  readonly oldObjectBytes: number;
  readonly newObjectBytes: number;
  /** Body bytes read from the old object by the client (besides the header). */
  readonly readBodyBytes: number;
  /** Bytes the client sends: the new header and the body bytes read. */
  readonly sentBytes: number;
  /** Bytes copied inside S3. */
  readonly copiedBytes: number;
}

/** One PutObject of the new header and the body `body` of the old object. */
export interface PutPlan extends PlanSizes {
  readonly method: 'put';
  readonly body: ObjectRange;
}

/** A multipart upload: part 1 the new header and `firstBody`, then `copies`. */
export interface MultipartPlan extends PlanSizes {
  readonly method: 'multipart';
  readonly firstBody: ObjectRange;
  readonly copies: readonly CopyPart[];
  readonly partCount: number;
}

export type RewrapPlan = PutPlan | MultipartPlan;

/** The sizes a plan is made from. */
export interface RewrapPlanInput {
  /** Size of the old object. */
  readonly objectBytes: number;
  /** Size of the old header (body plus auth tag): where the old body starts. */
  readonly oldHeaderBytes: number;
  /** Size of the new header. */
  readonly newHeaderBytes: number;
  /** Largest new object written by one PutObject; MIN_PART_BYTES..MAX_PART_BYTES. */
  readonly putMaxBytes?: number;
  /** Size of a copy part; MIN_PART_BYTES..MAX_PART_BYTES. */
  readonly copyPartBytes?: number;
}

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Plans a rewrap ([Note: rewrap plan]).
 * @throws VeilError BAD_ARGUMENT for sizes that are not non-negative integers, OUT_OF_RANGE for an
 *   old header longer than the object, part sizes outside 5 MiB..5 GiB, or an object too large
 *   for 10,000 parts of 5 GiB.
 */
export function planRewrap(input: RewrapPlanInput): RewrapPlan {
  // Precondition: byte counts, the header inside the object, part sizes S3 accepts.
  const { objectBytes, oldHeaderBytes, newHeaderBytes } = input;
  needs(isSize(objectBytes), 'BAD_ARGUMENT', 'objectBytes');
  needs(isSize(oldHeaderBytes) && oldHeaderBytes > 0, 'BAD_ARGUMENT', 'oldHeaderBytes');
  needs(isSize(newHeaderBytes) && newHeaderBytes > 0, 'BAD_ARGUMENT', 'newHeaderBytes');
  needs(oldHeaderBytes <= objectBytes, 'OUT_OF_RANGE', 'oldHeaderBytes beyond the object');
  const putMaxBytes = input.putMaxBytes ?? DEFAULT_PUT_MAX_BYTES;
  const copyPartBytes = input.copyPartBytes ?? DEFAULT_COPY_PART_BYTES;
  for (const [name, value] of [
    ['putMaxBytes', putMaxBytes],
    ['copyPartBytes', copyPartBytes],
  ] as const) {
    needs(isSize(value), 'BAD_ARGUMENT', name);
    needs(
      value >= MIN_PART_BYTES && value <= MAX_PART_BYTES,
      'OUT_OF_RANGE',
      `${name} must be 5 MiB..5 GiB`,
    );
  }
  const bodyBytes = objectBytes - oldHeaderBytes;
  const newObjectBytes = newHeaderBytes + bodyBytes;
  if (newObjectBytes <= putMaxBytes) {
    return {
      method: 'put',
      oldObjectBytes: objectBytes,
      newObjectBytes,
      body: { startBytes: oldHeaderBytes, endBytes: objectBytes },
      readBodyBytes: bodyBytes,
      sentBytes: newObjectBytes,
      copiedBytes: 0,
    };
  }
  // newObjectBytes > 5 MiB, so part 1 is exactly 5 MiB and something is left to copy.
  const firstBodyBytes = Math.max(0, MIN_PART_BYTES - newHeaderBytes);
  const firstEnd = oldHeaderBytes + firstBodyBytes;
  const restBytes = objectBytes - firstEnd;
  const partBytes = Math.max(copyPartBytes, Math.ceil(restBytes / (MAX_PARTS - 1)));
  if (partBytes > MAX_PART_BYTES) {
    throw new VeilError('OUT_OF_RANGE', `${objectBytes} bytes need more than ${MAX_PARTS} parts`);
  }
  const copies: CopyPart[] = [];
  for (let startBytes = firstEnd; startBytes < objectBytes; startBytes += partBytes) {
    copies.push({
      partNumber: copies.length + 2,
      range: { startBytes, endBytes: Math.min(objectBytes, startBytes + partBytes) },
    });
  }
  return {
    method: 'multipart',
    oldObjectBytes: objectBytes,
    newObjectBytes,
    firstBody: { startBytes: oldHeaderBytes, endBytes: firstEnd },
    copies,
    partCount: copies.length + 1,
    readBodyBytes: firstBodyBytes,
    sentBytes: newHeaderBytes + firstBodyBytes,
    copiedBytes: restBytes,
  };
}

/** The `x-amz-copy-source-range` value of a range: `bytes=first-last`, both inclusive. */
export function copySourceRange(range: ObjectRange): string {
  return `bytes=${range.startBytes}-${range.endBytes - 1}`;
}
