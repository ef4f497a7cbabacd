/**
 * The frame-level API that workers use: a header built once, frames encrypted and decrypted on
 * their own, in any order, located with the pure size functions.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { decryptFrame, encryptFrame } from '../../../src/core/frame';
import {
  createMessageHeader,
  openMessageHeader,
  parseHeaderBytes,
} from '../../../src/core/message';
import { decryptBytes } from '../../../src/core/one-shot';
import {
  ciphertextSize,
  frameCount,
  frameRange,
  framesForPlaintextRange,
} from '../../../src/core/sizes';
import {
  expectCode,
  expectThrowsCode,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from './helpers';

const KEY = testKeyBytes(256);

describe('frames in parallel and out of order', () => {
  it('builds a message from frames encrypted in reverse order, readable by client-node', async () => {
    const keyring = await ourKeyring(KEY);
    const frameBytes = 1000;
    const plaintext = patternBytes(5 * frameBytes + 123);
    const written = await createMessageHeader({
      keyring,
      frameBytes,
      encryptionContext: { a: '1' },
    });
    const count = frameCount(plaintext.length, frameBytes);
    const ranges = Array.from({ length: count }, (_, index) =>
      frameRange(index + 1, plaintext.length, frameBytes, written.headerBytes.length),
    );
    const frames = await Promise.all(
      [...ranges].reverse().map((range) =>
        encryptFrame({
          contentKey: written.contentKey,
          messageId: written.messageId,
          seq: range.seq,
          isFinal: range.isFinal,
          plaintext: plaintext.subarray(
            range.plaintextOffsetBytes,
            range.plaintextOffsetBytes + range.plaintextBytes,
          ),
        }),
      ),
    );
    frames.reverse();
    frames.forEach((frame, index) => expect(frame.length).toBe(ranges[index]?.lengthBytes));
    const message = concatBytes(written.headerBytes, ...frames);
    expect(message.length).toBe(
      ciphertextSize(plaintext.length, frameBytes, written.headerBytes.length),
    );
    const { plaintext: decrypted } = await peer.decrypt(peerKeyring(KEY), message);
    expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);

    // Reader side: open the header once, then fetch and decrypt any frame on its own.
    const header = parseHeaderBytes(message);
    const contentKey = await openMessageHeader(header, { keyring });
    const { firstSeq, lastSeq } = framesForPlaintextRange(2500, 3100, plaintext.length, frameBytes);
    expect([firstSeq, lastSeq]).toEqual([3, 4]);
    for (const seq of [lastSeq, firstSeq, count]) {
      const range = frameRange(seq, plaintext.length, frameBytes, header.headerBytes);
      const frame = message.subarray(range.offsetBytes, range.offsetBytes + range.lengthBytes);
      const framePlaintext = await decryptFrame({
        contentKey,
        messageId: header.messageId,
        seq,
        isFinal: range.isFinal,
        frame,
        frameBytes,
      });
      expect(
        Buffer.from(framePlaintext).equals(
          Buffer.from(
            plaintext.subarray(
              range.plaintextOffsetBytes,
              range.plaintextOffsetBytes + range.plaintextBytes,
            ),
          ),
        ),
      ).toBe(true);
    }
  });

  it('rejects a frame presented as another seq or with the wrong final flag', async () => {
    const keyring = await ourKeyring(KEY);
    const written = await createMessageHeader({ keyring, frameBytes: 16 });
    const base = { contentKey: written.contentKey, messageId: written.messageId };
    const frame = await encryptFrame({
      ...base,
      seq: 2,
      isFinal: false,
      plaintext: patternBytes(16),
    });
    await expectCode(
      decryptFrame({ ...base, seq: 3, isFinal: false, frame, frameBytes: 16 }),
      'OUT_OF_ORDER',
    );
    await expectCode(
      decryptFrame({ ...base, seq: 2, isFinal: true, frame, frameBytes: 16 }),
      'OUT_OF_ORDER',
    );
    await expectCode(
      decryptFrame({ ...base, seq: 2, isFinal: false, frame, frameBytes: 15 }),
      'MALFORMED',
    );
    await expectCode(
      decryptFrame({
        ...base,
        seq: 2,
        isFinal: false,
        frame: frame.subarray(0, 20),
        frameBytes: 16,
      }),
      'MALFORMED',
    );
    const other = await createMessageHeader({ keyring, frameBytes: 16 });
    await expectCode(
      decryptFrame({
        contentKey: other.contentKey,
        messageId: written.messageId,
        seq: 2,
        isFinal: false,
        frame,
        frameBytes: 16,
      }),
      'FRAME_TAMPERED',
    );
    const plaintext = await decryptFrame({
      ...base,
      seq: 2,
      isFinal: false,
      frame,
      frameBytes: 16,
    });
    expect(plaintext).toEqual(patternBytes(16));
  });

  it('ends exact multiples with an empty final frame, and 0 bytes with one empty final frame', async () => {
    const keyring = await ourKeyring(KEY);
    const { createEncryptStream } = await import('../../../src/core/encrypt-stream');
    const { runTransform } = await import('../../../src/core/one-shot');
    for (const [plaintextBytes, frames] of [
      [0, 1],
      [32, 3],
      [48, 4],
      [49, 4],
    ] as const) {
      const message = await runTransform(
        createEncryptStream({ keyring, frameBytes: 16 }),
        patternBytes(plaintextBytes),
        5,
      );
      const header = parseHeaderBytes(message);
      expect(message.length).toBe(ciphertextSize(plaintextBytes, 16, header.headerBytes));
      expect(frameCount(plaintextBytes, 16)).toBe(frames);
      expect(await decryptBytes(message, { keyring })).toEqual(patternBytes(plaintextBytes));
    }
  });

  it('parses a stored header with the reader limits', async () => {
    const keyring = await ourKeyring(KEY);
    const written = await createMessageHeader({ keyring, frameBytes: 1 << 20 });
    expect(parseHeaderBytes(written.headerBytes).frameBytes).toBe(1 << 20);
    expectThrowsCode(() => parseHeaderBytes(written.headerBytes.subarray(0, -1)), 'MALFORMED');
    expectThrowsCode(
      () => parseHeaderBytes(written.headerBytes, { maxFrameBytes: 1000 }),
      'FRAME_TOO_LARGE',
    );
    expectThrowsCode(
      () => parseHeaderBytes(written.headerBytes, { maxEncryptedDataKeys: 0 }),
      'TOO_MANY_EDKS',
    );
  });

  it('checks the announced plaintext length (LENGTH_MISMATCH)', async () => {
    const keyring = await ourKeyring(KEY);
    const { encryptBytes } = await import('../../../src/core/one-shot');
    await expectCode(
      encryptBytes(patternBytes(10), { keyring, plaintextBytes: 11 }),
      'LENGTH_MISMATCH',
    );
  });
});
