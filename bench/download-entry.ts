/**
 * Browser side of `npm run bench:download` (bundled and served by tests/e2e/harness/serve.ts):
 * the download engine with its worker pool, saving through the save picker, which the bench
 * replaces with a stub returning an origin-private-file-system handle (a persistent profile, so
 * GiB files go to disk), or streaming into the browser's downloads through Veil's service worker.
 * Each OPFS run removes its file afterwards; the bench deletes the downloads. Also the decrypt
 * pipeline without a network: the same engine and pool reading ranges of a Veil object held in
 * the page's memory into a sink that drops them, against raw AES-GCM decryption (primitives.ts).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import { downloadObject } from '../src/transfer/download';
import { downloadS3For } from '../src/transfer/download-s3';
import { chooseSaveTarget, type DownloadSink } from '../src/transfer/browser/download-sink';
import { serviceWorkerSink } from '../src/transfer/browser/download-sw-sink';
import { WorkerPool } from '../src/transfer/browser/worker-pool';
import { createEncryptStream } from '../src/core/encrypt-stream';
import type { DownloadS3 } from '../src/transfer/download-s3';

import { markCpu, runOrder, sampleHeap, type HeapFigures } from './detached-order';

export { primitiveDecryptMs, rawAesMs } from './primitives';

let pool: WorkerPool | undefined;

function poolOf(workers: number): WorkerPool {
  if (pool?.size !== workers) {
    pool?.terminate();
    pool = new WorkerPool(workers);
  }
  return pool;
}

function keyringOf(keyBase64: string): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from(atob(keyBase64), (char) => char.charCodeAt(0)),
    keyName: 'bench',
    keyNamespace: 'veil',
  });
}

let memoryObject: Uint8Array | undefined;

/** Encrypts `plaintextBytes` random bytes into a Veil object kept in the page; returns its size. */
export async function makeMemoryObject(plaintextBytes: number, keyBase64: string): Promise<number> {
  const block = new Uint8Array(16 * 1024 * 1024);
  for (let at = 0; at < block.length; at += 65536) {
    crypto.getRandomValues(block.subarray(at, at + 65536));
  }
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= plaintextBytes) return controller.close();
      const chunk = block.slice(0, Math.min(block.length, plaintextBytes - sent));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const keyring = await keyringOf(keyBase64);
  const chunks: Uint8Array[] = [];
  await source
    .pipeThrough(createEncryptStream({ keyring, plaintextBytes }))
    .pipeTo(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
  memoryObject = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
  return memoryObject.length;
}

/** The ranges the last memory run asked for ("start-end"), so the next can have them ready. */
let askedRanges: string[] = [];
/** Ranges copied out ahead by readyRanges, taken by the next memory run with source 'ready'. */
const ready = new Map<string, Uint8Array>();

/** Copies out every range the last memory run asked for (call it outside the measurement). */
export function readyRanges(): void {
  const object = memoryObject;
  if (!object) throw new Error('no object in memory');
  ready.clear();
  for (const range of askedRanges) {
    const [start, end] = range.split('-').map(Number);
    ready.set(range, object.slice(start, end));
  }
}

/**
 * The decrypt pipeline without a network: the download engine and its worker pool read the
 * object made by makeMemoryObject in ranged reads and write to a sink that counts and drops.
 * With `source: 'copy'` each range is a fresh copy made when asked, as a network read delivers
 * fresh bytes; with 'ready' the ranges copied out ahead by readyRanges are handed over as they
 * are, so the figure is the engine's alone, without the source's cost
 * ([Note: fresh buffers] in src/transfer/download-frames.ts). Returns the elapsed milliseconds
 * and the bytes written.
 */
export async function memoryDecryptMs(params: {
  keyBase64: string;
  workers: number;
  source?: 'copy' | 'ready';
}): Promise<{ ms: number; writtenBytes: number }> {
  const object = memoryObject;
  if (!object) throw new Error('no object in memory');
  if (params.source !== 'ready') ready.clear();
  const asked: string[] = [];
  const rangeOf = (startBytes: number, endBytes: number): Uint8Array => {
    const name = `${startBytes}-${endBytes}`;
    asked.push(name);
    const bytes = ready.get(name);
    ready.delete(name);
    return bytes ?? object.slice(startBytes, endBytes);
  };
  const etag = '"memory"';
  const s3: DownloadS3 = {
    headObject: () =>
      Promise.resolve({
        contentLength: object.length,
        etag,
        metadata: undefined,
        contentType: undefined,
      }),
    getRange: (request) =>
      Promise.resolve({
        bytes: rangeOf(request.startBytes, request.endBytes),
        etag,
        totalBytes: object.length,
      }),
  };
  let written = 0;
  const sink: DownloadSink = {
    write: (chunk) => {
      written += chunk.length;
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
  const keyring = await keyringOf(params.keyBase64);
  const decryptor = poolOf(params.workers);
  await decryptor.ping();
  const startedMs = performance.now();
  const result = await downloadObject({
    s3,
    bucket: 'bench',
    key: 'memory',
    keyring,
    decryptor,
    sink,
  });
  const ms = performance.now() - startedMs;
  askedRanges = asked;
  if (result.writtenBytes !== written) throw new Error('the sink saw other bytes');
  return { ms, writtenBytes: written };
}

/**
 * Downloads `key` from the bench's S3 endpoint into OPFS through the (stubbed) save picker, or
 * with `target: 'service-worker'` into the browser's downloads through Veil's service worker;
 * returns the time and what was saved.
 */
export async function downloadMs(params: {
  endpoint: string;
  key: string;
  keyBase64: string;
  workers: number;
  target?: 'opfs' | 'service-worker';
}): Promise<{ ms: number; writtenBytes: number; kind: string }> {
  const decryptor = poolOf(params.workers);
  const keyring = await keyringOf(params.keyBase64);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: params.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  const fileName = `bench-${params.key}`;
  const startedMs = performance.now();
  const viaWorker = params.target === 'service-worker';
  const sink: DownloadSink = viaWorker
    ? await serviceWorkerSink({ fileName })
    : (await chooseSaveTarget(fileName, 0)).sink;
  const result = await downloadObject({
    s3: downloadS3For(s3),
    bucket: 'bench',
    key: params.key,
    keyring,
    decryptor,
    sink,
  });
  const ms = performance.now() - startedMs;
  if (!viaWorker) {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(fileName);
  }
  s3.destroy();
  return { ms, writtenBytes: result.writtenBytes, kind: result.kind };
}

/** Drops the object made by makeMemoryObject. */
export function releaseMemoryObject(): void {
  memoryObject = undefined;
}

/** A job for a detached page ([Note: detached page] in detached-page.ts). */
export type DetachedJob =
  | {
      readonly kind: 'compare';
      readonly endpoint: string;
      readonly keyBase64: string;
      readonly workers: number;
      readonly runs: number;
      readonly veilKey: string;
      readonly plainKey: string;
    }
  | {
      readonly kind: 'download';
      readonly endpoint: string;
      readonly keyBase64: string;
      readonly workers: number;
      readonly key: string;
      /** True for an object stored as it is (a plain download), false for a Veil object. */
      readonly plain?: boolean;
    };

/** What a detached page reports: per run the milliseconds, and the page's heap peak. */
export interface DetachedResult {
  readonly veilMs: number[];
  readonly plainMs: number[];
  /** Plaintext bytes the last Veil download wrote. */
  readonly writtenBytes: number;
  /** The page's JS heap (performance.memory, sampled every 100 ms). */
  readonly heap: HeapFigures;
}

async function runDetachedJob(job: DetachedJob): Promise<DetachedResult> {
  // The save picker, as the bench stubs it under Playwright: a file in OPFS (a persistent profile).
  (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async (options: {
    suggestedName: string;
  }) =>
    (await navigator.storage.getDirectory()).getFileHandle(options.suggestedName, {
      create: true,
    });
  const heapSampler = sampleHeap();
  const veilMs: number[] = [];
  const plainMs: number[] = [];
  let writtenBytes = 0;
  let heap: HeapFigures;
  const run = async (key: string, kind: string): Promise<number> => {
    await markCpu(`${key} start`);
    const result = await downloadMs({ ...job, key });
    await markCpu(`${key} end`);
    if (result.kind !== kind) throw new Error(`${key} downloaded as ${result.kind}`);
    if (kind !== 'plain' || job.kind === 'download') writtenBytes = result.writtenBytes;
    return result.ms;
  };
  try {
    if (job.kind === 'download') {
      veilMs.push(await run(job.key, job.plain === true ? 'plain' : 'esdk-framed'));
    } else {
      for (let i = 0; i < job.runs; i++) {
        veilMs.push(await run(job.veilKey, 'esdk-framed'));
        plainMs.push(await run(job.plainKey, 'plain'));
      }
    }
  } finally {
    heap = heapSampler.stop();
  }
  return { veilMs, plainMs, writtenBytes, heap };
}

void runOrder(runDetachedJob);
