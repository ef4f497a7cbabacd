/**
 * The rewrap engine's inputs and outputs: `RewrapSetup` (the object, the keys that open it, the
 * keys to add and remove, the S3 seam, limits), `RewrapProgress`, `RewrapResult`, their guards,
 * and what the replacement object keeps of the old one (replacementParams).
 */
import type {
  CreateMultipartUploadCommandInput,
  ServerSideEncryption,
  StorageClass,
} from '@aws-sdk/client-s3';
import { SUITE_COMMIT_KEY, needs } from '../core';
import type {
  BindingRule,
  EncryptedDataKey,
  Keyring,
  KeyToRemove,
  MessageHeader,
  RewrapHeaderOptions,
} from '../core';
import { FORMAT_METADATA } from './object-params';
import type { RetryHooks, RetryPolicy } from './retry';
import type { RewrapHead, RewrapS3 } from './rewrap-s3';
import type { RewrapStore } from './rewrap-store';

/** Default UploadPartCopy requests at once. */
export const DEFAULT_COPIES_IN_FLIGHT = 4;

/** One rewrap: an object, the keys that open it, the changes, the S3 seam. */
export interface RewrapSetup {
  readonly s3: RewrapS3;
  readonly bucket: string;
  readonly key: string;
  /** Opens the stored header: any key the user holds for the object. */
  readonly openWith: Keyring;
  /** Wraps the data key for the keys to add (onEncrypt gets the data key). */
  readonly addWith?: Keyring;
  /** Keys whose EDKs are dropped (as `veil inspect` names them); the others stay verbatim. */
  readonly remove?: readonly KeyToRemove[];
  /**
   * The keys the user will still hold; the new header must open with them or the rewrap is
   * refused (REWRAP_WOULD_LOCK_OUT). Default: the user's keys in `openWith` and `addWith`
   * ([Note: rewrap lock-out check] in core/rewrap-access.ts).
   */
  readonly canOpenWith?: Keyring;
  /**
   * Makes the added EDKs inside a key service (kmsReEncrypter: KMS ReEncrypt) rather than with
   * `addWith`, which stays the fallback when it is refused ([Note: rewrap and KMS ReEncrypt] in
   * core/rewrap-reencrypt.ts).
   */
  readonly reEncrypt?: RewrapHeaderOptions['reEncrypt'];
  /** The key model badge of the new object (x-amz-meta-veil-model); the old one stays if absent. */
  readonly model?: 'A' | 'B' | 'C';
  /** Cancels: requests stop, a multipart upload is aborted, the object stays as it was. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RewrapProgress) => void;
  /** Largest new object sent in one PutObject ([Note: rewrap plan]); default 5 MiB. */
  readonly putMaxBytes?: number;
  /** Size of one UploadPartCopy ([Note: rewrap plan]); default 128 MiB. */
  readonly copyPartBytes?: number;
  /** UploadPartCopy requests at once; default 4. */
  readonly copiesInFlight?: number;
  /** Most EDKs the new header may hold; default 16. */
  readonly maxEncryptedDataKeys?: number;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
  /** The page origin, for the CORS rule in S3_UNREACHABLE; default the page's. */
  readonly origin?: string;
  /**
   * Keeps a record of a multipart rewrap so that one stopped by the network, expired
   * credentials or a killed process can go on with resumeRewrap ([Note: rewrap resume] in
   * rewrap-resume.ts); without it such a failure aborts the upload, as any other.
   */
  readonly store?: RewrapStore;
  /**
   * Moves the object ([Note: move by rewrap] in rewrap-move.ts): the new object is written at
   * this key, which must be free (If-None-Match), bound there, and the old one is deleted once
   * the new one is complete. Absent or equal to `key`: the object is rewritten in place.
   */
  readonly destinationKey?: string;
  /**
   * How the stored binding is checked against `bucket` and `key` before anything is written
   * ([Note: location binding] in core/location.ts); default 'if-present'. The new header is
   * bound to the destination either way, so a rewrap also binds an object written before
   * bindings.
   */
  readonly bindingRule?: BindingRule;
}

/** What a run of the requests needs of a setup: a new rewrap's, or a resume's. */
export type RewrapRunSetup = Pick<
  RewrapSetup,
  | 's3'
  | 'bucket'
  | 'key'
  | 'signal'
  | 'onProgress'
  | 'copiesInFlight'
  | 'retry'
  | 'retryHooks'
  | 'origin'
  | 'store'
>;

/** Where a rewrap is. */
export type RewrapState = 'opening' | 'sending' | 'copying' | 'completing' | 'done';

/** Bytes so far: through the client (received, sent) and inside S3 (copied). */
export interface RewrapProgress {
  readonly state: RewrapState;
  /** Bytes the client read from the old object (its header, and body bytes for part 1). */
  readonly receivedBytes: number;
  /** Bytes the client sent (new header and body bytes); final once known. */
  readonly sentBytes: number;
  readonly sentTotalBytes: number | undefined;
  /** Bytes S3 copied from the old object into the new one. */
  readonly copiedBytes: number;
  readonly copyTotalBytes: number | undefined;
}

/** A finished rewrap. */
export interface RewrapResult {
  readonly bucket: string;
  readonly key: string;
  /** 'copy': an unencrypted object moved with CopyObject ([Note: move by rewrap]). */
  readonly method: 'put' | 'multipart' | 'copy';
  readonly partCount: number;
  /** The new object's ETag, and the old one's. */
  readonly etag: string | undefined;
  readonly oldEtag: string;
  /** The new object's version id, on a versioned bucket. */
  readonly versionId?: string;
  /**
   * The version the rewrap replaced, when the bucket keeps it (versioning enabled): it still
   * holds the old header, so a removed key still opens it until it is deleted
   * (deletePreviousVersion; [Note: rewrap and versions] in rewrap-versions.ts).
   */
  readonly previousVersionId?: string;
  readonly objectBytes: number;
  readonly oldObjectBytes: number;
  /** The new header (authentic: written here). */
  readonly header?: MessageHeader;
  readonly removed: readonly EncryptedDataKey[];
  readonly added: readonly EncryptedDataKey[];
  /** What proved the user can open the new object ([Note: rewrap lock-out check]). */
  readonly stillOpensWith?: 'kept' | 'openWith' | 'addWith' | 'canOpenWith';
  /** What made the added EDKs: `reEncrypt` (inside KMS) or `addWith`. */
  readonly addedBy?: 'reEncrypt' | 'addWith';
  readonly receivedBytes: number;
  readonly sentBytes: number;
  readonly copiedBytes: number;
  /**
   * For a move: the key the object had, and whether that object was deleted (false when it
   * changed after it was read, so both are kept: [Note: move by rewrap]).
   */
  readonly movedFrom?: { readonly key: string; readonly deleted: boolean };
}

/**
 * Checks a setup's shape.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE naming the field.
 */
export function checkRewrapSetup(setup: RewrapSetup): void {
  // Precondition: an S3 seam, an object, a keyring to open it, well-formed options.
  needs(typeof setup === 'object' && setup !== null, 'BAD_ARGUMENT', 'setup');
  needs(typeof setup.s3?.headObject === 'function', 'BAD_ARGUMENT', 's3');
  needs(typeof setup.bucket === 'string' && setup.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
  needs(typeof setup.key === 'string' && setup.key.length > 0, 'BAD_ARGUMENT', 'key');
  needs(typeof setup.openWith?.onDecrypt === 'function', 'BAD_ARGUMENT', 'openWith');
  needs(
    setup.addWith === undefined || typeof setup.addWith.onEncrypt === 'function',
    'BAD_ARGUMENT',
    'addWith',
  );
  needs(
    setup.canOpenWith === undefined || typeof setup.canOpenWith.onDecrypt === 'function',
    'BAD_ARGUMENT',
    'canOpenWith',
  );
  needs(
    setup.reEncrypt === undefined || typeof setup.reEncrypt.reEncrypt === 'function',
    'BAD_ARGUMENT',
    'reEncrypt',
  );
  needs(
    setup.model === undefined || ['A', 'B', 'C'].includes(setup.model),
    'BAD_ARGUMENT',
    'model',
  );
  needs(
    setup.destinationKey === undefined ||
      (typeof setup.destinationKey === 'string' && setup.destinationKey.length > 0),
    'BAD_ARGUMENT',
    'destinationKey',
  );
  const inFlight = setup.copiesInFlight ?? DEFAULT_COPIES_IN_FLIGHT;
  needs(Number.isInteger(inFlight) && inFlight >= 1, 'OUT_OF_RANGE', 'copiesInFlight');
}

/** The key the new object is written at: the destination of a move, else the object's own. */
export function targetKey(setup: Pick<RewrapSetup, 'key' | 'destinationKey'>): string {
  return setup.destinationKey ?? setup.key;
}

/** True when the rewrap moves the object to another key. */
export function isMove(setup: Pick<RewrapSetup, 'key' | 'destinationKey'>): boolean {
  return targetKey(setup) !== setup.key;
}

/**
 * The write condition of the new object: in place, only over the version that was read
 * (If-Match); for a move, only where nothing is (If-None-Match: *), so a move never overwrites.
 */
export function writeCondition(
  setup: Pick<RewrapSetup, 'key' | 'destinationKey'>,
  sourceEtag: string,
): { IfMatch: string } | { IfNoneMatch: '*' } {
  return isMove(setup) ? { IfNoneMatch: '*' } : { IfMatch: sourceEtag };
}

/** Content headers, metadata, SSE and storage class of the replacement object. */
export type ReplacementParams = Pick<
  CreateMultipartUploadCommandInput,
  | 'ContentType'
  | 'CacheControl'
  | 'ContentDisposition'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'Metadata'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
  | 'BucketKeyEnabled'
  | 'StorageClass'
>;

/**
 * What the new object keeps of the old: its content headers, user metadata and SSE-at-rest
 * settings (the same SSE type and KMS key, so a rewrap never weakens encryption at rest) and
 * storage class. The metadata's format names the new header ('esdk-v2-0478-framed' for 0x0478
 * framed, else what it was) and the model badge is `model` when given.
 */
export function replacementParams(
  head: RewrapHead,
  header: MessageHeader,
  model: 'A' | 'B' | 'C' | undefined,
): ReplacementParams {
  const metadata: Record<string, string> = { ...(head.metadata ?? {}) };
  if (header.suiteId === SUITE_COMMIT_KEY && header.contentType === 'framed') {
    metadata['veil-format'] = FORMAT_METADATA.encrypted;
  }
  if (model) metadata['veil-model'] = model;
  const sse: ServerSideEncryption | undefined = head.serverSideEncryption;
  const storageClass: StorageClass | undefined = head.storageClass;
  return {
    ContentType: head.contentType ?? 'application/octet-stream',
    Metadata: metadata,
    ...(head.cacheControl ? { CacheControl: head.cacheControl } : {}),
    ...(head.contentDisposition ? { ContentDisposition: head.contentDisposition } : {}),
    ...(head.contentEncoding ? { ContentEncoding: head.contentEncoding } : {}),
    ...(head.contentLanguage ? { ContentLanguage: head.contentLanguage } : {}),
    ...(sse ? { ServerSideEncryption: sse } : {}),
    ...(sse && sse !== 'AES256' && head.sseKmsKeyId ? { SSEKMSKeyId: head.sseKmsKeyId } : {}),
    ...(sse && sse !== 'AES256' && head.bucketKeyEnabled !== undefined
      ? { BucketKeyEnabled: head.bucketKeyEnabled }
      : {}),
    ...(storageClass && storageClass !== 'STANDARD' ? { StorageClass: storageClass } : {}),
  };
}
