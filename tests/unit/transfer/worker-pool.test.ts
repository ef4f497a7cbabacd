import { describe, expect, test } from 'vitest';
import { buildPart } from '../../../src/transfer/build-part';
import { crc32, crc32Base64 } from '../../../src/transfer/crc32';
import type { UploadPlan } from '../../../src/transfer/part-plan';
import { partsPerRun } from '../../../src/transfer/prepare';
import { WorkerPool, defaultPoolSize } from '../../../src/transfer/browser/worker-pool';
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

/** A stand-in Worker that answers wipeBuffers, saying it wiped `kept` buffers. */
class WipingWorker extends FakeWorker {
  constructor(readonly kept: number) {
    super();
  }
  override postMessage(request: WorkerRequest): void {
    super.postMessage(request);
    if (request.type !== 'wipeBuffers') return;
    this.onmessage?.({
      data: { id: request.id, ok: true, body: { type: 'wipeBuffers', wiped: this.kept } },
    } as MessageEvent<WorkerReply>);
  }
}

describe('WorkerPool', () => {
  test('wipeBuffers zeroes the spare part buffers and asks every worker to wipe its own', async () => {
    const fakes: WipingWorker[] = [];
    const pool = new WorkerPool(2, () => {
      const fake = new WipingWorker(fakes.length + 1);
      fakes.push(fake);
      return new WorkerClient(fake as unknown as Worker);
    });
    const spare = new Uint8Array(1024).fill(0x5a);
    pool.recycle(spare);
    expect(await pool.wipeBuffers()).toBe(1 + 1 + 2);
    expect(spare.every((byte) => byte === 0)).toBe(true);
    expect(fakes.map((fake) => fake.received.map((request) => request.type))).toEqual([
      ['wipeBuffers'],
      ['wipeBuffers'],
    ]);
    // Nothing is left to hand out: the next job carries no spare buffer.
    const file = new Blob([new Uint8Array(1024).fill(7)]);
    await pool.buildPart({ file, frameBytes: 1024, firstSeq: 1, lastSeq: 1 });
    const sent = fakes.flatMap((fake) => fake.received).find((r) => r.type === 'buildPart');
    expect(sent?.type === 'buildPart' && sent.job.spare).toEqual([]);
    pool.terminate();
  });

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

  test('buildPart keeps the CRC-32 the worker computed', async () => {
    const pool = new WorkerPool(1, () => new WorkerClient(new FakeWorker() as unknown as Worker));
    const content = new Uint8Array(3000).map((_, i) => (i * 31) % 251);
    const part = await pool.buildPart({
      file: new Blob([content]),
      frameBytes: 1024,
      firstSeq: 1,
      lastSeq: 3,
    });
    expect(part.bytes).toEqual(content);
    expect(part.checksumCrc32).toBe(crc32Base64(crc32(content)));
    pool.terminate();
  });

  test('with as many workers as parts in flight, every part goes through buildPart', () => {
    const mib = 1024 * 1024;
    const plan = { framesPerPart: 128, frameBytes: 64 * 1024 } as UploadPlan;
    expect(plan.framesPerPart * plan.frameBytes).toBe(8 * mib);
    expect(partsPerRun(plan, 4, 4)).toBe(1);
    expect(partsPerRun(plan, 8, 2)).toBe(4);
  });

  test('sizes and guards', () => {
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(1);
    expect(defaultPoolSize()).toBeLessThanOrEqual(4);
    expect(() => new WorkerPool(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});
