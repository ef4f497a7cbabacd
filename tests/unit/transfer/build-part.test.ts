import { describe, expect, test } from 'vitest';
import { decryptBytes } from '../../../src/core/one-shot';
import { createMessageHeader } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { buildPart } from '../../../src/transfer/build-part';
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

  test('guards its job', async () => {
    const file = new Blob([pattern(3 * FRAME)]);
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 0, lastSeq: 1 }),
    ).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(
      buildPart({ file, frameBytes: FRAME, firstSeq: 2, lastSeq: 4 }),
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
