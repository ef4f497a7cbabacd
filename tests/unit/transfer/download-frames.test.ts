/**
 * decryptFrames with its frames in flight ([Note: frames in flight] in download-frames.ts): the
 * AES-GCM calls of a job overlap, at most FRAMES_IN_FLIGHT at once, yet nothing comes back unless
 * every frame verified, and the failure is the one a frame-by-frame walk meets first.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { openMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import { encryptBytes } from '../../../src/core/one-shot';
import {
  FRAMES_IN_FLIGHT,
  decryptFrames,
  type FramesJob,
} from '../../../src/transfer/download-frames';
import { flipByte, ourKeyring, patternBytes, testKeyBytes } from '../core/helpers';

const FRAME = 256;
/** Serialized size of a regular frame: seq, IV, ciphertext, tag. */
const FRAME_SIZE = FRAME + 32;
const FRAMES = 12;

/** A message of FRAMES regular frames and an empty final one, and a job for all of it. */
async function job(): Promise<{ plain: Uint8Array; job: FramesJob }> {
  const plain = patternBytes(FRAMES * FRAME, 3);
  const keyring = await ourKeyring(testKeyBytes(256));
  const bytes = await encryptBytes(plain, { keyring, frameBytes: FRAME });
  const header = parseHeaderBytes(bytes);
  const contentKey = await openMessageHeader(header, { keyring });
  return {
    plain,
    job: {
      contentKey,
      messageId: header.messageId,
      frameBytes: FRAME,
      firstSeq: 1,
      lastSeq: FRAMES + 1,
      finalSeq: FRAMES + 1,
      frames: bytes.slice(header.headerBytes),
    },
  };
}

/** Frame `seq`'s bytes within a job's frames (regular frames only). */
const frameAt = (seq: number): [number, number] => [(seq - 1) * FRAME_SIZE, seq * FRAME_SIZE];

afterEach(() => vi.restoreAllMocks());

describe('decryptFrames', () => {
  test('overlaps the frames of a job, at most FRAMES_IN_FLIGHT at once, in order', async () => {
    const { plain, job: whole } = await job();
    const decrypt = crypto.subtle.decrypt.bind(crypto.subtle);
    let inFlight = 0;
    let most = 0;
    vi.spyOn(crypto.subtle, 'decrypt').mockImplementation(async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await decrypt(...args);
      } finally {
        inFlight--;
      }
    });
    const opened = await decryptFrames(whole);
    expect(most).toBe(FRAMES_IN_FLIGHT);
    expect(opened.plaintext).toHaveLength(FRAMES + 1);
    expect(Buffer.compare(Buffer.concat(opened.plaintext), plain)).toBe(0);
    // Each frame's buffer is whole, so it can be transferred without a copy.
    for (const frame of opened.plaintext) {
      expect(frame.byteOffset).toBe(0);
      expect(frame.byteLength).toBe(frame.buffer.byteLength);
    }
  });

  test('a tampered frame anywhere in the job releases nothing', async () => {
    for (const seq of [1, 5, FRAMES]) {
      const { job: whole } = await job();
      flipByte(whole.frames, frameAt(seq)[0] + 40);
      await expect(decryptFrames(whole)).rejects.toMatchObject({ code: 'FRAME_TAMPERED' });
    }
    const { job: whole } = await job();
    flipByte(whole.frames, whole.frames.length - 1); // the final frame's tag
    await expect(decryptFrames(whole)).rejects.toMatchObject({ code: 'FRAME_TAMPERED' });
  });

  test('the failure is the lowest seq one, as a frame-by-frame walk would meet it', async () => {
    // Frame 3 tampered and frame 6 cut short: the tag failure comes first.
    const { job: whole } = await job();
    flipByte(whole.frames, frameAt(3)[0] + 40);
    const cut = whole.frames.slice(0, frameAt(6)[0] + 10);
    await expect(decryptFrames({ ...whole, frames: cut })).rejects.toMatchObject({
      code: 'FRAME_TAMPERED',
    });
    // Without the tampering, the cut is what is met.
    const { job: clean } = await job();
    await expect(
      decryptFrames({ ...clean, frames: clean.frames.slice(0, frameAt(6)[0] + 10) }),
    ).rejects.toMatchObject({ code: 'MALFORMED' });
  });

  test('swapped frames, a missing final frame and trailing bytes are refused', async () => {
    const { job: whole } = await job();
    const swapped = whole.frames.slice();
    swapped.set(whole.frames.subarray(...frameAt(3)), frameAt(2)[0]);
    swapped.set(whole.frames.subarray(...frameAt(2)), frameAt(3)[0]);
    await expect(decryptFrames({ ...whole, frames: swapped })).rejects.toMatchObject({
      code: 'OUT_OF_ORDER',
    });
    // The regular frames alone, claimed to end the message: the final frame marker is missing.
    const noFinal = whole.frames.slice(0, frameAt(FRAMES)[1]);
    await expect(
      decryptFrames({ ...whole, frames: noFinal, lastSeq: FRAMES, finalSeq: FRAMES }),
    ).rejects.toMatchObject({ code: 'OUT_OF_ORDER' });
    const trailing = new Uint8Array(whole.frames.length + 1);
    trailing.set(whole.frames);
    await expect(decryptFrames({ ...whole, frames: trailing })).rejects.toMatchObject({
      code: 'MALFORMED',
    });
  });
});
