/**
 * What the upload engine takes and gives: the setup every upload needs, a new upload's options,
 * the result, the engine's defaults, and the options of a new message for a stored upload that
 * must start over ([Note: resume digests] in part-digest.ts). upload.ts re-exports the public part.
 */
import type { ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { parseHeaderBytes, type EncryptionContext, type Keyring } from '../core';
import type { AtRest } from './object-params';
import type { UploadProgress } from './progress';
import type { RetryHooks, RetryPolicy } from './retry';
import type { UploadS3 } from './s3-api';
import type { UploadRecord, UploadStore } from './upload-store';
import type { PartBuilder } from './part-builder';

/** Parts in flight (being built or uploaded) by default. */
export const DEFAULT_PARTS_IN_FLIGHT = 4;

/** The checksum on Create, every UploadPart and PutObject. */
export const CHECKSUM_ALGORITHM: ChecksumAlgorithm = 'CRC32';

/** What every upload needs. */
export interface UploadSetup {
  readonly s3: UploadS3;
  /** Builds parts: a WorkerPool in the browser. */
  readonly builder: PartBuilder;
  /** Keeps resume records; without it an upload cannot resume after a reload. */
  readonly store?: UploadStore;
  /** Wraps (new upload) or unwraps (resume) the data key; required when encrypting. */
  readonly keyring?: Keyring;
  /**
   * Wraps the data key of a new message when a resumed upload must start over ([Note: resume
   * digests] in part-digest.ts); default `keyring`, which must then be able to encrypt.
   */
  readonly startOverKeyring?: Keyring;
  /**
   * Called with a new multipart upload's id before its resume record is written or any part is
   * sent; the app takes the upload's lock here, so no other tab resumes or discards a live
   * upload. A rejection fails the upload.
   */
  readonly onUploadCreated?: (uploadId: string) => Promise<void>;
  /** Parts built or uploading at once (memory bound), 1..32; default 4. */
  readonly partsInFlight?: number;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
  /** Keep the multipart upload on a permanent failure so it can be resumed (default: abort). */
  readonly keepOnFailure?: boolean;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** The page origin, for the CORS rule in UPLOAD_CORS_HEADERS; default location.origin. */
  readonly origin?: string;
  /** Clock for progress, in milliseconds. */
  readonly nowMs?: () => number;
}

/** A new upload. */
export interface UploadOptions extends UploadSetup {
  readonly file: File;
  readonly bucket: string;
  readonly key: string;
  /** 'client-side' (default): an ESDK message; 'none': the file as it is (comparison only). */
  readonly protection?: 'client-side' | 'none';
  /** Which key model wrapped the data key, for the object's metadata (A, B or C). */
  readonly model?: 'A' | 'B' | 'C';
  /** Authenticated and stored in clear in the header: no file names or secrets. */
  readonly encryptionContext?: EncryptionContext;
  /** Plaintext bytes per frame; default 512 KiB. */
  readonly frameBytes?: number;
  /** Plaintext bytes per part to start from; at least 5 MiB; default 8 MiB. */
  readonly partBytes?: number;
  readonly atRest?: AtRest;
}

/** A finished upload. */
export interface UploadResult {
  readonly bucket: string;
  readonly key: string;
  readonly objectBytes: number;
  readonly partCount: number;
  /** 'put' for one PutObject, 'multipart' otherwise. */
  readonly method: 'put' | 'multipart';
  readonly etag: string | undefined;
}

/**
 * The options of a new message for the object of the stored upload `record`, uploading `file`
 * with `setup` ([Note: resume digests] in part-digest.ts): same bucket, key, protection, frame
 * and part sizes, encryption context and object options, the data key wrapped by
 * `setup.startOverKeyring` (default `setup.keyring`). Undefined when no new message can be made:
 * a record of an older Veil without its object options, or an encrypted one without a keyring.
 */
export function startOverOptions(
  record: UploadRecord,
  setup: UploadSetup,
  file: File,
): UploadOptions | undefined {
  const keyring = setup.startOverKeyring ?? setup.keyring;
  const objectOptions = record.objectOptions;
  if (!objectOptions || (record.protection === 'client-side' && !keyring)) return undefined;
  const encrypted = record.protection === 'client-side';
  const header = encrypted ? parseHeaderBytes(record.headerBytes) : undefined;
  return {
    ...setup,
    ...(keyring ? { keyring } : {}),
    file,
    bucket: record.bucket,
    key: record.key,
    protection: encrypted ? 'client-side' : 'none',
    frameBytes: record.frameBytes,
    partBytes: record.framesPerPart * record.frameBytes,
    ...(header ? { encryptionContext: header.encryptionContext } : {}),
    ...(objectOptions.model ? { model: objectOptions.model } : {}),
    ...(objectOptions.atRest ? { atRest: objectOptions.atRest } : {}),
  };
}
