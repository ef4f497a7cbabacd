/**
 * [Note: recycled part buffers]: a part written into a buffer used before is byte for byte the
 * part written into a new one (nothing of the earlier part remains), only buffers of exactly the
 * part's size are taken, the pool sends the buffers it was given back with the next job by
 * transfer, and the upload lanes give back every part's bytes once, after the part was sent.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decryptBytes } from '../../../src/core/one-shot';
import { createMessageHeader } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { buildPart, buildParts, type BuiltPart } from '../../../src/transfer/build-part';
import { crc32Base64 } from '../../../src/transfer/crc32';
import { MAX_SPARE_BUFFERS, WorkerPool } from '../../../src/transfer/browser/worker-pool';
import { WorkerClient } from '../../../src/workers/client';
import type { WorkerReply, WorkerRequest } from '../../../src/workers/protocol';

const FRAME = 4096;

function pattern(lengthBytes: number, salt = 0): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: lengthBytes }, (_, i) => (i * 131 + (i >> 9) + salt) & 0xff);
}

async function cipherFor() {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i),
    keyName: 'k',
    keyNamespace: 'veil',
  });
  const written = await createMessageHeader({ keyring, frameBytes: FRAME });
  return { keyring, written };
}

describe('parts written into recycled buffers', () => {
  test('equal the parts written into new buffers, encrypted, and decrypt', async () => {
    const size = 12 * FRAME + 300;
    const plaintext = pattern(size);
    const file = new Blob([plaintext]);
    const { keyring, written } = await cipherFor();
    const job = {
      file,
      frameBytes: FRAME,
      parts: [
        { firstSeq: 1, lastSeq: 4 },
        { firstSeq: 5, lastSeq: 8 },
        { firstSeq: 9, lastSeq: 13 },
      ],
      readBytes: 3 * FRAME,
      cipher: {
        contentKey: written.contentKey,
        messageId: written.messageId,
        headerBytes: written.headerBytes,
      },
    };
    const fresh = await buildParts(job);
    // Buffers of each part's size, full of bytes that must not survive.
    const spare = fresh.map((part) => new Uint8Array(part.bytes.length).fill(0xa5).buffer);
    const given = [...spare];
    const reused = await buildParts({ ...job, spare });
    reused.forEach((part, index) => {
      expect(part.bytes.buffer).toBe(given[index]);
      expect(Buffer.compare(part.bytes, fresh[index]?.bytes ?? new Uint8Array())).toBe(0);
      expect(part.checksumCrc32).toBe(crc32Base64(zlibCrc32(part.bytes)));
    });
    const message = new Uint8Array(reused.reduce((sum, part) => sum + part.bytes.length, 0));
    let at = 0;
    for (const part of reused) {
      message.set(part.bytes, at);
      at += part.bytes.length;
    }
    const back = await decryptBytes(message, { keyring });
    expect(Buffer.compare(back, plaintext)).toBe(0);
  });

  test('a plain part in a recycled buffer is the plaintext range, no old byte left', async () => {
    const plaintext = pattern(5 * FRAME, 7);
    const spare = new Uint8Array(2 * FRAME).fill(0xff).buffer;
    const part = await buildPart({
      file: new Blob([plaintext]),
      frameBytes: FRAME,
      firstSeq: 2,
      lastSeq: 3,
      spare: [spare],
    });
    expect(part.bytes.buffer).toBe(spare);
    expect(Buffer.compare(part.bytes, plaintext.subarray(FRAME, 3 * FRAME))).toBe(0);
  });

  test('buffers of another size, empty or not ArrayBuffers are not taken', async () => {
    const plaintext = pattern(3 * FRAME);
    const wrongSize = new ArrayBuffer(FRAME + 1);
    const part = await buildPart({
      file: new Blob([plaintext]),
      frameBytes: FRAME,
      firstSeq: 1,
      lastSeq: 1,
      spare: [wrongSize, new ArrayBuffer(0), new Uint8Array(FRAME) as unknown as ArrayBuffer],
    });
    expect(part.bytes.buffer).not.toBe(wrongSize);
    expect(part.bytes.buffer.byteLength).toBe(FRAME);
    expect(Buffer.compare(part.bytes, plaintext.subarray(0, FRAME))).toBe(0);
  });
});

/** A stand-in Worker that runs the real handlers and records each request and its transfers. */
class RecordingWorker {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  readonly received: { request: WorkerRequest; transfer: Transferable[] }[] = [];
  postMessage(request: WorkerRequest, transfer: Transferable[] = []): void {
    this.received.push({ request, transfer });
    const reply = (body: WorkerReply) =>
      this.onmessage?.({ data: body } as MessageEvent<WorkerReply>);
    if (request.type === 'buildPart') {
      void buildPart(request.job).then((part) =>
        reply({ id: request.id, ok: true, body: { type: 'buildPart', ...part } }),
      );
    }
    if (request.type === 'buildParts') {
      void buildParts(request.job).then((parts) =>
        reply({ id: request.id, ok: true, body: { type: 'buildParts', parts } }),
      );
    }
  }
  terminate(): void {}
}

describe('WorkerPool.recycle', () => {
  const file = new Blob([pattern(8 * FRAME)]);
  const onePool = () => {
    const worker = new RecordingWorker();
    return { worker, pool: new WorkerPool(1, () => new WorkerClient(worker as unknown as Worker)) };
  };

  test('sends recycled buffers with the next job, in its transfer list, and uses them', async () => {
    const { worker, pool } = onePool();
    const first = await pool.buildParts({
      file,
      frameBytes: FRAME,
      parts: [
        { firstSeq: 1, lastSeq: 2 },
        { firstSeq: 3, lastSeq: 4 },
      ],
    });
    expect(worker.received[0]?.transfer).toEqual([]);
    const buffers = first.map((part) => part.bytes.buffer);
    for (const part of first) pool.recycle(part.bytes);
    const second = await pool.buildParts({
      file,
      frameBytes: FRAME,
      parts: [
        { firstSeq: 5, lastSeq: 6 },
        { firstSeq: 7, lastSeq: 8 },
      ],
    });
    const sent = worker.received[1];
    expect(sent?.transfer).toHaveLength(2);
    expect(new Set(sent?.transfer)).toEqual(new Set(buffers));
    expect(sent?.request.type === 'buildParts' && sent.request.job.spare).toEqual(sent?.transfer);
    expect(new Set(second.map((part) => part.bytes.buffer))).toEqual(new Set(buffers));
    // Nothing is left to send: a buffer goes to one job only.
    await pool.buildPart({ file, frameBytes: FRAME, firstSeq: 1, lastSeq: 2 });
    expect(worker.received[2]?.transfer).toEqual([]);
  });

  test('keeps at most MAX_SPARE_BUFFERS whole buffers, each once', async () => {
    const { worker, pool } = onePool();
    const whole = Array.from({ length: MAX_SPARE_BUFFERS + 2 }, () => new Uint8Array(FRAME));
    for (const bytes of whole) pool.recycle(bytes);
    pool.recycle(whole[whole.length - 1] ?? new Uint8Array(1));
    pool.recycle(new Uint8Array(new ArrayBuffer(2 * FRAME), FRAME, FRAME));
    pool.recycle(new Uint8Array(0));
    await pool.buildParts({
      file,
      frameBytes: FRAME,
      parts: Array.from({ length: 8 }, (_, i) => ({ firstSeq: i + 1, lastSeq: i + 1 })),
    });
    const sent = worker.received[0]?.transfer ?? [];
    expect(sent).toHaveLength(MAX_SPARE_BUFFERS);
    expect(new Set(sent)).toEqual(new Set(whole.slice(2).map((bytes) => bytes.buffer)));
  });
});

describe('the upload lanes give parts back', () => {
  test('every part once, after S3 took its bytes', async () => {
    const { FileUpload } = await import('../../../src/transfer/upload');
    const { keyring } = await cipherFor();
    const recycled: Uint8Array[] = [];
    const sentBodies = new Map<number, Uint8Array>();
    const built: BuiltPart[] = [];
    const sentFirst: boolean[] = [];
    const builder = {
      size: 2,
      buildPart: async (job: Parameters<typeof buildPart>[0]) => {
        const part = await buildPart(job);
        built.push(part);
        return part;
      },
      buildParts: async (job: Parameters<typeof buildParts>[0]) => {
        const parts = await buildParts(job);
        built.push(...parts);
        return parts;
      },
      recycle: (bytes: Uint8Array<ArrayBuffer>) => {
        // The part must have been sent already.
        sentFirst.push([...sentBodies.values()].includes(bytes));
        recycled.push(bytes);
      },
    };
    const s3 = {
      createMultipartUpload: () => Promise.resolve({ UploadId: 'u', $metadata: {} }),
      uploadPart: (input: { PartNumber?: number; Body?: unknown }) => {
        sentBodies.set(input.PartNumber ?? 0, input.Body as Uint8Array);
        return Promise.resolve({
          ETag: `"${input.PartNumber}"`,
          ChecksumCRC32: 'AAAAAA==',
          $metadata: {},
        });
      },
      completeMultipartUpload: () => Promise.resolve({ ETag: '"c"', $metadata: {} }),
      abortMultipartUpload: () => Promise.resolve({ $metadata: {} }),
      listParts: () => Promise.resolve({ Parts: [], $metadata: {} }),
      putObject: () => Promise.resolve({ ETag: '"p"', $metadata: {} }),
    };
    const file = new File([new Uint8Array(11 * 1024 * 1024 + 1000).fill(3)], 'f.bin');
    const upload = FileUpload.start({
      s3: s3 as never,
      builder,
      keyring,
      protection: 'client-side',
      file,
      bucket: 'b',
      key: 'k',
      partsInFlight: 4,
      partBytes: 5 * 1024 * 1024,
      retryHooks: { sleep: () => Promise.resolve() },
      origin: 'https://app.example',
    } as never);
    await upload.done;
    expect(sentFirst.every(Boolean)).toBe(true);
    expect(built.length).toBeGreaterThan(1);
    expect(recycled).toHaveLength(built.length);
    expect(new Set(recycled)).toEqual(new Set(built.map((part) => part.bytes)));
  });
});
