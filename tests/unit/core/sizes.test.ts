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

describe('frameCount and the final frame', () => {
  it.each([
    // plaintextBytes, frameBytes, empty-final (written): frames, final; full-final (read): frames, final
    [0, 16, 1, 0, 1, 0],
    [1, 16, 1, 1, 1, 1],
    [15, 16, 1, 15, 1, 15],
    [16, 16, 2, 0, 1, 16],
    [17, 16, 2, 1, 2, 1],
    [48, 16, 4, 0, 3, 16],
    [524288 * 3, 524288, 4, 0, 3, 524288],
  ])(
    '%i bytes at frame %i: %i frames ending with %i bytes as written (%i / %i in the full-final form)',
    (plaintextBytes, frameBytes, frames, last, fullFrames, fullLast) => {
      expect(frameCount(plaintextBytes, frameBytes)).toBe(frames);
      expect(finalFramePlaintextBytes(plaintextBytes, frameBytes)).toBe(last);
      expect(frameCount(plaintextBytes, frameBytes, 'empty-final')).toBe(frames);
      expect(frameCount(plaintextBytes, frameBytes, 'full-final')).toBe(fullFrames);
      expect(finalFramePlaintextBytes(plaintextBytes, frameBytes, 'full-final')).toBe(fullLast);
    },
  );
});

describe('ciphertextSize', () => {
  it('adds 32 bytes per regular frame and 40 for the final one', () => {
    expect(ciphertextSize(0, 16, 100)).toBe(140);
    expect(ciphertextSize(16, 16, 100)).toBe(100 + 48 + 40);
    expect(ciphertextSize(16, 16, 100, 'full-final')).toBe(156);
    expect(ciphertextSize(17, 16, 100)).toBe(100 + 48 + 41);
    expect(ciphertextSize(2 ** 31, 524288, 200)).toBe(200 + 4096 * (524288 + 32) + 40);
    expect(ciphertextSize(2 ** 31, 524288, 200, 'full-final')).toBe(
      200 + 4095 * (524288 + 32) + 524288 + 40,
    );
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

  it('ends an exact multiple with a 40-byte empty final frame, or a full one in the full-final form', () => {
    const empty = frameRange(4, 48, 16, 100);
    expect(empty).toMatchObject({ isFinal: true, offsetBytes: 100 + 3 * 48, lengthBytes: 40 });
    expect(empty).toMatchObject({ plaintextOffsetBytes: 48, plaintextBytes: 0 });
    expect(frameRange(3, 48, 16, 100)).toMatchObject({ isFinal: false, lengthBytes: 48 });
    const full = frameRange(3, 48, 16, 100, 'full-final');
    expect(full).toMatchObject({ isFinal: true, lengthBytes: 56, plaintextBytes: 16 });
    expect(() => frameRange(4, 48, 16, 100, 'full-final')).toThrow(/seq 4 of 3/);
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

  it.each([
    // start, end, written (empty-final): first, last; full-final: first, last
    [0, 48, 1, 3, 1, 3],
    [32, 48, 3, 3, 3, 3],
    [48, 48, 4, 4, 3, 3],
    [47, 48, 3, 3, 3, 3],
  ])(
    '[%i, %i) of 48 bytes at 16 -> frames %i..%i (%i..%i in the full-final form)',
    (start, end, first, last, fullFirst, fullLast) => {
      expect(framesForPlaintextRange(start, end, 48, 16)).toEqual({
        firstSeq: first,
        lastSeq: last,
      });
      expect(framesForPlaintextRange(start, end, 48, 16, 'full-final')).toEqual({
        firstSeq: fullFirst,
        lastSeq: fullLast,
      });
    },
  );
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
