/**
 * The final-frame form Veil writes ([Note: empty final frame] in src/core/sizes.ts), with
 * @aws-crypto/client-node 5.0.2 as the reference for the byte layout: at the same frame length,
 * for 0, 1, frame-1, frame, frame+1 and k x frame bytes, Veil's message has the same frame count
 * and the same final-frame content length as client-node's, whichever way the plaintext is
 * chunked. Veil still reads the full-final form it wrote before.
 */
import { describe, expect, it } from 'vitest';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { createEncryptStream } from '../../../src/core/encrypt-stream';
import { decryptBytes, encryptBytes, runTransform } from '../../../src/core/one-shot';
import {
  ciphertextSize,
  finalFramePlaintextBytes,
  frameCount,
  layoutFromCiphertextSize,
  plaintextSize,
} from '../../../src/core/sizes';
import { walkFrames } from './frame-walk';
import {
  PEER_SUITE_0478,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from './helpers';
import { buildMessage } from './message-builder';

const KEY = testKeyBytes(256, 3);
const keyring = await ourKeyring(KEY);

const sizesFor = (frameBytes: number): [string, number][] => [
  ['0', 0],
  ['1', 1],
  ['frame-1', frameBytes - 1],
  ['frame', frameBytes],
  ['frame+1', frameBytes + 1],
  ['3 x frame', 3 * frameBytes],
];

async function peerMessage(plaintext: Uint8Array, frameBytes: number): Promise<Uint8Array> {
  const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
    suiteId: PEER_SUITE_0478,
    frameLength: frameBytes,
  });
  return new Uint8Array(result);
}

describe.each([4096, 512 * 1024])(
  'frame length %i: the layout client-node writes',
  (frameBytes) => {
    it.each(sizesFor(frameBytes))('%s (%i bytes)', async (_label, plaintextBytes) => {
      const plaintext = patternBytes(plaintextBytes, 7);
      const reference = walkFrames(await peerMessage(plaintext, frameBytes));
      const ours = await encryptBytes(plaintext, { keyring, frameBytes });
      const walked = walkFrames(ours);
      expect({
        frameCount: walked.frameCount,
        finalFramePlaintextBytes: walked.finalFramePlaintextBytes,
      }).toEqual({
        frameCount: reference.frameCount,
        finalFramePlaintextBytes: reference.finalFramePlaintextBytes,
      });
      // The size functions describe what was written, and the size alone gives it back.
      expect(frameCount(plaintextBytes, frameBytes)).toBe(walked.frameCount);
      expect(finalFramePlaintextBytes(plaintextBytes, frameBytes)).toBe(
        walked.finalFramePlaintextBytes,
      );
      expect(ours.length).toBe(ciphertextSize(plaintextBytes, frameBytes, walked.headerBytes));
      expect(plaintextSize(ours.length, frameBytes, walked.headerBytes)).toBe(plaintextBytes);
      const { plaintext: opened } = await peer.decrypt(peerKeyring(KEY), ours);
      expect(Buffer.compare(opened, plaintext)).toBe(0);
    });
  },
);

describe('the stream writes the same layout however the input is chunked', () => {
  const frameBytes = 4096;
  it.each([1, 1000, frameBytes - 1, frameBytes, frameBytes + 1, 2 * frameBytes, 3 * frameBytes])(
    'chunks of %i bytes',
    async (chunkBytes) => {
      for (const [, plaintextBytes] of sizesFor(frameBytes)) {
        const plaintext = patternBytes(plaintextBytes, 9);
        const reference = walkFrames(await peerMessage(plaintext, frameBytes));
        const ours = await runTransform(
          createEncryptStream({ keyring, frameBytes, plaintextBytes }),
          plaintext,
          chunkBytes,
        );
        const walked = walkFrames(ours);
        expect([walked.frameCount, walked.finalFramePlaintextBytes]).toEqual([
          reference.frameCount,
          reference.finalFramePlaintextBytes,
        ]);
        expect(await decryptBytes(ours, { keyring })).toEqual(plaintext);
      }
    },
  );
});

describe('objects Veil wrote before, with a full final frame', () => {
  it.each([
    [16, 1],
    [16, 3],
    [4096, 2],
  ])('frame %i x %i decrypts through the core', async (frameBytes, frames) => {
    const plaintext = patternBytes(frameBytes * frames, 11);
    const { whole } = await buildMessage(keyring, plaintext, frameBytes);
    const walked = walkFrames(whole);
    expect([walked.frameCount, walked.finalFramePlaintextBytes]).toEqual([frames, frameBytes]);
    expect(layoutFromCiphertextSize(whole.length, frameBytes, walked.headerBytes)).toMatchObject({
      form: 'full-final',
      frameCount: frames,
      plaintextBytes: plaintext.length,
    });
    expect(whole.length).toBe(
      ciphertextSize(plaintext.length, frameBytes, walked.headerBytes, 'full-final'),
    );
    expect(await decryptBytes(whole, { keyring })).toEqual(plaintext);
    // In small chunks too: the stream reader takes either form as it comes.
    const streamed = await runTransform(createDecryptStream({ keyring }), whole, 7);
    expect(streamed).toEqual(plaintext);
  });
});
