/**
 * [Note: signed release]: for suite 0x0578 the final frame's plaintext and a non-framed body are
 * released only after the footer signature verifies; regular frames are released as they verify.
 * And the frame-level API refuses signed headers unless the caller opts in.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { decryptFrame } from '../../../src/core/frame';
import { openMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import { frameRange } from '../../../src/core/sizes';
import { VeilError } from '../../../src/core/errors';
import { collect } from './message-builder';
import {
  PEER_SUITE_0578,
  VECTORS_DIR,
  expectCode,
  flipByte,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  staticKeyring,
  testKeyBytes,
} from './helpers';

const KEY = testKeyBytes(256, 5);
const FRAME_BYTES = 4096;

async function peerSigned(plaintext: Uint8Array, frameLength = FRAME_BYTES): Promise<Uint8Array> {
  const { result } = await peer.encrypt(peerKeyring(KEY), plaintext, {
    suiteId: PEER_SUITE_0578,
    frameLength,
    encryptionContext: { purpose: 'signed-release' },
  });
  return new Uint8Array(result);
}

function withBadSignature(message: Uint8Array): Uint8Array {
  const tampered = message.slice();
  flipByte(tampered, tampered.length - 1);
  return tampered;
}

const layouts = [
  ['one frame', 100, 0],
  ['one frame of frame-1 bytes', FRAME_BYTES - 1, 0],
  ['several frames', 3 * FRAME_BYTES + 100, 3 * FRAME_BYTES],
  ['several frames, exact multiple (empty final frame)', 2 * FRAME_BYTES, 2 * FRAME_BYTES],
] as const;

describe('0x0578: nothing of the final frame before the signature verifies', () => {
  it.each(layouts)(
    '%s: a bad signature releases only the regular frames',
    async (_, plaintextBytes, regularBytes) => {
      const plaintext = patternBytes(plaintextBytes, 9);
      const message = await peerSigned(plaintext);
      const keyring = await ourKeyring(KEY);
      for (const chunkBytes of [1, 777, message.length]) {
        for (const framesInFlight of [1, 2, 4]) {
          const bad = await collect(
            createDecryptStream({ keyring, framesInFlight }),
            withBadSignature(message),
            chunkBytes,
          );
          expect(bad.error).toBeInstanceOf(VeilError);
          expect((bad.error as VeilError).code).toBe('SIGNATURE_INVALID');
          const released = concatBytes(...bad.output);
          expect(released.length).toBe(regularBytes);
          expect(released).toEqual(plaintext.subarray(0, regularBytes));

          const good = await collect(
            createDecryptStream({ keyring, framesInFlight }),
            message,
            chunkBytes,
          );
          expect(good.error).toBeUndefined();
          expect(concatBytes(...good.output)).toEqual(plaintext);
        }
      }
    },
  );

  it('a message cut inside the footer releases nothing of the final frame (SIGNATURE_MISSING)', async () => {
    const plaintext = patternBytes(2 * FRAME_BYTES + 10, 3);
    const message = await peerSigned(plaintext);
    const keyring = await ourKeyring(KEY);
    const cut = await collect(createDecryptStream({ keyring }), message.subarray(0, -5), 100);
    expect((cut.error as VeilError).code).toBe('SIGNATURE_MISSING');
    expect(concatBytes(...cut.output)).toEqual(plaintext.subarray(0, 2 * FRAME_BYTES));
  });

  it('a signed message missing only its signature says so (SIGNATURE_MISSING, not TRUNCATED)', async () => {
    const plaintext = patternBytes(2 * FRAME_BYTES + 10, 4);
    const message = await peerSigned(plaintext);
    // The footer: a 2-byte length, then that many signature bytes, at the end of the message.
    const footerStart = [...Array(40).keys()]
      .map((extra) => message.length - 2 - 90 - extra)
      .find(
        (start) =>
          ((message[start] ?? 0) << 8) + (message[start + 1] ?? 0) === message.length - start - 2,
      );
    expect(footerStart).toBeDefined();
    const keyring = await ourKeyring(KEY);
    const cut = await collect(
      createDecryptStream({ keyring }),
      message.subarray(0, footerStart),
      100,
    );
    expect((cut.error as VeilError).code).toBe('SIGNATURE_MISSING');
    expect((cut.error as VeilError).message).toContain('ends before its signature');
    expect(concatBytes(...cut.output)).toEqual(plaintext.subarray(0, 2 * FRAME_BYTES));
  });

  const compat = JSON.parse(
    readFileSync(new URL('js-v2-compat/compat-vectors.json', VECTORS_DIR), 'utf8'),
  ) as { tests: { comment: string; ciphertext: string; 'decrypted-dek': string }[] };
  const unframedSigned = compat.tests.filter(
    (test) => test.comment.includes('unframed') && test.comment.includes('ECDSA_P384'),
  );

  it('has non-framed 0x0578 vectors to test with', () => {
    expect(unframedSigned.length).toBeGreaterThanOrEqual(2);
  });

  it.each(unframedSigned.map((test) => [test.comment, test] as const))(
    'non-framed %s: a bad signature releases nothing',
    async (_, vector) => {
      const message = new Uint8Array(Buffer.from(vector.ciphertext, 'base64'));
      const dataKey = new Uint8Array(Buffer.from(vector['decrypted-dek'], 'base64'));
      const good = await collect(
        createDecryptStream({ keyring: staticKeyring(dataKey) }),
        message,
        50,
      );
      expect(good.error).toBeUndefined();
      expect(concatBytes(...good.output).length).toBeGreaterThan(0);
      const bad = await collect(
        createDecryptStream({ keyring: staticKeyring(dataKey) }),
        withBadSignature(message),
        50,
      );
      expect((bad.error as VeilError).code).toBe('SIGNATURE_INVALID');
      expect(concatBytes(...bad.output)).toHaveLength(0);
    },
  );
});

describe('frame-level API and signed messages', () => {
  it('openMessageHeader refuses a 0x0578 header (SIGNATURE_UNCHECKED) unless opted in', async () => {
    const plaintext = patternBytes(FRAME_BYTES + 1, 2);
    const message = await peerSigned(plaintext);
    const keyring = await ourKeyring(KEY);
    const header = parseHeaderBytes(message);
    await expectCode(openMessageHeader(header, { keyring }), 'SIGNATURE_UNCHECKED');
    await expectCode(
      openMessageHeader(header, { keyring, allowUnverifiedSignature: false }),
      'SIGNATURE_UNCHECKED',
    );
    const contentKey = await openMessageHeader(header, { keyring, allowUnverifiedSignature: true });
    const range = frameRange(1, plaintext.length, FRAME_BYTES, header.headerBytes);
    const frame = await decryptFrame({
      contentKey,
      messageId: header.messageId,
      seq: 1,
      isFinal: false,
      frame: message.subarray(range.offsetBytes, range.offsetBytes + range.lengthBytes),
      frameBytes: FRAME_BYTES,
    });
    expect(frame).toEqual(plaintext.subarray(0, FRAME_BYTES));
  });

  it('the stream still verifies when it is given allowUnverifiedSignature', async () => {
    const message = await peerSigned(patternBytes(10));
    const keyring = await ourKeyring(KEY);
    const options = { keyring, allowUnverifiedSignature: false } as unknown as Parameters<
      typeof createDecryptStream
    >[0];
    const bad = await collect(createDecryptStream(options), withBadSignature(message));
    expect((bad.error as VeilError).code).toBe('SIGNATURE_INVALID');
    expect(bad.output).toEqual([]);
  });
});
