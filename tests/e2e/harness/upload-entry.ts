/**
 * Browser entry for the upload specs: the upload engine with its real worker pool, a Model A raw
 * AES keyring and an S3Client built from @aws-sdk/client-s3 against moto. Files are made in the
 * page from a deterministic pattern (patternBytes, shared with the Node side of the specs).
 * Uploads run under an id so a spec can pause, resume, cancel and await them.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { kmsApiFor } from '../../../src/aws/clients';
import type { Keyring } from '../../../src/core/keyring';
import { HsmProxyKeyring } from '../../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../../src/keyrings/kms';
import { VeilError } from '../../../src/core/errors';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { uploadS3For } from '../../../src/transfer/s3-api';
import { FileUpload, type AtRest, type UploadResult } from '../../../src/transfer/upload';
import type { UploadProgress } from '../../../src/transfer/progress';
import { indexedDbUploadStore } from '../../../src/transfer/browser/idb-store';
import type { UploadRecord } from '../../../src/transfer/upload-store';
import { WorkerPool } from '../../../src/transfer/browser/worker-pool';

/** Bytes `offset..offset+length` of the test pattern for `seed` (xorshift32 per 4-byte word). */
export function patternBytes(lengthBytes: number, seed: number): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(lengthBytes / 4));
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    words[i] = state;
  }
  return new Uint8Array(words.buffer, 0, lengthBytes).slice();
}

/** Where and how to upload; JSON-friendly. */
export interface UploadParams {
  readonly motoUrl: string;
  readonly bucket: string;
  readonly key: string;
  readonly keyBase64: string;
  readonly sizeBytes: number;
  readonly seed: number;
  /** File name and lastModified (a resume must present the same file). */
  readonly fileName?: string;
  readonly lastModifiedMs?: number;
  readonly partsInFlight?: number;
  readonly workers?: number;
  readonly protection?: 'client-side' | 'none';
  readonly maxAttempts?: number;
  readonly keepOnFailure?: boolean;
  /** Model C: wrap the data key with this KMS key (alias or ARN) at moto instead of Model A. */
  readonly kmsKeyId?: string;
  /** Model B: wrap the data key in the HSM through the proxy (the page must be on an origin it allows). */
  readonly hsm?: { readonly proxyUrl: string; readonly keyLabel: string; readonly idToken: string };
  /** Server-side encryption at rest on top. */
  readonly atRest?: AtRest;
  /** Let the SDK retry by itself too (default: 1 attempt, so the engine's retries are what runs). */
  readonly sdkMaxAttempts?: number;
}

/** What `wait` returns. */
export type Outcome =
  | { ok: true; result: UploadResult; progress: UploadProgress; progressEvents: number }
  | { ok: false; code: string; detail: string | undefined; message: string };

const KEY_NAME = 'upload-test';
const KEY_NAMESPACE = 'veil';
const fromBase64 = (text: string): Uint8Array =>
  Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

// The app's own store: resume records in IndexedDB survive the reload in the reload spec.
const store = indexedDbUploadStore();
const uploads = new Map<string, { upload: FileUpload; counter: { events: number } }>();
let pool: WorkerPool | undefined;
let nextId = 1;

function s3For(params: UploadParams): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: params.motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    maxAttempts: params.sdkMaxAttempts ?? 1,
  });
}

function poolFor(params: UploadParams): WorkerPool {
  if (pool && params.workers !== undefined && pool.size !== params.workers) {
    pool.terminate();
    pool = undefined;
  }
  pool ??= new WorkerPool(params.workers);
  return pool;
}

function fileFor(params: UploadParams): File {
  return new File([patternBytes(params.sizeBytes, params.seed)], params.fileName ?? 'test.bin', {
    lastModified: params.lastModifiedMs ?? 1_700_000_000_000,
  });
}

async function keyringFor(params: UploadParams): Promise<Keyring> {
  if (params.hsm) {
    const { proxyUrl, keyLabel, idToken } = params.hsm;
    return new HsmProxyKeyring({ proxyUrl, keyLabel, idToken: () => idToken });
  }
  if (params.kmsKeyId) {
    const kms = new KMSClient({
      region: 'us-east-1',
      endpoint: params.motoUrl,
      credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
    });
    return new KmsKeyring({
      clients: () => kmsApiFor(kms, 'us-east-1'),
      generatorKeyId: params.kmsKeyId,
    });
  }
  return RawAesKeyring.fromBytes({
    keyBytes: fromBase64(params.keyBase64),
    keyName: KEY_NAME,
    keyNamespace: KEY_NAMESPACE,
  });
}

async function setupFor(params: UploadParams) {
  return {
    s3: uploadS3For(s3For(params)),
    builder: poolFor(params),
    store,
    keyring: await keyringFor(params),
    ...(params.partsInFlight === undefined ? {} : { partsInFlight: params.partsInFlight }),
    ...(params.keepOnFailure === undefined ? {} : { keepOnFailure: params.keepOnFailure }),
    retry: { maxAttempts: params.maxAttempts ?? 4, baseDelayMs: 50, maxDelayMs: 400 },
  };
}

function track(upload: FileUpload, counter: { events: number }): string {
  const id = `u${nextId++}`;
  uploads.set(id, { upload, counter });
  return id;
}

/** Starts an upload of a pattern file; returns its id. */
export async function begin(params: UploadParams): Promise<string> {
  const setup = await setupFor(params);
  const counter = { events: 0 };
  const upload = FileUpload.start({
    ...setup,
    file: fileFor(params),
    bucket: params.bucket,
    key: params.key,
    model: params.hsm ? 'B' : params.kmsKeyId ? 'C' : 'A',
    ...(params.protection ? { protection: params.protection } : {}),
    ...(params.atRest ? { atRest: params.atRest } : {}),
    onProgress: () => (counter.events += 1),
  });
  return track(upload, counter);
}

/** Resumes the stored upload `uploadId` with a pattern file made from `params`; returns an id. */
export async function resumeStored(uploadId: string, params: UploadParams): Promise<string> {
  const record = await store.get(uploadId);
  if (!record) throw new Error(`no stored record ${uploadId}`);
  const setup = await setupFor(params);
  const counter = { events: 0 };
  const upload = FileUpload.resume(record, fileFor(params), {
    ...setup,
    onProgress: () => (counter.events += 1),
  });
  return track(upload, counter);
}

function get(id: string): FileUpload {
  const entry = uploads.get(id);
  if (!entry) throw new Error(`no upload ${id}`);
  return entry.upload;
}

/** Awaits an upload; failures come back as their VeilError code. */
export async function wait(id: string): Promise<Outcome> {
  const upload = get(id);
  try {
    const result = await upload.done;
    return {
      ok: true,
      result,
      progress: upload.progress,
      progressEvents: uploads.get(id)?.counter.events ?? 0,
    };
  } catch (error) {
    return error instanceof VeilError
      ? { ok: false, code: error.code, detail: error.detail, message: error.message }
      : { ok: false, code: 'NOT_A_VEIL_ERROR', detail: undefined, message: String(error) };
  }
}

/** Starts and awaits one upload. */
export async function uploadOnce(params: UploadParams): Promise<Outcome> {
  return wait(await begin(params));
}

export function progress(id: string): UploadProgress {
  return get(id).progress;
}

export function uploadIdOf(id: string): string | undefined {
  return get(id).uploadId;
}

export function pause(id: string): void {
  get(id).pause();
}

export function resume(id: string): void {
  get(id).resume();
}

export async function cancel(id: string): Promise<void> {
  await get(id).cancel();
}

/** The stored resume records (JSON-friendly summary). */
export async function storedRecords(): Promise<
  { uploadId: string; parts: number[]; headerBytes: number }[]
> {
  return (await store.list()).map((record: UploadRecord) => ({
    uploadId: record.uploadId,
    parts: record.parts.map((part) => part.partNumber),
    headerBytes: record.headerBytes.length,
  }));
}

/** Pings every worker of the pool; returns the worker count. */
export async function poolSize(workers?: number): Promise<number> {
  const built = poolFor({ workers } as UploadParams);
  return (await built.ping()).length;
}
