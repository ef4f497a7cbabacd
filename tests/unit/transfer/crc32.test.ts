import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { crc32, crc32Base64 } from '../../../src/transfer/crc32';

describe('crc32', () => {
  test('known answers: empty, "123456789", and S3 base64', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32Base64(0xcbf43926)).toBe('y/Q5Jg==');
    expect(crc32Base64(0)).toBe('AAAAAA==');
  });

  test('matches zlib for any bytes, any length, and when continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        expect(crc32(bytes)).toBe(zlibCrc32(bytes));
        expect(crc32(bytes.subarray(at), crc32(bytes.subarray(0, at)))).toBe(zlibCrc32(bytes));
      }),
    );
    const big = Uint8Array.from({ length: (1 << 20) + 5 }, (_, i) => (i * 31 + (i >> 9)) & 0xff);
    expect(crc32(big)).toBe(zlibCrc32(big));
    expect(crc32(big.subarray(3))).toBe(zlibCrc32(big.subarray(3)));
  });

  test('the 16-byte word steps agree with zlib at every start alignment, length and seed', () => {
    const bytes = Uint8Array.from({ length: 4096 + 64 }, (_, i) => (i * 131 + (i >> 7)) & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [63, 64, 65, 67, 79, 80, 81, 127, 128, 1000, 4096]) {
        const view = bytes.subarray(offset, offset + length);
        expect(crc32(view)).toBe(zlibCrc32(view));
        // Continued from the CRC of the bytes before: the seed enters the first word step.
        const before = bytes.subarray(0, offset);
        expect(crc32(view, crc32(before))).toBe(zlibCrc32(bytes.subarray(0, offset + length)));
      }
    }
  });
});
