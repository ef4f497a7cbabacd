/**
 * fast-check properties of the size functions ([Note: empty final frame] and [Note: layout from
 * the size] in src/core/sizes.ts): in both final-frame forms the size of a message gives back its
 * plaintext size and layout, the two forms of one plaintext never share a size, and every size
 * either fits no layout or is exactly one plaintext size in one form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FinalFrameForm } from '../../../src/core/sizes';
import {
  ciphertextSize,
  finalFramePlaintextBytes,
  frameCount,
  frameRange,
  framesForPlaintextRange,
  layoutFromCiphertextSize,
  plaintextSize,
} from '../../../src/core/sizes';

const NUM_RUNS = 500;
const formArb = fc.constantFrom<FinalFrameForm>('empty-final', 'full-final');
const frameBytesArb = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.constantFrom(4096, 512 * 1024, 64 * 1024 * 1024),
);
const headerBytesArb = fc.integer({ min: 0, max: 70_000 });
/** Sizes from 0 to many frames, with exact multiples of the frame length drawn often. */
const sizedArb = frameBytesArb.chain((frameBytes) =>
  fc.record({
    frameBytes: fc.constant(frameBytes),
    plaintextBytes: fc.oneof(
      fc.integer({ min: 0, max: 3 * frameBytes + 3 }),
      fc.integer({ min: 0, max: 5000 }).map((k) => k * frameBytes),
      // Up to 2^40 bytes, within the 2^32-2 frames a message can have.
      fc.integer({ min: 0, max: Math.min(2 ** 40, frameBytes * 0xffff_fff0) }),
    ),
    headerBytes: headerBytesArb,
    form: formArb,
  }),
);

describe('size functions, both final-frame forms', () => {
  it('plaintextSize(ciphertextSize(n)) = n, and the layout is the one written', () => {
    fc.assert(
      fc.property(sizedArb, ({ plaintextBytes, frameBytes, headerBytes, form }) => {
        const size = ciphertextSize(plaintextBytes, frameBytes, headerBytes, form);
        expect(plaintextSize(size, frameBytes, headerBytes)).toBe(plaintextBytes);
        const layout = layoutFromCiphertextSize(size, frameBytes, headerBytes);
        expect(layout).toMatchObject({
          frameCount: frameCount(plaintextBytes, frameBytes, form),
          finalFramePlaintextBytes: finalFramePlaintextBytes(plaintextBytes, frameBytes, form),
          regularFrames: frameCount(plaintextBytes, frameBytes, form) - 1,
        });
        const multiple = plaintextBytes > 0 && plaintextBytes % frameBytes === 0;
        expect(layout?.form).toBe(multiple ? form : 'empty-final');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the two forms agree except on exact non-zero multiples, where full-final is 32 bytes shorter', () => {
    fc.assert(
      fc.property(sizedArb, ({ plaintextBytes, frameBytes, headerBytes }) => {
        const empty = ciphertextSize(plaintextBytes, frameBytes, headerBytes, 'empty-final');
        const full = ciphertextSize(plaintextBytes, frameBytes, headerBytes, 'full-final');
        const multiple = plaintextBytes > 0 && plaintextBytes % frameBytes === 0;
        expect(empty - full).toBe(multiple ? 32 : 0);
        expect(ciphertextSize(plaintextBytes, frameBytes, headerBytes)).toBe(empty);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('any size fits no layout, or exactly the plaintext size and form it reports', () => {
    fc.assert(
      fc.property(
        frameBytesArb,
        headerBytesArb,
        fc.integer({ min: 0, max: 2 ** 44 }),
        (frameBytes, headerBytes, ciphertextBytes) => {
          const layout = layoutFromCiphertextSize(ciphertextBytes, frameBytes, headerBytes);
          if (!layout) {
            expect(() => plaintextSize(ciphertextBytes, frameBytes, headerBytes)).toThrow(
              /framed body/,
            );
            return;
          }
          const back = ciphertextSize(layout.plaintextBytes, frameBytes, headerBytes, layout.form);
          expect(back).toBe(ciphertextBytes);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('ciphertextSize grows strictly with the plaintext in each form', () => {
    fc.assert(
      fc.property(sizedArb, ({ plaintextBytes, frameBytes, headerBytes, form }) => {
        expect(ciphertextSize(plaintextBytes + 1, frameBytes, headerBytes, form)).toBeGreaterThan(
          ciphertextSize(plaintextBytes, frameBytes, headerBytes, form),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('frame ranges tile the message, and a plaintext range maps to the frames that hold it', () => {
    const smallArb = fc
      .record({
        frameBytes: fc.integer({ min: 1, max: 40 }),
        plaintextBytes: fc.integer({ min: 0, max: 300 }),
        headerBytes: fc.integer({ min: 0, max: 200 }),
        form: formArb,
      })
      .chain((sized) =>
        fc.record({
          sized: fc.constant(sized),
          start: fc.integer({ min: 0, max: sized.plaintextBytes }),
          lengthBytes: fc.integer({ min: 0, max: sized.plaintextBytes }),
        }),
      );
    fc.assert(
      fc.property(smallArb, ({ sized, start, lengthBytes }) => {
        const { plaintextBytes, frameBytes, headerBytes, form } = sized;
        const count = frameCount(plaintextBytes, frameBytes, form);
        let atBytes = headerBytes;
        let plaintextAt = 0;
        for (let seq = 1; seq <= count; seq++) {
          const range = frameRange(seq, plaintextBytes, frameBytes, headerBytes, form);
          expect(range.offsetBytes).toBe(atBytes);
          expect(range.plaintextOffsetBytes).toBe(plaintextAt);
          expect(range.isFinal).toBe(seq === count);
          atBytes += range.lengthBytes;
          plaintextAt += range.plaintextBytes;
        }
        expect(atBytes).toBe(ciphertextSize(plaintextBytes, frameBytes, headerBytes, form));
        expect(plaintextAt).toBe(plaintextBytes);
        const end = Math.min(plaintextBytes, start + lengthBytes);
        const { firstSeq, lastSeq } = framesForPlaintextRange(
          start,
          end,
          plaintextBytes,
          frameBytes,
          form,
        );
        const first = frameRange(firstSeq, plaintextBytes, frameBytes, headerBytes, form);
        const last = frameRange(lastSeq, plaintextBytes, frameBytes, headerBytes, form);
        expect(first.plaintextOffsetBytes).toBeLessThanOrEqual(start);
        expect(last.plaintextOffsetBytes + last.plaintextBytes).toBeGreaterThanOrEqual(end);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
