/**
 * The browser's PartBuilder and FrameDecryptor: the one pool of Veil's module workers, for both
 * directions. Its size follows `navigator.hardwareConcurrency`, capped; each job goes to the
 * least busy worker.
 * Uploads: the File crosses by reference and the built part comes back by transfer; the buffers
 * of parts the engine is done with go back to a worker with the next job, by transfer
 * ([Note: recycled part buffers] in build-part.ts).
 * Downloads: a batch's ciphertext crosses by transfer, the content key by clone (a
 * non-extractable CryptoKey stays non-extractable), and each frame's plaintext comes back by
 * transfer.
 */
import { needs } from '../../core';
import { WorkerClient } from '../../workers/client';
import type { BuiltPart, PartJob, PartRunJob } from '../build-part';
import type { FramesJob, OpenedFrames } from '../download-frames';
import type { FrameDecryptor } from '../download-workers';
import type { PartBuilder } from '../part-builder';

/** The most workers a pool starts. */
export const MAX_POOL_WORKERS = 4;

/** Workers to start on this machine: hardwareConcurrency (default 2), 1..MAX_POOL_WORKERS. */
export function defaultPoolSize(): number {
  const cores = typeof navigator === 'undefined' ? 2 : navigator.hardwareConcurrency || 2;
  return Math.min(MAX_POOL_WORKERS, Math.max(1, cores));
}

/** Part buffers the pool keeps for later jobs, at most ([Note: recycled part buffers]). */
export const MAX_SPARE_BUFFERS = 4;

/** A pool of Veil module workers. Call `terminate()` when done with it. */
export class WorkerPool implements PartBuilder, FrameDecryptor {
  readonly #clients: WorkerClient[];
  /** Buffers of parts the engine is done with, newest last, sent with the next jobs. */
  readonly #spare: ArrayBuffer[] = [];

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

  /** Number of workers. */
  get size(): number {
    return this.#clients.length;
  }

  /** The worker with the fewest requests pending. */
  #leastBusy(): WorkerClient {
    let client = this.#clients[0];
    for (const candidate of this.#clients) {
      if (client === undefined || candidate.pendingCount < client.pendingCount) client = candidate;
    }
    needs(client, 'WORKER_FAILED', 'the pool was terminated');
    return client;
  }

  /**
   * Builds one part in the least busy worker; rejects with the worker's VeilError. The
   * worker's CRC-32 is kept: without it the part would go as a slow Uint8Array body
   * ([Note: Blob request bodies] in s3-api.ts).
   */
  async buildPart(job: PartJob): Promise<BuiltPart> {
    const spare = this.#takeSpare(1);
    const { bytes, plaintextBytes, buildMs, checksumCrc32, plaintextDigest } =
      await this.#leastBusy().request<'buildPart'>(
        { type: 'buildPart', job: { ...job, spare } },
        spare,
      );
    return {
      bytes,
      plaintextBytes,
      buildMs,
      ...(checksumCrc32 ? { checksumCrc32 } : {}),
      ...(plaintextDigest ? { plaintextDigest } : {}),
    };
  }

  /** Builds a run of consecutive parts in the least busy worker ([Note: part runs]). */
  async buildParts(job: PartRunJob): Promise<BuiltPart[]> {
    const spare = this.#takeSpare(job.parts.length);
    const { parts } = await this.#leastBusy().request<'buildParts'>(
      { type: 'buildParts', job: { ...job, spare } },
      spare,
    );
    return parts;
  }

  /**
   * Keeps the buffer of a part the engine is done with for a later job (at most
   * MAX_SPARE_BUFFERS; [Note: recycled part buffers] in build-part.ts). Only a whole, attached
   * buffer is kept; the caller must not touch `bytes` afterwards.
   */
  recycle(bytes: Uint8Array<ArrayBuffer>): void {
    const { buffer } = bytes;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
    if (!whole || buffer.byteLength === 0 || this.#spare.includes(buffer)) return;
    this.#spare.push(buffer);
    if (this.#spare.length > MAX_SPARE_BUFFERS) this.#spare.shift();
  }

  /** Up to `count` spare buffers, newest first, removed from the pool (to be transferred). */
  #takeSpare(count: number): ArrayBuffer[] {
    return this.#spare.splice(Math.max(0, this.#spare.length - count)).reverse();
  }

  /** Decrypts one batch of frames in the least busy worker; `job.frames` is transferred. */
  async decryptFrames(job: FramesJob): Promise<OpenedFrames> {
    const { plaintext, decryptMs } = await this.#leastBusy().request<'decryptFrames'>(
      { type: 'decryptFrames', job },
      [job.frames.buffer],
    );
    return { plaintext, decryptMs };
  }

  /**
   * Zeroes and drops every buffer kept between jobs: the pool's spare part buffers (an upload
   * without client-side encryption leaves plaintext in them) and each worker's read buffers
   * (plaintext of the last file read). For the vault's lock and sign-out; jobs in flight keep
   * their own buffers.
   * @returns how many buffers were wiped.
   */
  async wipeBuffers(): Promise<number> {
    const spare = this.#spare.splice(0);
    for (const buffer of spare) new Uint8Array(buffer).fill(0);
    const inWorkers = await Promise.all(
      this.#clients.map(async (client) => {
        const { wiped } = await client.request<'wipeBuffers'>({ type: 'wipeBuffers' }, []);
        return wiped;
      }),
    );
    return spare.length + inWorkers.reduce((sum, count) => sum + count, 0);
  }

  /** Round trip of a ping to every worker, in milliseconds. */
  async ping(): Promise<number[]> {
    return Promise.all(this.#clients.map(async (client) => (await client.ping()).roundTripMs));
  }

  /** Stops every worker; pending builds reject with WORKER_FAILED. */
  terminate(): void {
    this.#spare.length = 0;
    for (const client of this.#clients.splice(0)) client.terminate();
  }
}
