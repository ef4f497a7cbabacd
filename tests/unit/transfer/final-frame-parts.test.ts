/**
 * Upload parts end the message the way the core writes it ([Note: empty final frame] in
 * src/core/sizes.ts): the empty final frame of an exact multiple of the frame length rides with
 * the last part ([Note: the empty final frame rides with the last part] in part-plan.ts), so a
 * file of exactly one part's size is one PutObject, and the parts, put together, have the frame
 * count and final-frame length client-node writes. A plan replayed in the full-final form (an
 * upload recorded before) keeps that form, with the same part count and boundaries.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { createMessageHeader } from '../../../src/core/message';
import { decryptBytes } from '../../../src/core/one-shot';
import type { FinalFrameForm } from '../../../src/core/sizes';
import { ciphertextSize, frameCount } from '../../../src/core/sizes';
import { buildParts } from '../../../src/transfer/build-part';
import {
  DEFAULT_PART_BYTES,
  S3_MIN_PART_BYTES,
  partSpec,
  planUpload,
} from '../../../src/transfer/part-plan';
import { walkFrames } from '../core/frame-walk';
import {
  PEER_SUITE_0478,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../core/helpers';

const MiB = 1024 * 1024;
const FRAME = 512 * 1024;
const HEADER = 219;
const KEY = testKeyBytes(256, 4);

describe('planUpload and the empty final frame', () => {
  test.each([
    // plaintext bytes, parts, frames, frames in the last part
    [0, 1, 1, 1],
    [FRAME, 1, 2, 2],
    [DEFAULT_PART_BYTES, 1, 17, 17],
    [2 * DEFAULT_PART_BYTES, 2, 33, 17],
    [2 * DEFAULT_PART_BYTES + 1, 3, 33, 1],
    [3 * DEFAULT_PART_BYTES - FRAME, 3, 48, 16],
  ])(
    '%i bytes: %i part(s), %i frames, %i in the last part',
    (plaintextBytes, partCount, frames, lastPartFrames) => {
      const plan = planUpload({
        plaintextBytes,
        frameBytes: FRAME,
        headerBytes: HEADER,
        encrypted: true,
      });
      expect(plan).toMatchObject({ partCount, frameCount: frames, finalFrameForm: 'empty-final' });
      expect(plan.singleRequest).toBe(partCount === 1);
      const last = partSpec(plan, partCount);
      expect(last.lastSeq).toBe(frames);
      expect(last.lastSeq - last.firstSeq + 1).toBe(lastPartFrames);
      expect(last.objectOffsetBytes + last.objectBytes).toBe(
        ciphertextSize(plaintextBytes, FRAME, HEADER),
      );
      for (let n = 1; n < partCount; n++) {
        expect(partSpec(plan, n).objectBytes).toBeGreaterThanOrEqual(S3_MIN_PART_BYTES);
      }
    },
  );

  test('property: both forms give the same parts, but for the final frame of the last part', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).chain((frames) =>
          fc.record({
            frameBytes: fc.integer({ min: 16 * 1024, max: 2 * MiB }),
            frames: fc.constant(frames),
            extraBytes: fc.constantFrom(0, 0, 1, 777),
            partBytes: fc.integer({ min: S3_MIN_PART_BYTES, max: 16 * MiB }),
            framesPerPart: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }),
          }),
        ),
        ({ frameBytes, frames, extraBytes, partBytes, framesPerPart }) => {
          const plaintextBytes = frames * frameBytes + extraBytes;
          const plan = (finalFrameForm: FinalFrameForm) =>
            planUpload({
              plaintextBytes,
              frameBytes,
              headerBytes: HEADER,
              encrypted: true,
              ...(framesPerPart === undefined ? { partBytes } : { framesPerPart }),
              finalFrameForm,
            });
          const empty = plan('empty-final');
          const full = plan('full-final');
          expect(empty.partCount).toBe(full.partCount);
          expect(empty.framesPerPart).toBe(full.framesPerPart);
          expect(full.frameCount).toBe(frameCount(plaintextBytes, frameBytes, 'full-final'));
          expect(full.objectBytes).toBe(
            ciphertextSize(plaintextBytes, frameBytes, HEADER, 'full-final'),
          );
          for (let n = 1; n <= empty.partCount; n++) {
            const [a, b] = [partSpec(empty, n), partSpec(full, n)];
            expect([a.firstSeq, a.plaintextOffsetBytes, a.plaintextBytes]).toEqual([
              b.firstSeq,
              b.plaintextOffsetBytes,
              b.plaintextBytes,
            ]);
            expect(a.lastSeq).toBe(n === empty.partCount ? empty.frameCount : b.lastSeq);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Builds every part of `plaintext` (in one run) and joins them into the object. */
async function uploadedObject(
  plaintext: Uint8Array<ArrayBuffer>,
  frameBytes: number,
  partBytes: number,
  finalFrameForm?: FinalFrameForm,
): Promise<{ object: Uint8Array; partCount: number }> {
  const keyring = await ourKeyring(KEY);
  const written = await createMessageHeader({ keyring, frameBytes });
  const plan = planUpload({
    plaintextBytes: plaintext.length,
    frameBytes,
    headerBytes: written.headerBytes.length,
    encrypted: true,
    partBytes,
    ...(finalFrameForm ? { finalFrameForm } : {}),
  });
  const specs = Array.from({ length: plan.partCount }, (_, i) => partSpec(plan, i + 1));
  const built = await buildParts({
    file: new Blob([plaintext]),
    frameBytes,
    parts: specs.map(({ firstSeq, lastSeq }) => ({ firstSeq, lastSeq })),
    cipher: { ...written, headerBytes: written.headerBytes },
    ...(finalFrameForm ? { finalFrameForm } : {}),
  });
  built.forEach((part, index) => expect(part.bytes.length).toBe(specs[index]?.objectBytes));
  const object = concatBytes(...built.map((part) => part.bytes));
  expect(object.length).toBe(plan.objectBytes);
  return { object, partCount: plan.partCount };
}

describe('built parts, put together', () => {
  const frameBytes = 4096;
  const partBytes = S3_MIN_PART_BYTES; // 1280 frames of 4 KiB

  test.each([
    ['exactly one part', S3_MIN_PART_BYTES, 1],
    ['exactly two parts', 2 * S3_MIN_PART_BYTES, 2],
    ['two parts and a frame', 2 * S3_MIN_PART_BYTES + frameBytes, 3],
    ['one frame less than two parts', 2 * S3_MIN_PART_BYTES - frameBytes, 2],
  ])('%s: the layout client-node writes', async (_label, plaintextBytes, parts) => {
    const plaintext = patternBytes(plaintextBytes, 5);
    const { object, partCount } = await uploadedObject(plaintext, frameBytes, partBytes);
    expect(partCount).toBe(parts);
    const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
      suiteId: PEER_SUITE_0478,
      frameLength: frameBytes,
    });
    const [ours, reference] = [walkFrames(object), walkFrames(new Uint8Array(result))];
    expect([ours.frameCount, ours.finalFramePlaintextBytes]).toEqual([
      reference.frameCount,
      reference.finalFramePlaintextBytes,
    ]);
    const { plaintext: opened } = await peer.decrypt(peerKeyring(KEY), object);
    expect(Buffer.compare(opened, plaintext)).toBe(0);
  });

  test('a plan replayed in the full-final form builds a full final frame, which still decrypts', async () => {
    const plaintext = patternBytes(2 * S3_MIN_PART_BYTES, 6);
    const { object, partCount } = await uploadedObject(
      plaintext,
      frameBytes,
      partBytes,
      'full-final',
    );
    expect(partCount).toBe(2);
    const walked = walkFrames(object);
    expect([walked.frameCount, walked.finalFramePlaintextBytes]).toEqual([
      plaintext.length / frameBytes,
      frameBytes,
    ]);
    const opened = await decryptBytes(object, { keyring: await ourKeyring(KEY) });
    expect(Buffer.compare(opened, plaintext)).toBe(0);
  });
});
