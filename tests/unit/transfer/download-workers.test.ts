/**
 * The download side of the worker protocol: WorkerPool sends 'decryptFrames' with the
 * ciphertext in the transfer list to the least busy worker, and a failure comes back as the same
 * VeilError code. The fake worker runs the real handler, decryptFrames.
 */
import { describe, expect, test } from 'vitest';
import { openMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import { encryptBytes } from '../../../src/core/one-shot';
import { decryptFrames } from '../../../src/transfer/download-frames';
import { WorkerPool } from '../../../src/transfer/browser/worker-pool';
import { WorkerClient } from '../../../src/workers/client';
import type { WorkerReply, WorkerRequest } from '../../../src/workers/protocol';
import { flipByte, ourKeyring, patternBytes, testKeyBytes } from '../core/helpers';

const FRAME = 256;

class FakeWorker {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  received: WorkerRequest[] = [];
  transfers: Transferable[][] = [];
  postMessage(request: WorkerRequest, transfer: Transferable[] = []): void {
    this.received.push(request);
    this.transfers.push(transfer);
    if (request.type !== 'decryptFrames') return;
    const reply = (data: WorkerReply): void =>
      this.onmessage?.({ data } as MessageEvent<WorkerReply>);
    decryptFrames(request.job).then(
      (opened) => reply({ id: request.id, ok: true, body: { type: 'decryptFrames', ...opened } }),
      (error: { code: 'FRAME_TAMPERED' }) =>
        reply({ id: request.id, ok: false, code: error.code, message: '' }),
    );
  }
  terminate(): void {}
}

async function message(size: number) {
  const plain = patternBytes(size, 5);
  const keyring = await ourKeyring(testKeyBytes(256));
  const bytes = await encryptBytes(plain, { keyring, frameBytes: FRAME });
  const header = parseHeaderBytes(bytes);
  const contentKey = await openMessageHeader(header, { keyring });
  return { plain, bytes, header, contentKey };
}

describe('WorkerPool', () => {
  test('spreads batches over workers, transfers the ciphertext, returns the plaintext', async () => {
    const fakes: FakeWorker[] = [];
    const pool = new WorkerPool(2, () => {
      const fake = new FakeWorker();
      fakes.push(fake);
      return new WorkerClient(fake as unknown as Worker);
    });
    const { plain, bytes, header, contentKey } = await message(4 * FRAME + 9);
    const frameSize = FRAME + 32;
    const batches = [
      [1, 2],
      [3, 5],
    ] as const;
    const opened = await Promise.all(
      batches.map(([firstSeq, lastSeq]) =>
        pool.decryptFrames({
          contentKey,
          messageId: header.messageId,
          frameBytes: FRAME,
          firstSeq,
          lastSeq,
          finalSeq: 5,
          frames: bytes.slice(
            header.headerBytes + (firstSeq - 1) * frameSize,
            lastSeq === 5 ? bytes.length : header.headerBytes + lastSeq * frameSize,
          ),
        }),
      ),
    );
    expect(Buffer.compare(Buffer.concat(opened.flatMap((o) => o.plaintext)), plain)).toBe(0);
    expect(fakes.map((fake) => fake.received.length)).toEqual([1, 1]);
    for (const fake of fakes) {
      const request = fake.received[0];
      expect(request?.type).toBe('decryptFrames');
      if (request?.type !== 'decryptFrames') continue;
      expect(fake.transfers[0]).toEqual([request.job.frames.buffer]);
      expect(request.job.contentKey.extractable).toBe(false);
    }
    pool.terminate();
    await expect(
      pool.decryptFrames({
        contentKey,
        messageId: header.messageId,
        frameBytes: FRAME,
        firstSeq: 1,
        lastSeq: 1,
        finalSeq: 5,
        frames: new Uint8Array(1),
      }),
    ).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });

  test('a tampered frame comes back as FRAME_TAMPERED; bad jobs are refused', async () => {
    const pool = new WorkerPool(1, () => new WorkerClient(new FakeWorker() as unknown as Worker));
    const { bytes, header, contentKey } = await message(FRAME - 1);
    const frames = bytes.slice(header.headerBytes);
    flipByte(frames, 30);
    const job = {
      contentKey,
      messageId: header.messageId,
      frameBytes: FRAME,
      firstSeq: 1,
      lastSeq: 1,
      finalSeq: 1,
      frames,
    };
    await expect(pool.decryptFrames(job)).rejects.toMatchObject({ code: 'FRAME_TAMPERED' });
    await expect(decryptFrames({ ...job, lastSeq: 2 })).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
    });
    await expect(decryptFrames({ ...job, frames: frames.subarray(0, 20) })).rejects.toMatchObject({
      code: 'MALFORMED',
    });
    expect(() => new WorkerPool(0)).toThrow(/range/);
  });
});
