/** The chunk queue under the streaming decryptor. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../src/core/byte-queue';
import { concatBytes } from '../../../src/core/bytes';

describe('ByteQueue', () => {
  it('returns the same bytes in the same order for any chunking and take sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
        fc.array(fc.nat(30), { maxLength: 20 }),
        (chunks, takes) => {
          const queue = new ByteQueue();
          chunks.forEach((chunk) => queue.push(chunk));
          const all = concatBytes(...chunks);
          const out: Uint8Array[] = [];
          for (const takeBytes of takes) {
            if (takeBytes > queue.lengthBytes) {
              expect(queue.peek(takeBytes)).toBeUndefined();
              continue;
            }
            out.push(queue.take(takeBytes));
          }
          const taken = concatBytes(...out);
          expect(taken).toEqual(all.subarray(0, taken.length));
          expect(queue.lengthBytes).toBe(all.length - taken.length);
        },
      ),
    );
  });
  it('throws on a take beyond the queued bytes', () => {
    expect(() => new ByteQueue().take(1)).toThrow(RangeError);
  });
});
