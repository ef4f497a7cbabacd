/**
 * [Note: reused read buffers]: consecutive slices of a range read right, a slice given back is
 * read into again, a short or failing file is UPLOAD_FILE_UNREADABLE on both the BYOB path and
 * the slice-by-slice one, and parts built one job after another, or at once, from reused buffers
 * each carry their own file's plaintext.
 */
import { describe, expect, test } from 'vitest';
import { decryptBytes } from '../../../src/core/one-shot';
import { createMessageHeader } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { buildParts } from '../../../src/transfer/build-part';
import { openRange, wipeKeptBuffers } from '../../../src/transfer/part-reader';

const FRAME = 4096;

function pattern(lengthBytes: number, salt: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: lengthBytes }, (_, i) => (i * 131 + (i >> 9) + salt) & 0xff);
}

/** A Blob stand-in whose slices stream `stream()`. */
function blobStreaming(stream: () => ReadableStream<Uint8Array>): Blob {
  return { slice: () => ({ stream }) } as unknown as Blob;
}

describe('openRange', () => {
  test('reads consecutive slices of the range', async () => {
    const bytes = pattern(10_000, 1);
    const reader = openRange(new Blob([bytes]), 1000, 9000);
    const first = await reader.next(3000);
    expect(Buffer.compare(first, bytes.subarray(1000, 4000))).toBe(0);
    const second = await reader.next(5000);
    expect(Buffer.compare(second, bytes.subarray(4000, 9000))).toBe(0);
    reader.close();
  });

  test('a slice given back is the memory the next slice is read into', async () => {
    const bytes = pattern(8000, 2);
    const reader = openRange(new Blob([bytes]), 0, 8000);
    const first = await reader.next(4000);
    reader.release(first);
    const second = await reader.next(4000);
    // The BYOB reader took the buffer over: the first slice's view is detached now.
    expect(first.buffer.byteLength).toBe(0);
    expect(Buffer.compare(second, bytes.subarray(4000))).toBe(0);
    reader.close();
  });

  test('wiping zeroes the kept buffers and the next slice is read into new memory', async () => {
    wipeKeptBuffers();
    const bytes = pattern(8000, 3);
    const reader = openRange(new Blob([bytes]), 0, 8000);
    const first = await reader.next(4000);
    reader.release(first);
    expect(wipeKeptBuffers()).toBe(1);
    // The plaintext it held is gone, and the buffer is not handed out again.
    expect(first.every((byte) => byte === 0)).toBe(true);
    const second = await reader.next(4000);
    expect(first.buffer.byteLength).toBe(4000);
    expect(second.buffer).not.toBe(first.buffer);
    expect(Buffer.compare(second, bytes.subarray(4000))).toBe(0);
    expect(wipeKeptBuffers()).toBe(0);
    reader.close();
  });

  test('a file shorter than the range is UPLOAD_FILE_UNREADABLE', async () => {
    const reader = openRange(new Blob([pattern(100, 3)]), 0, 200);
    await expect(reader.next(200)).rejects.toMatchObject({ code: 'UPLOAD_FILE_UNREADABLE' });
  });

  test('a stream that fails is UPLOAD_FILE_UNREADABLE', async () => {
    const file = blobStreaming(
      () =>
        new ReadableStream({
          type: 'bytes',
          pull: (controller) => controller.error(new Error('gone')),
        }),
    );
    await expect(openRange(file, 0, 10).next(10)).rejects.toMatchObject({
      code: 'UPLOAD_FILE_UNREADABLE',
    });
  });

  test('a stream that stops delivering is given up and the range read slice by slice', async () => {
    const bytes = pattern(600, 5);
    const blob = new Blob([bytes]);
    let sliceReads = 0;
    const file = {
      slice: (start: number, end: number) => ({
        // The range's byte stream delivers 100 bytes, then nothing ever again.
        stream: () => {
          let sent = false;
          return new ReadableStream({
            type: 'bytes',
            pull(controller) {
              if (sent) return new Promise<void>(() => undefined);
              sent = true;
              controller.enqueue(bytes.slice(start, start + 100));
              return undefined;
            },
          });
        },
        arrayBuffer: () => {
          sliceReads++;
          return blob.slice(start, end).arrayBuffer();
        },
      }),
    } as unknown as Blob;
    const reader = openRange(file, 0, 600, { stallMs: 20 });
    const first = await reader.next(300);
    expect(Buffer.compare(first, bytes.subarray(0, 300))).toBe(0);
    const second = await reader.next(300);
    expect(Buffer.compare(second, bytes.subarray(300, 600))).toBe(0);
    expect(sliceReads).toBe(2);
    reader.close();
  });

  test('a slow stream that keeps delivering is not given up', async () => {
    const bytes = pattern(400, 6);
    let sliceReads = 0;
    const file = {
      slice: (start: number) => ({
        stream: () => {
          let at = start;
          return new ReadableStream({
            type: 'bytes',
            async pull(controller) {
              await new Promise((resolve) => setTimeout(resolve, 5));
              controller.enqueue(bytes.slice(at, at + 50));
              at += 50;
            },
          });
        },
        arrayBuffer: () => {
          sliceReads++;
          return Promise.reject(new Error('not expected'));
        },
      }),
    } as unknown as Blob;
    const reader = openRange(file, 0, 400, { stallMs: 1000 });
    expect(Buffer.compare(await reader.next(400), bytes)).toBe(0);
    expect(sliceReads).toBe(0);
    reader.close();
  });

  test('without a byte stream each slice is read on its own, and checked', async () => {
    const bytes = pattern(300, 4);
    const blob = new Blob([bytes]);
    const file = {
      slice: (start: number, end: number) => {
        const part = blob.slice(start, end);
        return { stream: () => new ReadableStream(), arrayBuffer: () => part.arrayBuffer() };
      },
    } as unknown as Blob;
    const reader = openRange(file, 0, 400);
    expect(Buffer.compare(await reader.next(200), bytes.subarray(0, 200))).toBe(0);
    await expect(reader.next(200)).rejects.toMatchObject({ code: 'UPLOAD_FILE_UNREADABLE' });
  });
});

describe('parts built from reused read buffers', () => {
  test('one job after another and two at once each carry their own plaintext', async () => {
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i),
      keyName: 'k',
      keyNamespace: 'veil',
    });
    const written = await createMessageHeader({ keyring, frameBytes: FRAME });
    const size = 9 * FRAME + 123;
    const files = [1, 2, 3, 4].map((salt) => pattern(size, salt * 37));
    const build = (plaintext: Uint8Array<ArrayBuffer>) =>
      buildParts({
        file: new Blob([plaintext]),
        frameBytes: FRAME,
        parts: [
          { firstSeq: 1, lastSeq: 5 },
          { firstSeq: 6, lastSeq: 10 },
        ],
        // Slices of two frames: many slices, each buffer read into again and again.
        readBytes: 2 * FRAME,
        cipher: {
          contentKey: written.contentKey,
          messageId: written.messageId,
          headerBytes: written.headerBytes,
        },
      });
    const [a, b] = files;
    const sequential = [await build(a ?? pattern(1, 0)), await build(b ?? pattern(1, 0))];
    const together = await Promise.all(files.slice(2).map(build));
    const results = [...sequential, ...together];
    for (const [index, parts] of results.entries()) {
      const message = new Uint8Array(parts.reduce((sum, part) => sum + part.bytes.length, 0));
      let at = 0;
      for (const part of parts) {
        message.set(part.bytes, at);
        at += part.bytes.length;
      }
      const back = await decryptBytes(message, { keyring });
      expect(Buffer.compare(back, files[index] ?? new Uint8Array())).toBe(0);
    }
  });
});
