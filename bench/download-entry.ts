/**
 * Browser side of `npm run bench:download` (bundled and served by tests/e2e/harness/serve.ts):
 * the download engine with its worker pool, saving through the save picker, which the bench
 * replaces with a stub returning an origin-private-file-system handle (a persistent profile, so
 * GiB files go to disk), or streaming into the browser's downloads through Veil's service worker.
 * Each OPFS run removes its file afterwards; the bench deletes the downloads.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import { downloadObject } from '../src/transfer/download';
import { downloadS3For } from '../src/transfer/download-s3';
import { chooseSaveTarget, type DownloadSink } from '../src/transfer/browser/download-sink';
import { serviceWorkerSink } from '../src/transfer/browser/download-sw-sink';
import { WorkerPool } from '../src/transfer/browser/worker-pool';

let pool: WorkerPool | undefined;

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
  if (pool?.size !== params.workers) {
    pool?.terminate();
    pool = new WorkerPool(params.workers);
  }
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from(atob(params.keyBase64), (char) => char.charCodeAt(0)),
    keyName: 'bench',
    keyNamespace: 'veil',
  });
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
    decryptor: pool,
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
