/**
 * The body layout the core owns for the layers above: readFrameHeader (the fields in front of a
 * frame's ciphertext), framesByteSize (the bytes of a run of frames: S3 parts, ranged GETs),
 * serializedFrameBytes and checkPlaintextRange. Boundary tables at 0, 1, frame-1, frame,
 * frame+1 and many frames, in both final-frame forms, against real messages walked frame by
 * frame; every guard tripped.
 */
import { describe, expect, it, test } from 'vitest';
import {
  checkPlaintextRange,
  encryptBytes,
  frameCount,
  frameRange,
  framesByteSize,
  parseHeaderBytes,
  readFrameHeader,
  serializedFrameBytes,
  type FinalFrameForm,
} from '../../../src/core';
import { expectThrowsCode, ourKeyring, patternBytes, testKeyBytes } from './helpers';
import { buildMessage } from './message-builder';

const FRAME = 64;
const keyring = await ourKeyring(testKeyBytes(256, 5));

const SIZES: [string, number][] = [
  ['0', 0],
  ['1', 1],
  ['frame-1', FRAME - 1],
  ['frame', FRAME],
  ['frame+1', FRAME + 1],
  ['many frames', 7 * FRAME + 5],
  ['many frames, exact multiple', 7 * FRAME],
];
const FORMS: FinalFrameForm[] = ['empty-final', 'full-final'];

/** A message of `plaintextBytes` in `form`: the core writes empty-final, the builder full-final. */
async function messageIn(form: FinalFrameForm, plaintextBytes: number): Promise<Uint8Array> {
  const plaintext = patternBytes(plaintextBytes, 9);
  return form === 'empty-final'
    ? encryptBytes(plaintext, { keyring, frameBytes: FRAME })
    : (await buildMessage(keyring, plaintext, FRAME)).whole;
}

describe.each(FORMS)('%s messages', (form) => {
  test.each(SIZES)('%s plaintext bytes: the frames read back as planned', async (_, size) => {
    const message = await messageIn(form, size);
    const { headerBytes } = parseHeaderBytes(message);
    const count = frameCount(size, FRAME, form);
    let at = headerBytes;
    for (let seq = 1; seq <= count; seq++) {
      const planned = frameRange(seq, size, FRAME, headerBytes, form);
      const head = readFrameHeader(message, at, FRAME);
      expect(planned.offsetBytes).toBe(at);
      expect(head).toMatchObject({
        isFinal: seq === count,
        seq,
        plaintextBytes: planned.plaintextBytes,
        headerBytes: seq === count ? 24 : 16,
        frameSizeBytes: planned.lengthBytes,
      });
      // The canonical IV: 00 x 8 || u32 seq.
      expect(Array.from(head!.iv.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(head!.iv[11]).toBe(seq & 0xff);
      at += head!.frameSizeBytes;
    }
    expect(at).toBe(message.length);
    expect(readFrameHeader(message, at, FRAME)).toBeUndefined();
  });

  test.each(SIZES)('%s plaintext bytes: framesByteSize of every run of frames', async (_, size) => {
    const message = await messageIn(form, size);
    const { headerBytes } = parseHeaderBytes(message);
    const count = frameCount(size, FRAME, form);
    expect(headerBytes + framesByteSize(1, count, size, FRAME, form)).toBe(message.length);
    for (let first = 1; first <= count; first++) {
      for (let last = first; last <= count; last++) {
        const start = frameRange(first, size, FRAME, headerBytes, form).offsetBytes;
        const end = frameRange(last, size, FRAME, headerBytes, form);
        expect(framesByteSize(first, last, size, FRAME, form)).toBe(
          end.offsetBytes + end.lengthBytes - start,
        );
      }
    }
  });
});

test('framesByteSize: the two forms differ only for exact non-zero multiples', () => {
  for (const [, size] of SIZES) {
    const empty = framesByteSize(1, frameCount(size, FRAME), size, FRAME);
    const full = framesByteSize(
      1,
      frameCount(size, FRAME, 'full-final'),
      size,
      FRAME,
      'full-final',
    );
    expect(empty - full).toBe(size > 0 && size % FRAME === 0 ? 32 : 0);
  }
  // A run that stops before the final frame is whole regular frames in either form.
  expect(framesByteSize(2, 4, 7 * FRAME, FRAME, 'empty-final')).toBe(3 * (FRAME + 32));
  expect(framesByteSize(2, 4, 7 * FRAME, FRAME, 'full-final')).toBe(3 * (FRAME + 32));
  // The empty final frame alone, and the full one alone.
  expect(framesByteSize(8, 8, 7 * FRAME, FRAME, 'empty-final')).toBe(40);
  expect(framesByteSize(7, 7, 7 * FRAME, FRAME, 'full-final')).toBe(FRAME + 40);
});

describe('readFrameHeader', () => {
  it('returns undefined while the bytes end inside the fields', async () => {
    const message = await messageIn('empty-final', FRAME + 3);
    const { headerBytes } = parseHeaderBytes(message);
    const regular = message.subarray(headerBytes, headerBytes + FRAME + 32);
    const final = message.subarray(headerBytes + FRAME + 32);
    for (const cut of [0, 1, 3, 4, 15]) {
      expect(readFrameHeader(regular.subarray(0, cut), 0, FRAME)).toBeUndefined();
    }
    expect(readFrameHeader(regular.subarray(0, 16), 0, FRAME)).toMatchObject({ seq: 1 });
    for (const cut of [4, 8, 20, 23]) {
      expect(readFrameHeader(final.subarray(0, cut), 0, FRAME)).toBeUndefined();
    }
    expect(readFrameHeader(final.subarray(0, 24), 0, FRAME)).toMatchObject({
      isFinal: true,
      seq: 2,
      plaintextBytes: 3,
      frameSizeBytes: 43,
    });
  });

  it('reads what the fields say, not what the caller expects', () => {
    // A final marker with a length over the frame length: reported, decryptFrame refuses it.
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0xffff_ffff);
    view.setUint32(4, 9);
    view.setUint32(20, FRAME + 1);
    expect(readFrameHeader(bytes, 0, FRAME)).toMatchObject({
      isFinal: true,
      seq: 9,
      plaintextBytes: FRAME + 1,
      frameSizeBytes: FRAME + 41,
    });
  });

  test.each([
    [
      'bytes not a Uint8Array',
      () => readFrameHeader([] as unknown as Uint8Array, 0, FRAME),
      'BAD_ARGUMENT',
    ],
    [
      'offset not an integer',
      () => readFrameHeader(new Uint8Array(32), 0.5, FRAME),
      'BAD_ARGUMENT',
    ],
    ['negative offset', () => readFrameHeader(new Uint8Array(32), -1, FRAME), 'OUT_OF_RANGE'],
    ['offset past the end', () => readFrameHeader(new Uint8Array(32), 33, FRAME), 'OUT_OF_RANGE'],
    [
      'frame length not an integer',
      () => readFrameHeader(new Uint8Array(32), 0, 1.5),
      'BAD_ARGUMENT',
    ],
    ['frame length 0', () => readFrameHeader(new Uint8Array(32), 0, 0), 'OUT_OF_RANGE'],
    ['frame length 2^32', () => readFrameHeader(new Uint8Array(32), 0, 2 ** 32), 'OUT_OF_RANGE'],
  ] as const)('guard: %s', (_, run, code) => {
    expectThrowsCode(run, code);
  });
});

describe('framesByteSize guards', () => {
  test.each([
    ['seq not an integer', () => framesByteSize(1.5, 2, 10 * FRAME, FRAME), 'BAD_ARGUMENT'],
    ['first seq 0', () => framesByteSize(0, 2, 10 * FRAME, FRAME), 'OUT_OF_RANGE'],
    ['first after last', () => framesByteSize(3, 2, 10 * FRAME, FRAME), 'OUT_OF_RANGE'],
    ['beyond the final frame', () => framesByteSize(1, 12, 10 * FRAME, FRAME), 'OUT_OF_RANGE'],
    [
      'beyond the full final frame',
      () => framesByteSize(1, 11, 10 * FRAME, FRAME, 'full-final'),
      'OUT_OF_RANGE',
    ],
    ['negative plaintext', () => framesByteSize(1, 1, -1, FRAME), 'OUT_OF_RANGE'],
    ['frame length 0', () => framesByteSize(1, 1, 10, 0), 'OUT_OF_RANGE'],
    [
      'unknown form',
      () => framesByteSize(1, 1, 10, FRAME, 'other' as FinalFrameForm),
      'BAD_ARGUMENT',
    ],
  ] as const)('%s', (_, run, code) => {
    expectThrowsCode(run, code);
  });
});

describe('serializedFrameBytes', () => {
  test.each([
    [0, true, 40],
    [1, true, 41],
    [FRAME - 1, true, FRAME + 39],
    [FRAME, true, FRAME + 40],
    [FRAME, false, FRAME + 32],
    [FRAME + 1, false, FRAME + 33],
    [0xffff_ffff, false, 0xffff_ffff + 32],
  ] as const)('%i plaintext bytes, final %s: %i bytes', (bytes, isFinal, expected) => {
    expect(serializedFrameBytes(bytes, isFinal)).toBe(expected);
  });

  test.each([
    ['not an integer', () => serializedFrameBytes(1.5, false), 'BAD_ARGUMENT'],
    ['negative', () => serializedFrameBytes(-1, false), 'OUT_OF_RANGE'],
    ['over the u32 field', () => serializedFrameBytes(2 ** 32, true), 'OUT_OF_RANGE'],
    [
      'isFinal not a boolean',
      () => serializedFrameBytes(1, 1 as unknown as boolean),
      'BAD_ARGUMENT',
    ],
  ] as const)('guard: %s', (_, run, code) => {
    expectThrowsCode(run, code);
  });
});

describe('checkPlaintextRange', () => {
  test.each([
    [0, 0, 0],
    [0, 1, 1],
    [1, 1, 1],
    [0, FRAME, FRAME],
    [FRAME - 1, FRAME + 1, FRAME + 1],
    [5, 5, 10],
  ])('[%i, %i) of %i bytes holds', (start, end, total) => {
    expect(() => checkPlaintextRange(start, end, total)).not.toThrow();
  });

  test.each([
    ['a bound not an integer', () => checkPlaintextRange(0.5, 1, 10), 'BAD_ARGUMENT'],
    ['an unsafe bound', () => checkPlaintextRange(0, 2 ** 53, 2 ** 53), 'BAD_ARGUMENT'],
    ['a negative start', () => checkPlaintextRange(-1, 1, 10), 'OUT_OF_RANGE'],
    ['start after end', () => checkPlaintextRange(3, 2, 10), 'OUT_OF_RANGE'],
    ['end beyond the plaintext', () => checkPlaintextRange(0, 11, 10), 'OUT_OF_RANGE'],
    ['any range of nothing but [0, 0)', () => checkPlaintextRange(0, 1, 0), 'OUT_OF_RANGE'],
  ] as const)('guard: %s', (_, run, code) => {
    expectThrowsCode(run, code);
  });
});
