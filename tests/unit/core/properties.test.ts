/**
 * fast-check properties of the core: any plaintext, frame length, context and chunking round-trips
 * (through Veil and through client-node); any single-bit flip, truncation, frame swap or
 * duplication is rejected with a VeilError, and what was released before the failure is only
 * whole authenticated frames that precede the damage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { VeilError } from '../../../src/core/errors';
import { decryptBytes, encryptBytes, runTransform } from '../../../src/core/one-shot';
import { createEncryptStream } from '../../../src/core/encrypt-stream';
import { ourKeyring, peer, peerKeyring, testKeyBytes } from './helpers';
import { buildMessage, collect } from './message-builder';

const KEY = testKeyBytes(256, 5);
const keyring = await ourKeyring(KEY);
const NUM_RUNS = 60;

const contextArb = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 8, unit: 'grapheme' })
    .filter((key) => !key.startsWith('aws-crypto-')),
  fc.string({ maxLength: 8, unit: 'grapheme' }),
  { maxKeys: 4 },
);
const messageArb = fc.record({
  plaintext: fc.uint8Array({ maxLength: 1200 }),
  frameBytes: fc.integer({ min: 1, max: 300 }),
  context: contextArb,
});

/** Asserts a failed decryption released only whole frames of plaintext before `limitBytes`. */
function expectSafeFailure(
  result: { output: Uint8Array[]; error: unknown },
  plaintext: Uint8Array,
  frameBytes: number,
  limitBytes: number,
): void {
  expect(result.error).toBeInstanceOf(VeilError);
  const released = concatBytes(...result.output);
  expect(released.length % frameBytes === 0 || released.length === plaintext.length).toBe(true);
  expect(released.length).toBeLessThanOrEqual(limitBytes);
  expect(Buffer.from(released).equals(Buffer.from(plaintext.subarray(0, released.length)))).toBe(
    true,
  );
}

describe('round trip', () => {
  it('Veil -> Veil for any input, frame length, context, chunking and frames in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        messageArb,
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 4 }),
        async ({ plaintext, frameBytes, context }, chunkBytes, framesInFlight) => {
          const ciphertext = await runTransform(
            createEncryptStream({
              keyring,
              frameBytes,
              encryptionContext: context,
              framesInFlight,
            }),
            plaintext,
            chunkBytes,
          );
          const { output, error } = await collect(
            createDecryptStream({ keyring, framesInFlight }),
            ciphertext,
            chunkBytes,
          );
          expect(error).toBeUndefined();
          expect(concatBytes(...output)).toEqual(plaintext);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('Veil -> client-node and back', async () => {
    await fc.assert(
      fc.asyncProperty(messageArb, async ({ plaintext, frameBytes, context }) => {
        const ciphertext = await encryptBytes(plaintext, {
          keyring,
          frameBytes,
          encryptionContext: context,
        });
        const { plaintext: theirs } = await peer.decrypt(peerKeyring(KEY), ciphertext);
        expect(new Uint8Array(theirs)).toEqual(plaintext);
        const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
          frameLength: frameBytes,
          encryptionContext: context,
        });
        expect(await decryptBytes(new Uint8Array(result), { keyring })).toEqual(plaintext);
      }),
      { numRuns: 30 },
    );
  });
});

describe('tampering', () => {
  it('rejects any single-bit flip and releases nothing from the damaged frame on', async () => {
    await fc.assert(
      fc.asyncProperty(
        messageArb,
        fc.nat(),
        fc.nat(7),
        fc.integer({ min: 1, max: 4 }),
        async ({ plaintext, frameBytes, context }, at, bit, framesInFlight) => {
          const built = await buildMessage(keyring, plaintext, frameBytes, context);
          const flipAt = at % built.whole.length;
          const tampered = built.whole.slice();
          tampered[flipAt] = (tampered[flipAt] ?? 0) ^ (1 << bit);
          // Bytes of plaintext in the frames wholly before the flipped byte.
          let limitBytes = 0;
          let frameEndBytes = built.headerBytes.length;
          for (const frame of built.frames) {
            frameEndBytes += frame.length;
            if (frameEndBytes > flipAt) break;
            limitBytes += frameBytes;
          }
          const result = await collect(
            createDecryptStream({ keyring, framesInFlight }),
            tampered,
            97,
          );
          expectSafeFailure(result, plaintext, frameBytes, Math.min(limitBytes, plaintext.length));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects any truncation', async () => {
    await fc.assert(
      fc.asyncProperty(messageArb, fc.nat(), async ({ plaintext, frameBytes, context }, at) => {
        const built = await buildMessage(keyring, plaintext, frameBytes, context);
        const cutBytes = at % built.whole.length;
        const result = await collect(
          createDecryptStream({ keyring }),
          built.whole.subarray(0, cutBytes),
          50,
        );
        expect((result.error as VeilError).code).toBe('TRUNCATED');
        expectSafeFailure(result, plaintext, frameBytes, Math.max(0, plaintext.length - 1));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('rejects any frame swap or duplication', async () => {
    const multiFrame = messageArb.filter(
      ({ plaintext, frameBytes }) => plaintext.length > frameBytes,
    );
    await fc.assert(
      fc.asyncProperty(
        multiFrame,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        async ({ plaintext, frameBytes, context }, a, b, duplicate) => {
          const built = await buildMessage(keyring, plaintext, frameBytes, context);
          const count = built.frames.length;
          const i = a % count;
          let j = b % count;
          if (j === i) j = (i + 1) % count;
          const frames = [...built.frames];
          if (duplicate) frames.splice(j, 0, built.frames[i] as Uint8Array);
          else [frames[i], frames[j]] = [frames[j] as Uint8Array, frames[i] as Uint8Array];
          const result = await collect(
            createDecryptStream({ keyring }),
            concatBytes(built.headerBytes, ...frames),
            64,
          );
          // Frames before the first changed position are intact and may be released.
          const intactFrames = duplicate ? j : Math.min(i, j);
          expectSafeFailure(result, plaintext, frameBytes, intactFrames * frameBytes);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
