/**
 * Who decrypts the frames of a download: the worker pool (browser/worker-pool.ts, request
 * 'decryptFrames'), or the calling thread in Node tests.
 */
import { decryptFrames, type FramesJob, type OpenedFrames } from './download-frames';

/** Decrypts batches of frames: a WorkerPool in the browser, `inProcessDecryptor` in Node. */
export interface FrameDecryptor {
  decryptFrames(job: FramesJob): Promise<OpenedFrames>;
}

/** Decrypts on the calling thread (Node, tests, or a page without workers). */
export const inProcessDecryptor: FrameDecryptor = { decryptFrames };
