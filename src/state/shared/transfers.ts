/**
 * What uploads and downloads share in the app: one worker pool (created on first use, sized from
 * navigator.hardwareConcurrency) and the resume store in IndexedDB.
 */
import { indexedDbUploadStore } from '../../transfer/browser/idb-store';
import type { UploadStore } from '../../transfer/upload-store';
import { WorkerPool } from '../../transfer/browser/worker-pool';

let pool: WorkerPool | undefined;
let store: UploadStore | undefined;

/** The app's worker pool for building parts and decrypting frames. */
export function workerPool(): WorkerPool {
  pool ??= new WorkerPool();
  return pool;
}

/** The app's resume store (IndexedDB). */
export function uploadStore(): UploadStore {
  store ??= indexedDbUploadStore();
  return store;
}
