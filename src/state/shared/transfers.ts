/**
 * What uploads and downloads share in the app: one worker pool (created on first use, sized from
 * navigator.hardwareConcurrency) and the resume store in IndexedDB. The buffers the pool keeps
 * between jobs hold plaintext of the last files, so they are wiped when the vault locks and when
 * the user signs out (wipeTransferBuffers).
 */
import { vault } from '../keys/vault.svelte';
import { indexedDbUploadStore } from '../../transfer/browser/idb-store';
import type { UploadStore } from '../../transfer/upload-store';
import { WorkerPool } from '../../transfer/browser/worker-pool';

let pool: WorkerPool | undefined;
let store: UploadStore | undefined;
/** The vault listener that wipes the pool's buffers on lock, added with the first pool. */
let offLock: (() => void) | undefined;

/** The app's worker pool for building parts and decrypting frames. */
export function workerPool(): WorkerPool {
  if (!pool) {
    pool = new WorkerPool();
    offLock ??= vault.onLock(() => void wipeTransferBuffers());
  }
  return pool;
}

/**
 * Zeroes and drops the buffers the worker pool keeps between jobs (WorkerPool.wipeBuffers), if
 * there is a pool. Never throws: a worker that cannot answer is ended with the pool.
 */
export async function wipeTransferBuffers(): Promise<void> {
  try {
    await pool?.wipeBuffers();
  } catch {
    pool?.terminate();
    pool = undefined;
  }
}

/** The app's resume store (IndexedDB). */
export function uploadStore(): UploadStore {
  store ??= indexedDbUploadStore();
  return store;
}
