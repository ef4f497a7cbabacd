/**
 * Who builds the parts of an upload: the browser's worker pool (browser/worker-pool.ts, requests
 * 'buildPart' and 'buildParts'), or the calling thread (Node, tests, a page without workers).
 */
import { buildPart, buildParts, type BuiltPart, type PartJob, type PartRunJob } from './build-part';

/** Builds parts: a WorkerPool in the browser, `inProcessBuilder` in Node and tests. */
export interface PartBuilder {
  buildPart(job: PartJob): Promise<BuiltPart>;
  /** Builds a run of consecutive parts in one job ([Note: part runs]); optional. */
  buildParts?(job: PartRunJob): Promise<BuiltPart[]>;
  /**
   * Takes back the bytes of a built part the engine no longer needs, so that a later part can be
   * written into the same memory ([Note: recycled part buffers] in build-part.ts); optional. The
   * caller must not touch `bytes` afterwards (the pool transfers its buffer away).
   */
  recycle?(bytes: Uint8Array<ArrayBuffer>): void;
  /** Jobs it runs at once (workers); the engine sizes part runs from it. Default 1. */
  readonly size?: number;
}

/** Builds parts on the calling thread (Node, tests, or a page without workers). */
export const inProcessBuilder: PartBuilder = { buildPart, buildParts };
