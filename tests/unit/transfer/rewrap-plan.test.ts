/**
 * [Note: rewrap plan]: one PutObject up to putMaxBytes; above it part 1 is exactly 5 MiB (new
 * header plus body bytes) and the rest are copies of copyPartBytes, grown to stay within 10,000
 * parts; the ranges tile the old body with no gap or overlap. Guards trip on bad sizes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PARTS,
  MAX_PART_BYTES,
  MIN_PART_BYTES,
  copySourceRange,
  planRewrap,
  type RewrapPlan,
} from '../../../src/transfer/rewrap-plan';
import { copySource } from '../../../src/transfer/rewrap-multipart';
import { expectThrowsCode } from '../core/helpers';

const MIB = 1024 * 1024;

/** Checks the invariants of a plan against its input. */
function checkPlan(
  plan: RewrapPlan,
  objectBytes: number,
  oldHeaderBytes: number,
  newHeaderBytes: number,
): void {
  const bodyBytes = objectBytes - oldHeaderBytes;
  expect(plan.newObjectBytes).toBe(newHeaderBytes + bodyBytes);
  expect(plan.sentBytes + plan.copiedBytes).toBe(plan.newObjectBytes);
  if (plan.method === 'put') {
    expect(plan.body).toEqual({ startBytes: oldHeaderBytes, endBytes: objectBytes });
    return;
  }
  expect(plan.sentBytes).toBe(MIN_PART_BYTES);
  expect(plan.firstBody.startBytes).toBe(oldHeaderBytes);
  let at = plan.firstBody.endBytes;
  plan.copies.forEach((copy, index) => {
    expect(copy.partNumber).toBe(index + 2);
    expect(copy.range.startBytes).toBe(at);
    const size = copy.range.endBytes - copy.range.startBytes;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(MAX_PART_BYTES);
    if (index < plan.copies.length - 1) expect(size).toBeGreaterThanOrEqual(MIN_PART_BYTES);
    at = copy.range.endBytes;
  });
  expect(at).toBe(objectBytes);
  expect(plan.partCount).toBe(plan.copies.length + 1);
  expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
}

describe('planRewrap', () => {
  it.each([
    [300, 200, 'put'],
    [MIN_PART_BYTES, 200, 'put'],
    [MIN_PART_BYTES + 1, 200, 'multipart'],
    [12 * MIB, 300, 'multipart'],
  ])(
    'a new object of %i bytes (new header %i) goes by %s',
    (newObjectBytes, newHeaderBytes, method) => {
      const oldHeaderBytes = 250;
      const objectBytes = newObjectBytes - newHeaderBytes + oldHeaderBytes;
      const plan = planRewrap({ objectBytes, oldHeaderBytes, newHeaderBytes });
      expect(plan.method).toBe(method);
      checkPlan(plan, objectBytes, oldHeaderBytes, newHeaderBytes);
    },
  );

  it('copies 12 MiB in 5 MiB parts: 1 sent, 2 copied', () => {
    const plan = planRewrap({
      objectBytes: 12 * MIB,
      oldHeaderBytes: 300,
      newHeaderBytes: 400,
      copyPartBytes: 5 * MIB,
    });
    expect(plan.method).toBe('multipart');
    if (plan.method !== 'multipart') return;
    expect(plan.firstBody).toEqual({ startBytes: 300, endBytes: 300 + 5 * MIB - 400 });
    expect(plan.copies.map((copy) => copy.partNumber)).toEqual([2, 3]);
    expect(plan.readBodyBytes).toBe(5 * MIB - 400);
    checkPlan(plan, 12 * MIB, 300, 400);
  });

  it('grows copy parts to stay within 10,000 parts, and refuses what cannot fit', () => {
    const objectBytes = 4 * 1024 * 1024 * MIB; // 4 TiB
    const plan = planRewrap({ objectBytes, oldHeaderBytes: 300, newHeaderBytes: 300 });
    checkPlan(plan, objectBytes, 300, 300);
    if (plan.method === 'multipart') expect(plan.partCount).toBe(MAX_PARTS);
    expectThrowsCode(
      () =>
        planRewrap({
          objectBytes: MAX_PARTS * MAX_PART_BYTES,
          oldHeaderBytes: 1,
          newHeaderBytes: 1,
        }),
      'OUT_OF_RANGE',
    );
  });

  it('keeps its invariants for any sizes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 0, max: 64 * MIB }),
        fc.integer({ min: 5, max: 16 }),
        (oldHeaderBytes, newHeaderBytes, bodyBytes, copyPartMib) => {
          const objectBytes = oldHeaderBytes + bodyBytes;
          const plan = planRewrap({
            objectBytes,
            oldHeaderBytes,
            newHeaderBytes,
            copyPartBytes: copyPartMib * MIB,
          });
          checkPlan(plan, objectBytes, oldHeaderBytes, newHeaderBytes);
        },
      ),
    );
  });

  it('guards its arguments', () => {
    const base = { objectBytes: 1000, oldHeaderBytes: 100, newHeaderBytes: 100 };
    expectThrowsCode(() => planRewrap({ ...base, objectBytes: -1 }), 'BAD_ARGUMENT');
    expectThrowsCode(() => planRewrap({ ...base, oldHeaderBytes: 0 }), 'BAD_ARGUMENT');
    expectThrowsCode(() => planRewrap({ ...base, newHeaderBytes: 1.5 }), 'BAD_ARGUMENT');
    expectThrowsCode(() => planRewrap({ ...base, oldHeaderBytes: 1001 }), 'OUT_OF_RANGE');
    expectThrowsCode(
      () => planRewrap({ ...base, putMaxBytes: MIN_PART_BYTES - 1 }),
      'OUT_OF_RANGE',
    );
    expectThrowsCode(
      () => planRewrap({ ...base, copyPartBytes: MAX_PART_BYTES + 1 }),
      'OUT_OF_RANGE',
    );
  });
});

describe('copy source and range', () => {
  it('writes inclusive byte ranges and URL-encoded keys with the version', () => {
    expect(copySourceRange({ startBytes: 5, endBytes: 10 })).toBe('bytes=5-9');
    expect(copySource('b', 'a dir/ü?.veil', undefined)).toBe('b/a%20dir/%C3%BC%3F.veil');
    expect(copySource('b', 'k', 'v 1')).toBe('b/k?versionId=v%201');
  });
});
