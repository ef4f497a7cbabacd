/** The pure size functions: frame counts, ciphertext sizes and frame ranges. */
import { describe, expect, it } from 'vitest';
import { serializeEncryptionContext } from '../../../src/core/encryption-context';
import { createMessageHeader } from '../../../src/core/message';
import { ourKeyring, testKeyBytes } from './helpers';
import {
  ciphertextSize,
  finalFramePlaintextBytes,
  frameCount,
  frameRange,
  framesForPlaintextRange,
} from '../../../src/core/sizes';

describe('frameCount and the final frame (full-final form)', () => {
  it.each([
    [0, 16, 1, 0],
    [1, 16, 1, 1],
    [15, 16, 1, 15],
    [16, 16, 1, 16],
    [17, 16, 2, 1],
    [48, 16, 3, 16],
    [524288 * 3, 524288, 3, 524288],
  ])(
    '%i bytes at frame %i: %i frames, final carries %i',
    (plaintextBytes, frameBytes, frames, last) => {
      expect(frameCount(plaintextBytes, frameBytes)).toBe(frames);
      expect(finalFramePlaintextBytes(plaintextBytes, frameBytes)).toBe(last);
    },
  );
});

describe('ciphertextSize', () => {
  it('adds 32 bytes per regular frame and 40 for the final one', () => {
    expect(ciphertextSize(0, 16, 100)).toBe(140);
    expect(ciphertextSize(16, 16, 100)).toBe(156);
    expect(ciphertextSize(17, 16, 100)).toBe(100 + 48 + 41);
    expect(ciphertextSize(2 ** 31, 524288, 200)).toBe(200 + 4095 * (524288 + 32) + 524288 + 40);
  });
});

describe('frameRange', () => {
  it('lays frames end to end after the header', () => {
    const plaintextBytes = 40;
    const ranges = [1, 2, 3].map((seq) => frameRange(seq, plaintextBytes, 16, 100));
    expect(ranges.map((range) => range.offsetBytes)).toEqual([100, 148, 196]);
    expect(ranges.map((range) => range.lengthBytes)).toEqual([48, 48, 48]);
    expect(ranges.map((range) => range.isFinal)).toEqual([false, false, true]);
    expect(ranges[2]?.plaintextBytes).toBe(8);
    const last = ranges[2];
    expect((last?.offsetBytes ?? 0) + (last?.lengthBytes ?? 0)).toBe(ciphertextSize(40, 16, 100));
  });
});

describe('framesForPlaintextRange', () => {
  it.each([
    [0, 1, 1, 1],
    [0, 16, 1, 1],
    [15, 17, 1, 2],
    [16, 32, 2, 2],
    [0, 40, 1, 3],
    [40, 40, 3, 3],
    [20, 20, 2, 2],
  ])('[%i, %i) -> frames %i..%i of 40 bytes at 16', (start, end, first, last) => {
    expect(framesForPlaintextRange(start, end, 40, 16)).toEqual({ firstSeq: first, lastSeq: last });
  });
});

describe('header size (FORMAT.md section 2)', () => {
  it('matches 1+2+32 + 2+E + 2 + (2+N + 2+(K+20) + 2+48) + 1+4+32 + 16 for one raw AES EDK', async () => {
    const contexts: Record<string, string>[] = [{}, { purpose: 'size', é: 'x' }];
    for (const encryptionContext of contexts) {
      const keyring = await ourKeyring(testKeyBytes(256), 'a-key-name', 'veil');
      const written = await createMessageHeader({ keyring, encryptionContext });
      const E = serializeEncryptionContext(encryptionContext).length;
      const N = 4;
      const K = 'a-key-name'.length;
      const expected = 1 + 2 + 32 + 2 + E + 2 + (2 + N + 2 + (K + 20) + 2 + 48) + 1 + 4 + 32 + 16;
      expect(written.headerBytes.length).toBe(expected);
      expect(written.header.headerBytes).toBe(expected);
    }
  });
});
