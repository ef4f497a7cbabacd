import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { WorkerClient } from '../../../src/workers/client';
import type { WorkerReply, WorkerRequest } from '../../../src/workers/protocol';

/** A stand-in for a Worker that answers each request with `answer`, asynchronously. */
class FakeWorker {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  received: WorkerRequest[] = [];
  constructor(private readonly answer: (request: WorkerRequest) => WorkerReply | undefined) {}
  postMessage(request: WorkerRequest): void {
    this.received.push(request);
    const reply = this.answer(request);
    if (reply) queueMicrotask(() => this.onmessage?.({ data: reply } as MessageEvent<WorkerReply>));
  }
  terminate(): void {}
}

function client(fake: FakeWorker): WorkerClient {
  return new WorkerClient(fake as unknown as Worker);
}

describe('WorkerClient', () => {
  test('matches replies to requests by id', async () => {
    const fake = new FakeWorker((request) => ({
      id: request.id,
      ok: true,
      body: {
        type: 'ping',
        protocolVersion: 1,
        sentAtMs: request.type === 'ping' ? request.sentAtMs : 0,
        webCrypto: true,
      },
    }));
    const worker = client(fake);
    const [a, b] = await Promise.all([worker.ping(), worker.ping()]);
    expect(a.webCrypto).toBe(true);
    expect(b.protocolVersion).toBe(1);
    expect(fake.received.map((request) => request.id)).toEqual([1, 2]);
  });

  test('rebuilds a failure into a VeilError with the same code and detail', async () => {
    const worker = client(
      new FakeWorker((request) => ({
        id: request.id,
        ok: false,
        code: 'WORKER_UNKNOWN_REQUEST',
        message: 'ignored: rebuilt from the catalogue',
        detail: 'frob',
      })),
    );
    const error = await worker.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeilError);
    expect(error).toMatchObject({ code: 'WORKER_UNKNOWN_REQUEST', detail: 'frob' });
  });

  test('maps a code it does not know to WORKER_FAILED', async () => {
    const worker = client(
      new FakeWorker(
        (request) => ({ id: request.id, ok: false, code: 'NOPE', message: '' }) as never,
      ),
    );
    await expect(worker.ping()).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });

  test('fails requests in flight when the worker is terminated', async () => {
    const worker = client(new FakeWorker(() => undefined));
    const pending = worker.ping();
    worker.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });
});
