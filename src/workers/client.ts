/**
 * The page side of one module worker: sends typed requests, matches replies by id, and rebuilds
 * failures into VeilError with the same code.
 */
import { isErrorCode, VeilError } from '../core/errors';
import type { ReplyFor, RequestInput, WorkerReply, WorkerRequest } from './protocol';

type Pending = { resolve: (body: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };

export class WorkerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(worker?: Worker) {
    this.#worker =
      worker ??
      new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'veil' });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#settle(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(new VeilError('WORKER_FAILED', event.message || undefined));
    };
  }

  /** Sends one request; resolves with its reply body or rejects with the rebuilt VeilError. */
  request<T extends WorkerRequest['type']>(
    input: Extract<RequestInput, { type: T }>,
    transfer: Transferable[] = [],
  ): Promise<ReplyFor<T>> {
    const id = this.#nextId++;
    return new Promise<ReplyFor<T>>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: (reply) => resolve(reply.body as ReplyFor<T>),
        reject,
      });
      this.#worker.postMessage({ ...input, id }, transfer);
    });
  }

  /** Requests sent and not yet answered (the pool sends new work to the least busy worker). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Round trip time of a ping, in milliseconds; proves the worker is alive. */
  async ping(): Promise<{ roundTripMs: number; webCrypto: boolean; protocolVersion: number }> {
    const sentAtMs = performance.now();
    const reply = await this.request<'ping'>({ type: 'ping', sentAtMs });
    return {
      roundTripMs: performance.now() - reply.sentAtMs,
      webCrypto: reply.webCrypto,
      protocolVersion: reply.protocolVersion,
    };
  }

  terminate(): void {
    this.#worker.terminate();
    this.#failAll(new VeilError('WORKER_FAILED', 'terminated'));
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply);
    else {
      const code = isErrorCode(reply.code) ? reply.code : 'WORKER_FAILED';
      pending.reject(new VeilError(code, reply.detail));
    }
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
