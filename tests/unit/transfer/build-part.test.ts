import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decryptBytes } from '../../../src/core/one-shot';
import { createMessageHeader } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { buildPart, buildParts } from '../../../src/transfer/build-part';
import { partSpec, planUpload } from '../../../src/transfer/part-plan';

const FRAME = 4096;
const keyring = () =>
  RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i),
    keyName: 'k',
    keyNamespace: 'veil',
  });

function pattern(lengthBytes: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: lengthBytes }, (_, i) => (i * 131 + (i >> 9)) & 0xff);
}

async function encryptInParts(
  plaintext: Uint8Array<ArrayBuffer>,
  framesPerPart: number,
  readBytes: number,
) {
  const ring = await keyring();
  const written = await createMessageHeader({ keyring: ring, frameBytes: FRAME });
  const plan = planUpload({
    plaintextBytes: plaintext.length,
    frameBytes: FRAME,
    headerBytes: written.headerBytes.length,
    encrypted: true,
    framesPerPart,
  });
  const file = new Blob([plaintext]);
  // Build the parts out of order, as parallel workers would.
  const numbers = Array.from({ length: plan.partCount }, (_, i) => plan.partCount - i);
  const built = new Map<number, Uint8Array>();
  for (const n of numbers) {
    const spec = partSpec(plan, n);
    const part = await buildPart({
      file,
      frameBytes: FRAME,
      firstSeq: spec.firstSeq,
      lastSeq: spec.lastSeq,
      readBytes,
      cipher: {
        contentKey: written.contentKey,
        messageId: written.messageId,
        ...(n === 1 ? { headerBytes: written.headerBytes } : {}),
      },
    });
    expect(part.bytes.length).toBe(spec.objectBytes);
    expect(part.bytes.byteOffset).toBe(0);
    expect(part.bytes.buffer.byteLength).toBe(spec.objectBytes);
    expect(part.plaintextBytes).toBe(spec.plaintextBytes);
    built.set(n, part.bytes);
  }
  const message = new Uint8Array(plan.objectBytes);
  for (const [n, bytes] of built) message.set(bytes, partSpec(plan, n).objectOffsetBytes);
  return { message, ring };
}

describe('buildPart', () => {
  test.each([
    [0, 3, 1 << 20],
    [1, 3, 1 << 20],
    [FRAME, 1, 1 << 20],
    [FRAME + 1, 1, 1 << 20],
    [10 * FRAME, 3, 2 * FRAME],
    [10 * FRAME + 17, 4, FRAME],
    [25 * FRAME + 5, 7, 3 * FRAME + 5],
  ])('%i bytes in parts of %i frames (reads of %i bytes) decrypt', async (size, fpp, readBytes) => {
    const plaintext = pattern(size);
    const { message, ring } = await encryptInParts(plaintext, fpp, readBytes);
    const back = await decryptBytes(message, { keyring: ring });
    expect(Buffer.compare(back, plaintext)).toBe(0);
  });

  test('without a cipher a part is the plaintext range', async () => {
    const plaintext = pattern(3 * FRAME + 9);
    const part = await buildPart({
      file: new Blob([plaintext]),
      frameBytes: FRAME,
      firstSeq: 2,
      lastSeq: 4,
      readBytes: FRAME,
    });
    expect(Buffer.compare(part.bytes, plaintext.subarray(FRAME))).toBe(0);
  });

  test('a run of consecutive parts equals the parts built one by one', async () => {
    const size = 23 * FRAME + 77;
    const plaintext = pattern(size);
    const ring = await keyring();
    const written = await createMessageHeader({ keyring: ring, frameBytes: FRAME });
    const plan = planUpload({
      plaintextBytes: size,
      frameBytes: FRAME,
      headerBytes: written.headerBytes.length,
      encrypted: true,
      framesPerPart: 5,
    });
    const file = new Blob([plaintext]);
    const cipher = { contentKey: written.contentKey, messageId: written.messageId };
    for (const [first, last, readBytes] of [
      [1, 3, 7 * FRAME],
      [2, 5, 2 * FRAME],
      [4, 5, 16 * FRAME],
      [5, 5, FRAME],
    ] as const) {
      const numbers = Array.from({ length: last - first + 1 }, (_, i) => first + i);
      const specs = numbers.map((n) => partSpec(plan, n));
      const headerBytes = first === 1 ? { headerBytes: written.headerBytes } : {};
      const run = await buildParts({
        file,
        frameBytes: FRAME,
        parts: specs.map(({ firstSeq, lastSeq }) => ({ firstSeq, lastSeq })),
        readBytes,
        cipher: { ...cipher, ...headerBytes },
      });
      expect(run).toHaveLength(numbers.length);
      for (const [index, spec] of specs.entries()) {
        const one = await buildPart({
          file,
          frameBytes: FRAME,
          firstSeq: spec.firstSeq,
          lastSeq: spec.lastSeq,
          cipher: { ...cipher, ...(spec.partNumber === 1 ? headerBytes : {}) },
        });
        const built = run[index]!;
        expect(built.bytes.buffer.byteLength).toBe(spec.objectBytes);
        expect(built.plaintextBytes).toBe(spec.plaintextBytes);
        expect(Buffer.compare(built.bytes, one.bytes)).toBe(0);
        // The CRC-32 S3 gets in x-amz-checksum-crc32: base64 of the big-endian value.
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(zlibCrc32(built.bytes));
        expect(built.checksumCrc32).toBe(crc.toString('base64'));
      }
    }
    const plain = await buildParts({
      file,
      frameBytes: FRAME,
      parts: [
        { firstSeq: 3, lastSeq: 4 },
        { firstSeq: 5, lastSeq: 9 },
      ],
      readBytes: 3 * FRAME,
    });
    expect(Buffer.compare(plain[0]!.bytes, plaintext.subarray(2 * FRAME, 4 * FRAME))).toBe(0);
    expect(Buffer.compare(plain[1]!.bytes, plaintext.subarray(4 * FRAME, 9 * FRAME))).toBe(0);
    // Unencrypted parts carry the CRC-32 of their bytes too, kept up as they are written.
    for (const part of plain) {
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(zlibCrc32(part.bytes));
      expect(part.checksumCrc32).toBe(crc.toString('base64'));
    }
  });

  test('a run must hold consecutive parts', async () => {
    const file = new Blob([pattern(6 * FRAME)]);
    await expect(
      buildParts({
        file,
        frameBytes: FRAME,
        parts: [
          { firstSeq: 1, lastSeq: 2 },
          { firstSeq: 4, lastSeq: 5 },
        ],
      }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', detail: 'parts' });
    await expect(buildParts({ file, frameBytes: FRAME, parts: [] })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
  });

  test('guards its job', async () => {
    const file = new Blob([pattern(3 * FRAME)]);
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 0, lastSeq: 1 }),
    ).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 2, lastSeq: 5 }), // 3 frames and an empty final
    ).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 1.5, lastSeq: 2 }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(
      buildPart({ file: 'x' as unknown as Blob, frameBytes: FRAME, firstSeq: 1, lastSeq: 1 }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  test('a file that cannot be read fails with UPLOAD_FILE_UNREADABLE', async () => {
    const file = new Blob([pattern(2 * FRAME)]);
    Object.defineProperty(file, 'slice', {
      value: () => ({
        arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotReadableError')),
      }),
    });
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 1, lastSeq: 2 }),
    ).rejects.toMatchObject({
      code: 'UPLOAD_FILE_UNREADABLE',
    });
  });
});
