/**
 * Every check of FORMAT.md section 9, and Veil's stricter ones, each tripped by a crafted message:
 * truncation, trailing bytes, order, canonical IVs, EDK limits, sizes, suites, versions,
 * commitment, header and frame tampering, wrong keys, and no plaintext released early.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { VeilError } from '../../../src/core/errors';
import { tryParseHeader } from '../../../src/core/header';
import type { DecryptRequest, Keyring } from '../../../src/core/keyring';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
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
import { buildMessage, collect, frameWithIv } from './message-builder';

const KEY = testKeyBytes(256);
const FRAME_BYTES = 64;
const keyring = await ourKeyring(KEY);
const plaintext = patternBytes(FRAME_BYTES * 3 + 10);
const built = await buildMessage(keyring, plaintext, FRAME_BYTES, { purpose: 'checks' });
const [frame1, frame2, frame3, finalFrame] = built.frames as [
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
];
const decrypt = (bytes: Uint8Array, extra = {}): Promise<Uint8Array> =>
  decryptBytes(bytes, { keyring, ...extra });

describe('the well-formed message', () => {
  it('decrypts, fed in chunks of any size', async () => {
    for (const chunkBytes of [1, 7, 100, 100_000]) {
      const { output, error } = await collect(
        createDecryptStream({ keyring }),
        built.whole,
        chunkBytes,
      );
      expect(error).toBeUndefined();
      expect(Buffer.from(concatBytes(...output)).equals(Buffer.from(plaintext))).toBe(true);
    }
  });
});

describe('truncation (TRUNCATED)', () => {
  it('rejects a stream cut at a frame boundary before the final frame', async () => {
    await expectCode(decrypt(concatBytes(built.headerBytes, frame1, frame2, frame3)), 'TRUNCATED');
  });
  it('rejects a stream cut inside a frame, in the header, or empty', async () => {
    await expectCode(decrypt(built.whole.subarray(0, built.whole.length - 1)), 'TRUNCATED');
    await expectCode(decrypt(built.whole.subarray(0, 50)), 'TRUNCATED');
    await expectCode(decrypt(new Uint8Array(0)), 'TRUNCATED');
  });
});

describe('trailing bytes (TRAILING_BYTES)', () => {
  it('rejects one extra byte and a second message appended', async () => {
    await expectCode(decrypt(concatBytes(built.whole, Uint8Array.of(0))), 'TRAILING_BYTES');
    await expectCode(decrypt(concatBytes(built.whole, built.whole)), 'TRAILING_BYTES');
  });
});

describe('frame order (OUT_OF_ORDER)', () => {
  it('rejects swapped, duplicated and missing frames', async () => {
    const h = built.headerBytes;
    await expectCode(decrypt(concatBytes(h, frame2, frame1, frame3, finalFrame)), 'OUT_OF_ORDER');
    await expectCode(decrypt(concatBytes(h, frame1, frame1, frame2, frame3)), 'OUT_OF_ORDER');
    await expectCode(decrypt(concatBytes(h, frame1, frame3, finalFrame)), 'OUT_OF_ORDER');
    await expectCode(decrypt(concatBytes(h, frame1, frame2, finalFrame)), 'OUT_OF_ORDER');
  });
});

describe('canonical IVs (NON_CANONICAL_IV)', () => {
  it('rejects a frame whose IV is not 00x8 || seq, unless allowed', async () => {
    const iv = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2);
    const odd = await frameWithIv(built.written, 2, false, plaintext.subarray(64, 128), iv);
    const message = concatBytes(built.headerBytes, frame1, odd, frame3, finalFrame);
    await expectCode(decrypt(message), 'NON_CANONICAL_IV');
    const decrypted = await decrypt(message, { allowNonCanonicalIv: true });
    expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
  });
});

describe('EDK limits (TOO_MANY_EDKS)', () => {
  it('fails as soon as the count is read, before any unwrap', async () => {
    const keyrings = await Promise.all(
      [1, 2, 3].map((seed) => ourKeyring(testKeyBytes(256, seed))),
    );
    const multi = createMultiKeyring({ generator: keyrings[0], children: keyrings.slice(1) });
    const message = await encryptBytes(patternBytes(10), { keyring: multi });
    let unwrapCalls = 0;
    const spy: Keyring = {
      onEncrypt: (request) => multi.onEncrypt(request),
      onDecrypt: (request: DecryptRequest) => {
        unwrapCalls += 1;
        return multi.onDecrypt(request);
      },
    };
    await expectCode(
      decryptBytes(message, { keyring: spy, maxEncryptedDataKeys: 2 }),
      'TOO_MANY_EDKS',
    );
    expect(unwrapCalls).toBe(0);
    // The count sits right after the (empty) EC: version 1 + suite 2 + id 32 + AAD length 2.
    const upToCount = message.subarray(0, 1 + 2 + 32 + 2 + 2);
    expect(() =>
      tryParseHeader(upToCount, { maxEncryptedDataKeys: 2, maxFrameBytes: 1e9 }),
    ).toThrow(VeilError);
    expect(await decryptBytes(message, { keyring: spy, maxEncryptedDataKeys: 3 })).toHaveLength(10);
  });
  it('defaults to at most 16 EDKs, on encrypt and on decrypt', async () => {
    const keyrings = await Promise.all(
      Array.from({ length: 17 }, (_, seed) => ourKeyring(testKeyBytes(128, seed))),
    );
    const multi = createMultiKeyring({ generator: keyrings[0], children: keyrings.slice(1) });
    await expectCode(encryptBytes(patternBytes(1), { keyring: multi }), 'TOO_MANY_EDKS');
    const message = await encryptBytes(patternBytes(1), {
      keyring: multi,
      maxEncryptedDataKeys: 17,
    });
    await expectCode(decryptBytes(message, { keyring: multi }), 'TOO_MANY_EDKS');
    expect(await decryptBytes(message, { keyring: multi, maxEncryptedDataKeys: 17 })).toHaveLength(
      1,
    );
  });
});

describe('size limits', () => {
  it('refuses frames above maxFrameBytes (FRAME_TOO_LARGE)', async () => {
    await expectCode(decrypt(built.whole, { maxFrameBytes: 63 }), 'FRAME_TOO_LARGE');
  });
  it('refuses non-framed bodies above maxNonFramedBytes (NON_FRAMED_TOO_LARGE)', async () => {
    const compat = JSON.parse(
      readFileSync(new URL('js-v2-compat/compat-vectors.json', VECTORS_DIR), 'utf8'),
    ) as { tests: { comment: string; ciphertext: string; 'decrypted-dek': string }[] };
    const vector = compat.tests.find((test) => test.comment.includes('unframed'));
    if (!vector) throw new Error('no non-framed vector');
    const message = new Uint8Array(Buffer.from(vector.ciphertext, 'base64'));
    const dek = staticKeyring(new Uint8Array(Buffer.from(vector['decrypted-dek'], 'base64')));
    await expectCode(
      decryptBytes(message, { keyring: dek, maxNonFramedBytes: 10 }),
      'NON_FRAMED_TOO_LARGE',
    );
    expect((await decryptBytes(message, { keyring: dek })).length).toBeGreaterThan(10);
  });
  it('refuses a final frame longer than the frame length (MALFORMED)', async () => {
    const long = await frameWithIv(
      built.written,
      4,
      true,
      patternBytes(65),
      Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4),
    );
    await expectCode(
      decrypt(concatBytes(built.headerBytes, frame1, frame2, frame3, long)),
      'MALFORMED',
    );
  });
});

describe('format identification', () => {
  it('recognises base64 input (BASE64_INPUT)', async () => {
    const base64 = new TextEncoder().encode(Buffer.from(built.whole).toString('base64'));
    await expectCode(decrypt(base64), 'BASE64_INPUT');
  });
  it('refuses unknown versions, v1 suites and unknown suites', async () => {
    await expectCode(decrypt(Uint8Array.of(0x03, 0x04, 0x78)), 'UNSUPPORTED_VERSION');
    await expectCode(decrypt(Uint8Array.of(0x01, 0x80, 0x00, 0x78)), 'NON_COMMITTING_SUITE');
    await expectCode(decrypt(Uint8Array.of(0x01, 0x80, 0x04, 0x78)), 'UNSUPPORTED_SUITE');
    await expectCode(decrypt(Uint8Array.of(0x02, 0x04, 0x79)), 'UNSUPPORTED_SUITE');
    await expectCode(decrypt(Uint8Array.of(0x02, 0x03, 0x78)), 'NON_COMMITTING_SUITE');
  });
  it('refuses bad content types and frame lengths (MALFORMED)', async () => {
    const header = built.headerBytes;
    const contentTypeAt = header.length - 16 - 32 - 4 - 1;
    const badType = header.slice();
    badType[contentTypeAt] = 3;
    await expectCode(decrypt(concatBytes(badType, ...built.frames)), 'MALFORMED');
    const framedZero = header.slice();
    framedZero.fill(0, contentTypeAt + 1, contentTypeAt + 5);
    await expectCode(decrypt(concatBytes(framedZero, ...built.frames)), 'MALFORMED');
    const nonFramedWithLength = header.slice();
    nonFramedWithLength[contentTypeAt] = 1;
    await expectCode(decrypt(concatBytes(nonFramedWithLength, ...built.frames)), 'MALFORMED');
  });
});

describe('authentication of the header', () => {
  it('detects a changed frame length (HEADER_TAMPERED)', async () => {
    const header = built.headerBytes.slice();
    const frameLengthLastByte = header.length - 16 - 32 - 1;
    header[frameLengthLastByte] = FRAME_BYTES + 1;
    await expectCode(decrypt(concatBytes(header, ...built.frames)), 'HEADER_TAMPERED');
  });
  it('detects a changed commit key (COMMITMENT_MISMATCH)', async () => {
    const header = built.headerBytes.slice();
    flipByte(header, header.length - 20, 1);
    await expectCode(decrypt(concatBytes(header, ...built.frames)), 'COMMITMENT_MISMATCH');
  });
  it('detects a changed header auth tag (HEADER_TAMPERED)', async () => {
    const header = built.headerBytes.slice();
    flipByte(header, header.length - 1, 0x80);
    await expectCode(decrypt(concatBytes(header, ...built.frames)), 'HEADER_TAMPERED');
  });
  it('checks a reproduced context against the header (CONTEXT_MISMATCH)', async () => {
    await expectCode(
      decrypt(built.whole, { reproducedContext: { purpose: 'x' } }),
      'CONTEXT_MISMATCH',
    );
    expect(await decrypt(built.whole, { reproducedContext: { purpose: 'checks' } })).toHaveLength(
      plaintext.length,
    );
    // A pair not in the header is authenticated as required EC: this message lacks it.
    await expectCode(decrypt(built.whole, { reproducedContext: { extra: '1' } }), 'WRONG_KEY');
  });
});

describe('keys', () => {
  it('reports a different key with the same name (WRONG_KEY)', async () => {
    await expectCode(
      decryptBytes(built.whole, { keyring: await ourKeyring(testKeyBytes(256, 9)) }),
      'WRONG_KEY',
    );
  });
  it('reports a key of another name or namespace (NO_MATCHING_EDK)', async () => {
    const other = await ourKeyring(KEY, 'another-name');
    const error = await expectCode(
      decryptBytes(built.whole, { keyring: other }),
      'NO_MATCHING_EDK',
    );
    expect(error.message).not.toContain(Buffer.from(KEY).toString('base64'));
    const otherNamespace = await RawAesKeyring.fromBytes({
      keyBytes: KEY.slice(),
      keyName: 'aes-256',
      keyNamespace: 'elsewhere',
    });
    await expectCode(decryptBytes(built.whole, { keyring: otherNamespace }), 'NO_MATCHING_EDK');
  });
  it("names the file's providers with control and bidi characters escaped", async () => {
    const hostile = '\u001b]0;owned\u0007\u001b[2J\r\n\u009b31m\u202efdp.exe"\\';
    const writers = await Promise.all(
      [hostile, 'x'.repeat(500)].map((keyNamespace) =>
        RawAesKeyring.fromBytes({ keyBytes: KEY.slice(), keyName: 'k', keyNamespace }),
      ),
    );
    const message = await encryptBytes(patternBytes(5), {
      keyring: createMultiKeyring({ generator: writers[0], children: writers.slice(1) }),
    });
    const error = await expectCode(
      decryptBytes(message, { keyring: await ourKeyring(KEY, 'k', 'veil') }),
      'NO_MATCHING_EDK',
    );
    const detail = error.detail ?? '';
    const unsafe = (text: string): number[] =>
      [...text]
        .map((char) => char.codePointAt(0) ?? 0)
        .filter((code) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x202e);
    expect(unsafe(error.message)).toEqual([]);
    expect(detail).toContain(
      '"\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\u000a\\u009b31m\\u202efdp.exe\\"\\\\"',
    );
    expect(detail).toContain(`"${'x'.repeat(80)}…"`);
    expect(detail.length).toBeLessThan(300);
  });
});

describe('frame tampering releases nothing unauthenticated (FRAME_TAMPERED)', () => {
  it('releases exactly the frames before the tampered one', async () => {
    for (const frameIndex of [0, 1, 3]) {
      const frames = built.frames.map((frame) => frame.slice());
      const target = frames[frameIndex] as Uint8Array;
      flipByte(target, target.length - 20, 1);
      const { output, error } = await collect(
        createDecryptStream({ keyring }),
        concatBytes(built.headerBytes, ...frames),
      );
      expect((error as VeilError).code).toBe('FRAME_TAMPERED');
      const released = concatBytes(...output);
      expect(released.length).toBe(frameIndex * FRAME_BYTES);
      expect(
        Buffer.from(released).equals(Buffer.from(plaintext.subarray(0, released.length))),
      ).toBe(true);
    }
  });
});

describe('signed messages (0x0578)', () => {
  const peerMessage = async (): Promise<Uint8Array> => {
    const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
      suiteId: PEER_SUITE_0578,
      frameLength: FRAME_BYTES,
      encryptionContext: { purpose: 'signed' },
    });
    return new Uint8Array(result);
  };
  it('verifies the footer signature', async () => {
    const message = await peerMessage();
    expect(Buffer.from(await decrypt(message)).equals(Buffer.from(plaintext))).toBe(true);
  });
  it('rejects a changed signature (SIGNATURE_INVALID) and a cut footer (SIGNATURE_MISSING)', async () => {
    const message = await peerMessage();
    const badSignature = message.slice();
    flipByte(badSignature, badSignature.length - 1, 1);
    await expectCode(decrypt(badSignature), 'SIGNATURE_INVALID');
    await expectCode(decrypt(message.subarray(0, message.length - 10)), 'SIGNATURE_MISSING');
    await expectCode(decrypt(concatBytes(message, Uint8Array.of(1))), 'TRAILING_BYTES');
  });
});
