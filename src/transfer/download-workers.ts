/**
 * Who decrypts the frames of a download: module workers of the one worker entry
 * (src/workers/worker.ts, request 'decryptFrames'), or the calling thread in Node tests. Each batch
 * goes to the least busy worker; its ciphertext crosses by transfer, the content key by clone (a
 * non-extractable CryptoKey stays non-extractable), and the plaintext comes back by transfer.
 */
import { needs } from '../core/errors';
import { WorkerClient } from '../workers/client';
import { decryptFrames, type FramesJob, type OpenedFrames } from './download-frames';
import { defaultPoolSize } from './worker-pool';

/** Decrypts batches of frames. */
export interface FrameDecryptor {
  decryptFrames(job: FramesJob): Promise<OpenedFrames>;
}

/** Decrypts on the calling thread (Node, tests, or a page without workers). */
export const inProcessDecryptor: FrameDecryptor = { decryptFrames };

/** A pool of Veil module workers for downloads. Call `terminate()` when done with it. */
export class DownloadWorkerPool implements FrameDecryptor {
  readonly #clients: WorkerClient[];

  /**
   * @param size workers to start, 1..16; default defaultPoolSize().
   * @param createClient builds one worker client (tests pass fakes).
   * @throws VeilError OUT_OF_RANGE for a bad size.
   */
  constructor(
    size = defaultPoolSize(),
    createClient: () => WorkerClient = () => new WorkerClient(),
  ) {
    // Precondition: a sensible worker count.
    needs(Number.isInteger(size) && size >= 1 && size <= 16, 'OUT_OF_RANGE', 'pool size');
    this.#clients = Array.from({ length: size }, createClient);
  }

  get size(): number {
    return this.#clients.length;
  }

  /** Decrypts one batch in the least busy worker; `job.frames` is transferred (detached here). */
  async decryptFrames(job: FramesJob): Promise<OpenedFrames> {
    let client = this.#clients[0];
    for (const candidate of this.#clients) {
      if (client === undefined || candidate.pendingCount < client.pendingCount) client = candidate;
    }
    needs(client, 'WORKER_FAILED', 'the pool was terminated');
    const { plaintext, decryptMs } = await client.request<'decryptFrames'>(
      { type: 'decryptFrames', job },
      [job.frames.buffer],
    );
    return { plaintext, decryptMs };
  }

  /** Stops every worker; pending batches reject with WORKER_FAILED. */
  terminate(): void {
    for (const client of this.#clients.splice(0)) client.terminate();
  }
}
