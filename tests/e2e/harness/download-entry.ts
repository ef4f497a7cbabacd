/**
 * Browser entry for the download spec: the download engine with its real worker pool, the save
 * target as the app opens it (chooseSaveTarget: the File System Access save picker, which the spec
 * replaces with a stub returning an origin-private-file-system handle), keyrings for Models A, B
 * and C, and the upload engine's harness (re-exported) to put objects in the bucket first.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { kmsApiFor } from '../../../src/aws/clients';
import { VeilError } from '../../../src/core/errors';
import type { Keyring } from '../../../src/core/keyring';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { HsmProxyKeyring } from '../../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../../src/keyrings/kms';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import {
  downloadObject,
  readPlaintextRange,
  type DownloadResult,
  type DownloadSetup,
  type ResumePoint,
} from '../../../src/transfer/download';
import type { DownloadProgress } from '../../../src/transfer/download-progress';
import { resumableFileSink } from '../../../src/transfer/browser/download-resume';
import { downloadS3For } from '../../../src/transfer/download-s3';
import { chooseSaveTarget, type SaveTargetKind } from '../../../src/transfer/browser/download-sink';
import { WorkerPool } from '../../../src/transfer/browser/worker-pool';

export { uploadOnce } from './upload-entry';

/** What to download and with which keys; JSON-friendly. */
export interface DownloadParams {
  readonly motoUrl: string;
  readonly bucket: string;
  readonly key: string;
  /** Name of the saved file (in the origin-private file system under the spec's stub). */
  readonly fileName: string;
  /** Model A: a raw AES key (key name and namespace default to the upload harness's). */
  readonly raw?: { keyBase64: string; keyName?: string; keyNamespace?: string };
  /** Model C: KMS in discovery mode at moto. */
  readonly kms?: boolean;
  /** Model B: the HSM proxy with the user's ID token. */
  readonly hsm?: { proxyUrl: string; idToken: string };
  readonly rangeBytes?: number;
  readonly rangesInFlight?: number;
  readonly workers?: number;
  readonly maxAttempts?: number;
}

/** The size and Blob limit chooseSaveTarget is called with, and the kind it must return. */
export interface SaveTargetParams {
  readonly sizeBytes: number;
  readonly blobLimitBytes?: number;
  readonly kind: SaveTargetKind;
}

export type DownloadOutcome =
  | { ok: true; result: DownloadResult; progress: DownloadProgress; progressEvents: number }
  | { ok: false; code: string; detail: string | undefined; message: string };

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const fromBase64 = (text: string): Uint8Array =>
  Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
let pool: WorkerPool | undefined;

async function keyringFor(params: DownloadParams): Promise<Keyring | undefined> {
  const children: Keyring[] = [];
  if (params.raw) {
    children.push(
      await RawAesKeyring.fromBytes({
        keyBytes: fromBase64(params.raw.keyBase64),
        keyName: params.raw.keyName ?? 'upload-test',
        keyNamespace: params.raw.keyNamespace ?? 'veil',
      }),
    );
  }
  if (params.kms) {
    const kms = new KMSClient({
      region: 'us-east-1',
      endpoint: params.motoUrl,
      credentials: LOCAL,
    });
    children.push(new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true }));
  }
  if (params.hsm) {
    const { proxyUrl, idToken } = params.hsm;
    children.push(new HsmProxyKeyring({ proxyUrl, idToken: () => idToken }));
  }
  if (children.length === 0) return undefined;
  return children.length === 1 ? children[0] : createMultiKeyring({ children });
}

async function setupFor(params: DownloadParams): Promise<DownloadSetup> {
  if (pool && params.workers !== undefined && pool.size !== params.workers) {
    pool.terminate();
    pool = undefined;
  }
  pool ??= new WorkerPool(params.workers);
  const keyring = await keyringFor(params);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: params.motoUrl,
    forcePathStyle: true,
    credentials: LOCAL,
    maxAttempts: 1,
  });
  return {
    s3: downloadS3For(s3),
    bucket: params.bucket,
    key: params.key,
    decryptor: pool,
    ...(keyring ? { keyring } : {}),
    ...(params.rangeBytes ? { rangeBytes: params.rangeBytes } : {}),
    ...(params.rangesInFlight ? { rangesInFlight: params.rangesInFlight } : {}),
    retry: { maxAttempts: params.maxAttempts ?? 3, baseDelayMs: 50, maxDelayMs: 400 },
  };
}

function failure(error: unknown): DownloadOutcome {
  return error instanceof VeilError
    ? { ok: false, code: error.code, detail: error.detail, message: error.message }
    : { ok: false, code: 'NOT_A_VEIL_ERROR', detail: undefined, message: String(error) };
}

/**
 * Picks the save target as the app does (the picker), then downloads into it. With `noPicker`,
 * the page behaves like a browser without the File System Access API: the Blob fallback.
 */
export async function download(
  params: DownloadParams,
  noPicker = false,
  cancelAfterBytes?: number,
  target?: SaveTargetParams,
): Promise<DownloadOutcome> {
  const controller = new AbortController();
  const scope = window as unknown as { showSaveFilePicker?: unknown };
  const picker = scope.showSaveFilePicker;
  try {
    const setup = await setupFor(params);
    if (noPicker) scope.showSaveFilePicker = undefined;
    const { sink, via: kind } = await chooseSaveTarget(
      params.fileName,
      target?.sizeBytes ?? 0,
      target?.blobLimitBytes,
    );
    scope.showSaveFilePicker = picker;
    const expected = target?.kind ?? (noPicker ? 'blob' : 'file-system-access');
    if (kind !== expected) throw new Error(`save target ${kind}`);
    let progressEvents = 0;
    let last: DownloadProgress | undefined;
    const result = await downloadObject({
      ...setup,
      sink,
      signal: controller.signal,
      onProgress: (progress) => {
        progressEvents += 1;
        last = progress;
        if (cancelAfterBytes !== undefined && progress.writtenBytes >= cancelAfterBytes) {
          controller.abort();
        }
      },
    });
    if (!last) throw new Error('no progress reported');
    return { ok: true, result, progress: last, progressEvents };
  } catch (error) {
    return failure(error);
  } finally {
    scope.showSaveFilePicker = picker;
  }
}

/** Plaintext bytes [start, end) as base64, or the failure. */
export async function range(
  params: DownloadParams,
  startBytes: number,
  endBytes: number,
): Promise<{ ok: true; base64: string } | { ok: false; code: string }> {
  try {
    const bytes = await readPlaintextRange(await setupFor(params), startBytes, endBytes);
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return { ok: true, base64: btoa(binary) };
  } catch (error) {
    const outcome = failure(error);
    return { ok: false, code: outcome.ok ? '' : outcome.code };
  }
}

/** The saved file in the origin-private file system: whether it exists, its size and SHA-256. */
export async function savedFile(
  name: string,
): Promise<{ exists: boolean; sizeBytes: number; sha256: string }> {
  const root = await navigator.storage.getDirectory();
  let file: File;
  try {
    file = await (await root.getFileHandle(name)).getFile();
  } catch {
    return { exists: false, sizeBytes: 0, sha256: '' };
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  return {
    exists: true,
    sizeBytes: file.size,
    sha256: Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join(''),
  };
}

/**
 * Downloads into the origin-private file `params.fileName` through the resumable sink
 * ([Note: download resume]); with `resumeFrom`, continues from there. Returns the outcome, the
 * bytes the file holds in order and whether the sink kept them.
 */
export async function downloadResumable(
  params: DownloadParams,
  resumeFrom?: ResumePoint,
): Promise<{ outcome: DownloadOutcome; writtenBytes: number; kept: boolean; etag?: string }> {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(params.fileName, { create: true });
  let last: DownloadProgress | undefined;
  try {
    const setup = await setupFor(params);
    const sink = await resumableFileSink(handle, {
      resumeAtBytes: resumeFrom?.writtenBytes ?? 0,
    });
    try {
      const result = await downloadObject({
        ...setup,
        sink,
        ...(resumeFrom ? { resumeFrom } : {}),
        onProgress: (progress) => (last = progress),
      });
      if (!last) throw new Error('no progress reported');
      return {
        outcome: { ok: true, result, progress: last, progressEvents: 0 },
        writtenBytes: sink.writtenBytes,
        kept: sink.kept,
        etag: result.etag,
      };
    } catch (error) {
      // Where to resume from: the sink's byte count and the ETag the engine saw.
      const etag = last?.etag;
      return {
        outcome: failure(error),
        writtenBytes: sink.writtenBytes,
        kept: sink.kept,
        ...(etag ? { etag } : {}),
      };
    }
  } catch (error) {
    return { outcome: failure(error), writtenBytes: 0, kept: false };
  }
}
