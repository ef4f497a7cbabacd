import { describe, expect, test } from 'vitest';
import { buildPart } from '../../../src/transfer/build-part';
import { WorkerPool, defaultPoolSize } from '../../../src/transfer/worker-pool';
import { WorkerClient } from '../../../src/workers/client';
import type { WorkerReply, WorkerRequest } from '../../../src/workers/protocol';

/** A stand-in Worker that runs the real handler for buildPart and records what it was sent. */
class FakeWorker {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  received: WorkerRequest[] = [];
  terminated = false;
  postMessage(request: WorkerRequest): void {
    this.received.push(request);
    if (request.type !== 'buildPart') return;
    void buildPart(request.job).then(
      (part) =>
        this.onmessage?.({
          data: { id: request.id, ok: true, body: { type: 'buildPart', ...part } },
        } as MessageEvent<WorkerReply>),
      () =>
        this.onmessage?.({
          data: { id: request.id, ok: false, code: 'UPLOAD_FILE_UNREADABLE', message: '' },
        } as MessageEvent<WorkerReply>),
    );
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('WorkerPool', () => {
  test('spreads parts over the least busy workers and returns their bytes', async () => {
    const fakes: FakeWorker[] = [];
    const pool = new WorkerPool(3, () => {
      const fake = new FakeWorker();
      fakes.push(fake);
      return new WorkerClient(fake as unknown as Worker);
    });
    const file = new Blob([new Uint8Array(6 * 1024).fill(7)]);
    const parts = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((seq) =>
        pool.buildPart({ file, frameBytes: 1024, firstSeq: seq, lastSeq: seq }),
      ),
    );
    expect(parts.map((part) => part.bytes.length)).toEqual([1024, 1024, 1024, 1024, 1024, 1024]);
    expect(fakes.map((fake) => fake.received.length)).toEqual([2, 2, 2]);
    pool.terminate();
    expect(fakes.every((fake) => fake.terminated)).toBe(true);
    await expect(
      pool.buildPart({ file, frameBytes: 1024, firstSeq: 1, lastSeq: 1 }),
    ).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
  });

  test('a failed build rejects with the code the worker sent', async () => {
    const pool = new WorkerPool(1, () => new WorkerClient(new FakeWorker() as unknown as Worker));
    const file = new Blob([new Uint8Array(10)]);
    await expect(
      pool.buildPart({ file, frameBytes: 4, firstSeq: 9, lastSeq: 9 }),
    ).rejects.toMatchObject({
      code: 'UPLOAD_FILE_UNREADABLE',
    });
  });

  test('sizes and guards', () => {
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(1);
    expect(defaultPoolSize()).toBeLessThanOrEqual(4);
    expect(() => new WorkerPool(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});
