/**
 * Browser side of `npm run bench:upload` (bundled and served by tests/e2e/harness/serve.ts):
 * the upload engine with its worker pool, against a discarding sink (no network), moto or the
 * disk-backed S3 stand-in (download-server.ts), and the limits it is compared with, measured in the
 * same page (primitives.ts): reading the same File with `File.stream()`, raw WebCrypto AES-GCM in
 * the same number of plain workers, and the primitive pipeline of those two.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import type { PartJob } from '../src/transfer/build-part';
import { uploadS3For, type UploadS3 } from '../src/transfer/s3-api';
import { FileUpload } from '../src/transfer/upload';
import { WorkerPool } from '../src/transfer/browser/worker-pool';
import {
  primitivePipelineMs as primitivePipeline,
  releaseWorkers,
  streamReadMs as streamRead,
} from './primitives';
import { pageStages, workerStages } from './stages';
import { runOrder, sampleHeap, type HeapFigures } from './detached-order';

const files = new Map<string, File>();
let pool: WorkerPool | undefined;

function poolOf(workers: number): WorkerPool {
  if (pool?.size !== workers) {
    pool?.terminate();
    pool = new WorkerPool(workers);
  }
  return pool;
}

/** Makes an in-memory File of random bytes under `name`. */
export function makeFile(name: string, sizeBytes: number): number {
  const bytes = new Uint8Array(sizeBytes);
  for (let at = 0; at < sizeBytes; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(sizeBytes, at + 65536)));
  }
  files.set(name, new File([bytes], name));
  return sizeBytes;
}

/** Registers the file chosen in the page's <input type=file> (set by the bench) as `name`. */
export function takeInputFile(name: string): number {
  const input = document.querySelector<HTMLInputElement>('#bench-file');
  const file = input?.files?.[0];
  if (!file) throw new Error('no file in #bench-file');
  files.set(name, file);
  return file.size;
}

/** Adds the <input type=file> the bench fills with setInputFiles. */
export function addFileInput(): void {
  if (document.querySelector('#bench-file')) return;
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'bench-file';
  document.body.append(input);
}

function fileOf(name: string): File {
  const file = files.get(name);
  if (!file) throw new Error(`no file ${name}`);
  return file;
}

/** An S3 that accepts and drops every part: the pipeline without the network. */
const sink: UploadS3 = {
  createMultipartUpload: () => Promise.resolve({ UploadId: 'sink', $metadata: {} }),
  uploadPart: () => Promise.resolve({ ETag: '"sink"', ChecksumCRC32: 'AAAAAA==', $metadata: {} }),
  completeMultipartUpload: () => Promise.resolve({ ETag: '"sink"', $metadata: {} }),
  abortMultipartUpload: () => Promise.resolve({ $metadata: {} }),
  listParts: () => Promise.resolve({ Parts: [], $metadata: {} }),
  putObject: () => Promise.resolve({ ETag: '"sink"', $metadata: {} }),
};

async function keyring(): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyBytes: crypto.getRandomValues(new Uint8Array(32)),
    keyName: 'bench',
    keyNamespace: 'veil',
  });
}

/** Where `upload` sends parts: the sink, or an S3 endpoint (moto, or the disk-backed one). */
export interface Target {
  readonly endpoint?: string;
  readonly bucket?: string;
}

let lastObjectBytes = 0;

/** The object size of the last finished upload. */
export function lastUploadObjectBytes(): number {
  return lastObjectBytes;
}

/**
 * How the pool builds parts: 'runs' (the engine's arrangement: runs of consecutive parts per
 * worker job, reads prefetched across part boundaries) or 'one-part' (the earlier arrangement:
 * one job per part, one read per part), by hiding the pool's buildParts from the engine.
 */
export type Arrangement = 'runs' | 'one-part';

/** Uploads file `name` through the engine; returns the elapsed milliseconds. */
export async function uploadMs(
  name: string,
  workers: number,
  protection: 'client-side' | 'none',
  target: Target,
  arrangement: Arrangement = 'runs',
  partsInFlight = 2 * workers,
): Promise<number> {
  const s3 = target.endpoint
    ? uploadS3For(
        new S3Client({
          region: 'us-east-1',
          endpoint: target.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
          requestChecksumCalculation: 'WHEN_SUPPORTED',
        }),
      )
    : sink;
  const pool = poolOf(workers);
  await pool.ping();
  const builder =
    arrangement === 'runs'
      ? pool
      : { size: pool.size, buildPart: (job: PartJob) => pool.buildPart(job) };
  const startMs = performance.now();
  const upload = FileUpload.start({
    s3,
    builder,
    keyring: await keyring(),
    protection,
    file: fileOf(name),
    bucket: target.bucket ?? 'sink',
    key: `bench/${name}-${protection}-${Date.now()}`,
    partsInFlight,
  });
  lastObjectBytes = (await upload.done).objectBytes;
  return performance.now() - startMs;
}

/** Reads file `name` once with File.stream(); returns the elapsed milliseconds. */
export function streamReadMs(name: string): Promise<number> {
  return streamRead(fileOf(name));
}

/** The primitive pipeline ([primitives.ts]) on file `name`; returns the elapsed milliseconds. */
export async function primitivePipelineMs(
  name: string,
  workers: number,
  frameBytes: number,
): Promise<number> {
  return (await primitivePipeline(fileOf(name), workers, frameBytes)).ms;
}

export { rawAesMs } from './primitives';

/** Drops a file and the pool. */
export function release(name?: string): void {
  if (name) files.delete(name);
  else {
    files.clear();
    pool?.terminate();
    pool = undefined;
    releaseWorkers();
  }
}

/** Where the time goes, stage by stage (stages.ts), over file `name`; ms per GiB by stage. */
export async function stagesPerGiB(
  name: string,
  frameBytes: number,
  partBytes: number,
): Promise<Record<string, number>> {
  const file = fileOf(name);
  return {
    ...(await workerStages(file, frameBytes, partBytes)),
    ...(await pageStages(file.size, partBytes)),
  };
}

/** A job for a detached page ([Note: detached page] in detached-page.ts): one big upload. */
export interface DetachedUpload {
  readonly endpoint: string;
  readonly fileBytes: number;
  readonly workers: number;
}

/** What the detached page reports. */
export interface DetachedUploadResult {
  readonly ms: number;
  readonly objectBytes: number;
  /** The page's JS heap (performance.memory, sampled every 100 ms). */
  readonly heap: HeapFigures;
}

/**
 * Writes a file of `fileBytes` to the origin-private file system (on disk in the detached page's
 * profile) and returns it as a File read from disk, as a picked file is: 8 MiB blocks of random
 * bytes, each block's first 8 bytes its number.
 */
async function opfsFile(fileBytes: number): Promise<File> {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle('bench-upload.bin', { create: true });
  const writable = await handle.createWritable();
  const block = new Uint8Array(8 * 1024 * 1024);
  for (let at = 0; at < block.length; at += 65536) {
    crypto.getRandomValues(block.subarray(at, at + 65536));
  }
  for (let at = 0; at < fileBytes; at += block.length) {
    new DataView(block.buffer).setFloat64(0, at);
    await writable.write(block.subarray(0, Math.min(block.length, fileBytes - at)));
  }
  await writable.close();
  return handle.getFile();
}

void runOrder<DetachedUpload, DetachedUploadResult, File>(
  async (job, file) => {
    files.set('detached', file);
    const heap = sampleHeap();
    const ms = await uploadMs('detached', job.workers, 'client-side', {
      endpoint: job.endpoint,
      bucket: 'bench',
    });
    return { ms, objectBytes: lastObjectBytes, heap: heap.stop() };
  },
  (job) => opfsFile(job.fileBytes),
);
