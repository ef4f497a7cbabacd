/**
 * Browser entry for the wire audit and the fault specs: the upload and download engines with
 * their real worker pool, Models A, B and C, against endpoints the spec chooses (a recording or
 * fault-injecting proxy in front of moto and the HSM proxy). Files hold known random content: the
 * AES-256-CTR keystream of a key the spec picks (randomContent, also computed in Node). Every data
 * key a keyring hands to the engine is recorded (RecordingKeyring) so the spec can look for it on
 * the wire. Credentials can be short-lived and refreshing (refreshingProvider), to test expiry.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { kmsApiFor } from '../../../src/aws/clients';
import { refreshingProvider } from '../../../src/aws/credentials';
import { VeilError } from '../../../src/core/errors';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  Keyring,
} from '../../../src/core/keyring';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { HsmProxyKeyring } from '../../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../../src/keyrings/kms';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { downloadObject, type DownloadResult } from '../../../src/transfer/download';
import { downloadS3For } from '../../../src/transfer/download-s3';
import { sinkFromWritable } from '../../../src/transfer/browser/download-sink';
import { indexedDbUploadStore } from '../../../src/transfer/browser/idb-store';
import type { UploadProgress } from '../../../src/transfer/progress';
import { uploadS3For } from '../../../src/transfer/s3-api';
import { FileUpload, type UploadResult } from '../../../src/transfer/upload';
import { WorkerPool } from '../../../src/transfer/browser/worker-pool';

/** Short-lived credentials: each set expires `lifetimeMs` after it is issued. */
export interface ExpiringCredentials {
  readonly lifetimeMs: number;
  /** refreshingProvider's margin: a new set is fetched this long before expiry. */
  readonly marginMs: number;
}

/** Where and how to upload; JSON-friendly. */
export interface NetUploadParams {
  /** S3 and KMS endpoint (moto, or a proxy in front of it). */
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  /** The file: `sizeBytes` of the AES-CTR keystream of `contentKeyHex` (randomContent). */
  readonly sizeBytes: number;
  readonly contentKeyHex: string;
  readonly model: 'A' | 'B' | 'C';
  /** Model A: the raw AES wrapping key. */
  readonly rawKeyBase64?: string;
  /**
   * Model B: the HSM proxy (or a proxy in front of it), key label and ID token. With Model A, an
   * HSM key wraps the raw key's data key too (a multi-keyring), so the data key is sent to it.
   */
  readonly hsm?: { readonly proxyUrl: string; readonly keyLabel: string; readonly idToken: string };
  /** Model C: the KMS key id or alias. */
  readonly kmsKeyId?: string;
  readonly protection?: 'client-side' | 'none';
  readonly partBytes?: number;
  readonly frameBytes?: number;
  readonly partsInFlight?: number;
  readonly workers?: number;
  readonly retry?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly keepOnFailure?: boolean;
  /** Default: fixed local keys. */
  readonly expiring?: ExpiringCredentials;
}

/** What `wait` returns. */
export type NetOutcome =
  | { ok: true; result: UploadResult; progress: UploadProgress }
  | { ok: false; code: string; detail: string | undefined; message: string };

const LOCAL: AwsCredentialIdentity = {
  accessKeyId: 'veil-local',
  secretAccessKey: 'veil-local-secret',
};
const RAW_KEY_NAME = 'audit-key';
const RAW_KEY_NAMESPACE = 'veil';

const fromBase64 = (text: string): Uint8Array =>
  Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
const toBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
};
const fromHex = (hex: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array((hex.match(/../g) ?? []).map((pair) => parseInt(pair, 16)));

/**
 * `sizeBytes` of random-looking content: AES-256-CTR of zeros under `keyHex` with a zero counter
 * block (64-bit counter), the same as Node's aes-256-ctr with a zero IV.
 */
export async function randomContent(
  sizeBytes: number,
  keyHex: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', fromHex(keyHex), 'AES-CTR', false, ['encrypt']);
  const stream = await crypto.subtle.encrypt(
    { name: 'AES-CTR', counter: new Uint8Array(16), length: 64 },
    key,
    new Uint8Array(sizeBytes),
  );
  return new Uint8Array(stream);
}

/** Copies of every plaintext data key a wrapped keyring handed out, base64. */
const recordedDataKeys: string[] = [];

/** Wraps a keyring and keeps a copy of each data key it returns (test instrumentation only). */
class RecordingKeyring implements Keyring {
  readonly #inner: Keyring;
  constructor(inner: Keyring) {
    this.#inner = inner;
  }
  async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
    const result = await this.#inner.onEncrypt(request);
    recordedDataKeys.push(toBase64(result.dataKey));
    return result;
  }
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const dataKey = await this.#inner.onDecrypt(request);
    if (dataKey) recordedDataKeys.push(toBase64(dataKey));
    return dataKey;
  }
}

/** The data keys recorded so far (and forgets them). */
export function takeDataKeys(): string[] {
  return recordedDataKeys.splice(0);
}

let pool: WorkerPool | undefined;
function poolOf(workers?: number): WorkerPool {
  if (pool && workers !== undefined && pool.size !== workers) {
    pool.terminate();
    pool = undefined;
  }
  pool ??= new WorkerPool(workers);
  return pool;
}

/** Credentials named after their expiry, so a proxy can tell when they lapse (see the spec). */
export function expiringKeyId(expiresAtMs: number, generation: number): string {
  return `VEILEXP${expiresAtMs}G${generation}`;
}

let generation = 0;
/** How many credential sets the expiring provider has issued in this page. */
export function credentialGenerations(): number {
  return generation;
}

function credentialsFor(params: { expiring?: ExpiringCredentials }) {
  const expiring = params.expiring;
  if (!expiring) return LOCAL;
  return refreshingProvider(
    () => {
      generation += 1;
      const expiresAtMs = Date.now() + expiring.lifetimeMs;
      return Promise.resolve({
        accessKeyId: expiringKeyId(expiresAtMs, generation),
        secretAccessKey: 'veil-local-secret',
        sessionToken: `session-${generation}`,
        expiration: new Date(expiresAtMs),
      });
    },
    { marginMs: expiring.marginMs, retryDelayMs: 0 },
  );
}

function s3For(params: NetUploadParams | NetDownloadParams): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: params.endpoint,
    forcePathStyle: true,
    credentials: credentialsFor(params),
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    // One SDK attempt: the engine's retries are what runs.
    maxAttempts: 1,
  });
}

async function keyringFor(params: {
  endpoint: string;
  model: 'A' | 'B' | 'C';
  rawKeyBase64?: string;
  hsm?: { proxyUrl: string; keyLabel?: string; idToken: string };
  kmsKeyId?: string;
}): Promise<Keyring> {
  if (params.model === 'B') {
    if (!params.hsm) throw new Error('Model B needs hsm');
    const { proxyUrl, keyLabel, idToken } = params.hsm;
    return new RecordingKeyring(
      new HsmProxyKeyring({ proxyUrl, ...(keyLabel ? { keyLabel } : {}), idToken: () => idToken }),
    );
  }
  if (params.model === 'C') {
    const kms = new KMSClient({
      region: 'us-east-1',
      endpoint: params.endpoint,
      credentials: LOCAL,
    });
    return new RecordingKeyring(
      new KmsKeyring({
        clients: () => kmsApiFor(kms, 'us-east-1'),
        ...(params.kmsKeyId ? { generatorKeyId: params.kmsKeyId } : { discovery: true }),
      }),
    );
  }
  if (!params.rawKeyBase64) throw new Error('Model A needs rawKeyBase64');
  const raw = await RawAesKeyring.fromBytes({
    keyBytes: fromBase64(params.rawKeyBase64),
    keyName: RAW_KEY_NAME,
    keyNamespace: RAW_KEY_NAMESPACE,
  });
  if (!params.hsm) return new RecordingKeyring(raw);
  const { proxyUrl, keyLabel, idToken } = params.hsm;
  const hsm = new HsmProxyKeyring({
    proxyUrl,
    ...(keyLabel ? { keyLabel } : {}),
    idToken: () => idToken,
  });
  return new RecordingKeyring(createMultiKeyring({ generator: raw, children: [hsm] }));
}

const store = indexedDbUploadStore();
const uploads = new Map<string, FileUpload>();
let nextId = 1;

async function fileFor(params: NetUploadParams): Promise<File> {
  return new File([await randomContent(params.sizeBytes, params.contentKeyHex)], 'audit.bin', {
    lastModified: 1_700_000_000_000,
  });
}

async function setupFor(params: NetUploadParams) {
  return {
    s3: uploadS3For(s3For(params)),
    builder: poolOf(params.workers),
    store,
    keyring: await keyringFor(params),
    ...(params.partsInFlight === undefined ? {} : { partsInFlight: params.partsInFlight }),
    ...(params.keepOnFailure === undefined ? {} : { keepOnFailure: params.keepOnFailure }),
    retry: params.retry ?? { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 400 },
  };
}

/** Starts an upload; returns its id. */
export async function begin(params: NetUploadParams): Promise<string> {
  const upload = FileUpload.start({
    ...(await setupFor(params)),
    file: await fileFor(params),
    bucket: params.bucket,
    key: params.key,
    model: params.model,
    ...(params.protection ? { protection: params.protection } : {}),
    ...(params.partBytes ? { partBytes: params.partBytes } : {}),
    ...(params.frameBytes ? { frameBytes: params.frameBytes } : {}),
  });
  const id = `n${nextId++}`;
  uploads.set(id, upload);
  return id;
}

/** Resumes the stored upload `uploadId` (after a reload) with the same file; returns an id. */
export async function resumeStored(uploadId: string, params: NetUploadParams): Promise<string> {
  const record = await store.get(uploadId);
  if (!record) throw new Error(`no stored record ${uploadId}`);
  const upload = FileUpload.resume(record, await fileFor(params), await setupFor(params));
  const id = `n${nextId++}`;
  uploads.set(id, upload);
  return id;
}

function uploadOf(id: string): FileUpload {
  const upload = uploads.get(id);
  if (!upload) throw new Error(`no upload ${id}`);
  return upload;
}

function failure(error: unknown): {
  ok: false;
  code: string;
  detail: string | undefined;
  message: string;
} {
  return error instanceof VeilError
    ? { ok: false, code: error.code, detail: error.detail, message: error.message }
    : { ok: false, code: 'NOT_A_VEIL_ERROR', detail: undefined, message: String(error) };
}

/** Awaits an upload; a failure comes back as its VeilError code. */
export async function wait(id: string): Promise<NetOutcome> {
  const upload = uploadOf(id);
  try {
    return { ok: true, result: await upload.done, progress: upload.progress };
  } catch (error) {
    return failure(error);
  }
}

/** Starts and awaits one upload. */
export async function uploadOnce(params: NetUploadParams): Promise<NetOutcome> {
  try {
    return await wait(await begin(params));
  } catch (error) {
    return failure(error);
  }
}

export function progress(id: string): UploadProgress {
  return uploadOf(id).progress;
}

export function uploadIdOf(id: string): string | undefined {
  return uploadOf(id).uploadId;
}

/** Upload ids of the stored resume records. */
export async function storedUploads(): Promise<string[]> {
  return (await store.list()).map((record) => record.uploadId);
}

/** What to download; JSON-friendly. */
export interface NetDownloadParams {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  /** Saved under this name in the origin-private file system. */
  readonly fileName: string;
  readonly model: 'A' | 'B' | 'C';
  readonly rawKeyBase64?: string;
  readonly hsm?: { readonly proxyUrl: string; readonly idToken: string };
  readonly rangeBytes?: number;
  readonly rangesInFlight?: number;
  readonly retry?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly expiring?: ExpiringCredentials;
}

export type NetDownloadOutcome =
  | { ok: true; result: DownloadResult }
  | { ok: false; code: string; detail: string | undefined; message: string };

let downloadWrittenBytes = 0;

/** Bytes the running (or last) download has written so far. */
export function downloadProgress(): number {
  return downloadWrittenBytes;
}

/**
 * Downloads into an origin-private file through FileSystemFileHandle.createWritable(), the File
 * System Access path the app's save picker uses (Chromium commits it only on close).
 */
export async function download(params: NetDownloadParams): Promise<NetDownloadOutcome> {
  downloadWrittenBytes = 0;
  try {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(params.fileName, { create: true });
    const sink = sinkFromWritable(await handle.createWritable());
    const result = await downloadObject({
      s3: downloadS3For(s3For(params)),
      bucket: params.bucket,
      key: params.key,
      decryptor: poolOf(),
      keyring: await keyringFor(params),
      sink,
      ...(params.rangeBytes ? { rangeBytes: params.rangeBytes } : {}),
      ...(params.rangesInFlight ? { rangesInFlight: params.rangesInFlight } : {}),
      retry: params.retry ?? { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 400 },
      onProgress: (progress) => (downloadWrittenBytes = progress.writtenBytes),
    });
    return { ok: true, result };
  } catch (error) {
    return failure(error);
  }
}

/** The saved file: whether it exists, its size and SHA-256 (hex). */
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

/** A dedicated worker fetches `url` (a control: the audit must see worker traffic). */
export function workerFetch(url: string): Promise<number> {
  const source = `fetch(${JSON.stringify(url)}, { method: 'POST', body: 'from-a-worker' })
    .then((r) => postMessage(r.status), () => postMessage(-1));`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<number>) => {
      worker.terminate();
      resolve(event.data);
    };
  });
}
