/**
 * The pure planning of downloads: object classification, the body layout from the object size in
 * both final-frame forms, frame batches, plaintext ranges and the header range growth.
 */
import { describe, expect, test } from 'vitest';
import { encryptBytes } from '../../../src/core/one-shot';
import { parseHeaderBytes } from '../../../src/core/message';
import {
  bodyLayout,
  classifyObject,
  finalFrameMatches,
  frameOffsetBytes,
  framesForRange,
  nextHeaderRange,
  planBatches,
} from '../../../src/transfer/download-plan';
import {
  PEER_SUITE_0478,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../core/helpers';
import { buildMessage } from '../core/message-builder';

const KEY = testKeyBytes(256);
const FRAME = 64;

describe('classifyObject', () => {
  test.each([
    [undefined, [0x02, 0x04, 0x78], 'esdk'],
    [undefined, [0x02, 0x05, 0x78], 'esdk'],
    [undefined, [0x02, 0x04, 0x77], 'plain'],
    [undefined, [0x01, 0x80, 0x03], 'plain'],
    [undefined, [], 'plain'],
    [{ 'veil-format': 'plain' }, [0x02, 0x04, 0x78], 'plain'],
    [{ 'veil-format': 'esdk-v2-0478-framed' }, [0x41, 0x67], 'esdk'],
    [{ other: 'x' }, [0x02, 0x05, 0x78], 'esdk'],
  ] as const)('metadata %j, first bytes %j -> %s', (metadata, bytes, kind) => {
    expect(classifyObject(metadata, Uint8Array.from(bytes))).toBe(kind);
  });
});

describe('bodyLayout', () => {
  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME, 5 * FRAME + 7])(
    'as Veil writes it (empty-final form), %i bytes',
    async (size) => {
      const message = await encryptBytes(patternBytes(size), {
        keyring: await ourKeyring(KEY),
        frameBytes: FRAME,
      });
      const header = parseHeaderBytes(message);
      const layout = bodyLayout(message.length, header.headerBytes, FRAME);
      expect(layout).toMatchObject({
        plaintextBytes: size,
        frameCount: Math.floor(size / FRAME) + 1,
        finalPlaintextBytes: size % FRAME,
      });
      const finalFrame = message.subarray(frameOffsetBytes(layout!, layout!.frameCount));
      expect(finalFrameMatches(layout!, finalFrame)).toBe(true);
    },
  );

  test.each([0, 1, FRAME, 3 * FRAME, 3 * FRAME + 5])(
    'client-node empty-final form, %i bytes',
    async (size) => {
      const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(patternBytes(size)), {
        suiteId: PEER_SUITE_0478,
        frameLength: FRAME,
      });
      const header = parseHeaderBytes(new Uint8Array(result));
      const layout = bodyLayout(result.length, header.headerBytes, FRAME);
      expect(layout?.plaintextBytes).toBe(size);
      expect(layout?.frameCount).toBe(Math.floor(size / FRAME) + 1);
      const finalFrame = new Uint8Array(result).subarray(
        frameOffsetBytes(layout!, layout!.frameCount),
      );
      expect(finalFrameMatches(layout!, finalFrame)).toBe(true);
    },
  );

  test.each([FRAME, 3 * FRAME])(
    'as Veil wrote it before (full-final form), %i bytes',
    async (size) => {
      const { whole } = await buildMessage(await ourKeyring(KEY), patternBytes(size), FRAME);
      const header = parseHeaderBytes(whole);
      const layout = bodyLayout(whole.length, header.headerBytes, FRAME);
      expect(layout).toMatchObject({
        plaintextBytes: size,
        frameCount: size / FRAME,
        finalPlaintextBytes: FRAME,
      });
      const finalFrame = whole.subarray(frameOffsetBytes(layout!, layout!.frameCount));
      expect(finalFrameMatches(layout!, finalFrame)).toBe(true);
      // The written form of the same plaintext is 32 bytes longer: a 40-byte empty final frame,
      // less the 8 bytes (marker and length) the last full frame drops as a regular frame.
      const written = await encryptBytes(patternBytes(size), {
        keyring: await ourKeyring(KEY),
        frameBytes: FRAME,
      });
      expect(written.length - header.headerBytes).toBe(whole.length - header.headerBytes + 32);
    },
  );

  test('no layout fits a body that is too short or ends mid-frame', () => {
    expect(bodyLayout(100, 90, FRAME)).toBeUndefined();
    // 40 + (FRAME + 1): a final frame longer than the frame length.
    expect(bodyLayout(100 + 40 + FRAME + 1, 100, FRAME)).toBeUndefined();
    expect(() => bodyLayout(-1, 0, FRAME)).toThrow(/range/);
    expect(() => bodyLayout(10, 0, 0)).toThrow(/range/);
  });

  test('a message cut after a regular frame does not check out', async () => {
    const message = await encryptBytes(patternBytes(3 * FRAME), {
      keyring: await ourKeyring(KEY),
      frameBytes: FRAME,
    });
    const header = parseHeaderBytes(message);
    const cut = message.subarray(0, header.headerBytes + 2 * (FRAME + 32));
    const layout = bodyLayout(cut.length, header.headerBytes, FRAME);
    expect(
      layout === undefined ||
        !finalFrameMatches(layout, cut.subarray(frameOffsetBytes(layout, layout.frameCount))),
    ).toBe(true);
  });
});

describe('planBatches and framesForRange', () => {
  const layout = bodyLayout(100 + 9 * (FRAME + 32) + 10 + 40, 100, FRAME)!;

  test('whole frames per batch, covering the body exactly', () => {
    expect(layout.frameCount).toBe(10);
    const batches = planBatches(layout, 4 * (FRAME + 32) + 5);
    expect(batches.map((b) => [b.firstSeq, b.lastSeq])).toEqual([
      [1, 4],
      [5, 8],
      [9, 10],
    ]);
    expect(batches[0]?.startBytes).toBe(100);
    expect(batches.at(-1)?.endBytes).toBe(layout.objectBytes);
    for (let i = 1; i < batches.length; i++) {
      expect(batches[i]?.startBytes).toBe(batches[i - 1]?.endBytes);
    }
    expect(batches.reduce((sum, b) => sum + b.plaintextBytes, 0)).toBe(layout.plaintextBytes);
    expect(planBatches(layout, 1)).toHaveLength(10);
  });

  test('guards', () => {
    expect(() => planBatches(layout, 0)).toThrow(/range/);
    expect(() => planBatches(layout, 100, 0, 1)).toThrow(/range/);
    expect(() => planBatches(layout, 100, 1, 11)).toThrow(/range/);
    expect(() => framesForRange(layout, 5, 4)).toThrow(/range/);
    expect(() => framesForRange(layout, 0, layout.plaintextBytes + 1)).toThrow(/range/);
  });

  test.each([
    [0, 1, 1, 1],
    [0, FRAME, 1, 1],
    [FRAME - 1, FRAME + 1, 1, 2],
    [FRAME, FRAME, 2, 2],
    [3 * FRAME + 3, 9 * FRAME + 10, 4, 10],
    [9 * FRAME + 10, 9 * FRAME + 10, 10, 10],
  ])('plaintext [%i, %i) is in frames %i..%i', (start, end, first, last) => {
    expect(framesForRange(layout, start, end)).toEqual({ firstSeq: first, lastSeq: last });
  });
});

test('nextHeaderRange doubles up to the object and fails past its end', () => {
  expect(nextHeaderRange(4096, 5000, 1_000_000)).toBe(8192);
  expect(nextHeaderRange(4096, 20_000, 1_000_000)).toBe(20_000);
  expect(nextHeaderRange(4096, 5000, 6000)).toBe(6000);
  expect(() => nextHeaderRange(6000, 7000, 6000)).toThrow(/final frame/);
});
