import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ciphertextSize, frameCount } from '../../../src/core/sizes';
import {
  DEFAULT_PART_BYTES,
  S3_MAX_PARTS,
  S3_MIN_PART_BYTES,
  partSpec,
  planUpload,
  type UploadPlan,
} from '../../../src/transfer/part-plan';

const MiB = 1024 * 1024;
const FRAME = 512 * 1024;
const HEADER = 219;

function parts(plan: UploadPlan) {
  return Array.from({ length: plan.partCount }, (_, i) => partSpec(plan, i + 1));
}

describe('planUpload', () => {
  test.each([
    [0, 1, true],
    [1, 1, true],
    [FRAME, 1, true],
    [DEFAULT_PART_BYTES - 1, 1, true],
    [DEFAULT_PART_BYTES, 1, true],
    [DEFAULT_PART_BYTES + 1, 2, false],
    [5 * DEFAULT_PART_BYTES + 12_345, 6, false],
  ])('%i bytes make %i part(s), single request %s', (plaintextBytes, partCount, single) => {
    const plan = planUpload({
      plaintextBytes,
      frameBytes: FRAME,
      headerBytes: HEADER,
      encrypted: true,
    });
    expect(plan.partCount).toBe(partCount);
    expect(plan.singleRequest).toBe(single);
    expect(plan.objectBytes).toBe(ciphertextSize(plaintextBytes, FRAME, HEADER));
  });

  test('part 1 starts with the header and every part holds whole frames', () => {
    const plan = planUpload({
      plaintextBytes: 2 * DEFAULT_PART_BYTES + 5,
      frameBytes: FRAME,
      headerBytes: HEADER,
      encrypted: true,
    });
    const [first, second, third] = parts(plan);
    expect(first).toMatchObject({ partNumber: 1, firstSeq: 1, lastSeq: 16, objectOffsetBytes: 0 });
    expect(first?.objectBytes).toBe(HEADER + 16 * (FRAME + 32));
    expect(second).toMatchObject({ firstSeq: 17, lastSeq: 32, plaintextOffsetBytes: 16 * FRAME });
    expect(third).toMatchObject({ firstSeq: 33, lastSeq: 33, plaintextBytes: 5 });
    expect(third?.objectBytes).toBe(5 + 40);
  });

  test('grows the part size so a file never needs more than 10,000 parts', () => {
    const plaintextBytes = 200 * 1024 * MiB; // 200 GiB
    const plan = planUpload({
      plaintextBytes,
      frameBytes: FRAME,
      headerBytes: HEADER,
      encrypted: true,
    });
    expect(plan.partCount).toBeLessThanOrEqual(S3_MAX_PARTS);
    expect(plan.framesPerPart * FRAME).toBeGreaterThan(DEFAULT_PART_BYTES);
    const last = partSpec(plan, plan.partCount);
    expect(last.objectOffsetBytes + last.objectBytes).toBe(plan.objectBytes);
  });

  test('the plain mode plans plaintext ranges', () => {
    const plan = planUpload({
      plaintextBytes: DEFAULT_PART_BYTES + 3,
      frameBytes: FRAME,
      headerBytes: 0,
      encrypted: false,
    });
    expect(plan.objectBytes).toBe(DEFAULT_PART_BYTES + 3);
    expect(partSpec(plan, 2)).toMatchObject({
      objectOffsetBytes: DEFAULT_PART_BYTES,
      objectBytes: 3,
    });
  });

  test('replays a stored framesPerPart', () => {
    const plan = planUpload({
      plaintextBytes: 30 * MiB,
      frameBytes: FRAME,
      headerBytes: HEADER,
      encrypted: true,
      framesPerPart: 20,
    });
    expect(plan.framesPerPart).toBe(20);
    expect(plan.partCount).toBe(Math.ceil(60 / 20));
  });

  test('guards', () => {
    const base = { plaintextBytes: 10, frameBytes: FRAME, headerBytes: HEADER, encrypted: true };
    expect(() => planUpload({ ...base, partBytes: S3_MIN_PART_BYTES - 1 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
    expect(() => planUpload({ ...base, partBytes: 1.5 * MiB + 0.5 })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
    expect(() => planUpload({ ...base, framesPerPart: 0 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
    expect(() => planUpload({ ...base, encrypted: false })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
    expect(() => planUpload({ ...base, plaintextBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
    const plan = planUpload(base);
    expect(() => partSpec(plan, 2)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => partSpec(plan, 0.5)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    // 6 TiB at 1-byte frames needs more than 2^32 frames.
    expect(() => planUpload({ ...base, plaintextBytes: 6 * 1024 ** 4, frameBytes: 1 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
  });

  test('property: parts tile the object and the frames, all but the last reach 5 MiB', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 16 * 1024, max: 4 * MiB }),
        fc.integer({ min: S3_MIN_PART_BYTES, max: 64 * MiB }),
        fc.boolean(),
        (plaintextBytes, frameBytes, partBytes, encrypted) => {
          const headerBytes = encrypted ? HEADER : 0;
          const plan = planUpload({
            plaintextBytes,
            frameBytes,
            headerBytes,
            encrypted,
            partBytes,
          });
          expect(plan.partCount).toBeLessThanOrEqual(S3_MAX_PARTS);
          expect(plan.frameCount).toBe(frameCount(plaintextBytes, frameBytes));
          // Check the first, a middle and the last two parts (plans can have 10,000 parts).
          const numbers = [
            ...new Set([1, Math.ceil(plan.partCount / 2), plan.partCount - 1, plan.partCount]),
          ].filter((n) => n >= 1);
          for (const n of numbers) {
            const spec = partSpec(plan, n);
            if (n < plan.partCount) {
              expect(spec.objectBytes).toBeGreaterThanOrEqual(S3_MIN_PART_BYTES);
              const next = partSpec(plan, n + 1);
              expect(next.objectOffsetBytes).toBe(spec.objectOffsetBytes + spec.objectBytes);
              expect(next.firstSeq).toBe(spec.lastSeq + 1);
            } else {
              expect(spec.objectOffsetBytes + spec.objectBytes).toBe(plan.objectBytes);
              expect(spec.lastSeq).toBe(plan.frameCount);
            }
          }
          expect(plan.objectBytes).toBe(
            encrypted ? ciphertextSize(plaintextBytes, frameBytes, headerBytes) : plaintextBytes,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
