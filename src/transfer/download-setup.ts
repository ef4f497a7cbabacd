/**
 * What a download is given and what it gives back: the setup (the narrow seams DownloadS3,
 * FrameDecryptor, a Keyring), the DownloadSink it writes to, what opening an object learned,
 * and the result. The guards on a setup live here, so every entry checks the same way.
 */
import { needs } from '../core';
import type { BindingRule, Keyring, MessageHeader } from '../core';
import type { BodyLayout } from './download-plan';
import type { DownloadProgress } from './download-progress';
import type { DownloadS3 } from './download-s3';
import type { FrameDecryptor } from './download-workers';
import type { RetryHooks, RetryPolicy } from './retry';

/** Object bytes per ranged GET by default (16 frames of 512 KiB). */
export const DEFAULT_RANGE_BYTES = 8 * 1024 * 1024;
/** Ranged GETs fetched or decrypted at once by default. */
export const DEFAULT_RANGES_IN_FLIGHT = 4;
/** First header range fetched; grown until the header parses. */
export const FIRST_HEADER_BYTES = 4096;
/** Largest ranged GET a setup may ask for. */
const MAX_RANGE_BYTES = 64 * 1024 * 1024;
/** Most ranged GETs a setup may keep in flight. */
const MAX_RANGES_IN_FLIGHT = 32;

/** Which object to read and how. */
export interface DownloadSetup {
  readonly s3: DownloadS3;
  readonly bucket: string;
  readonly key: string;
  /**
   * Opens the data key: Model A raw AES, B HSM proxy, C KMS, or a multi-keyring of several
   * (createMultiKeyring({ children }) tries each). Not needed for plain objects.
   */
  readonly keyring?: Keyring;
  /**
   * How the object's binding to `bucket` and `key` is checked ([Note: location binding]):
   * 'if-present' (default) checks bound objects and lets unbound ones through; 'required' (a
   * private-names location) also refuses unbound, unencrypted and non-ESDK objects.
   */
  readonly bindingRule?: BindingRule;
  /** Decrypts frame batches: a WorkerPool in the browser; default in process. */
  readonly decryptor?: FrameDecryptor;
  /** Object bytes per ranged GET (rounded to whole frames), 64 KiB..64 MiB; default 8 MiB. */
  readonly rangeBytes?: number;
  /** Ranged GETs in flight (memory bound), 1..32; default 4. */
  readonly rangesInFlight?: number;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
  /** Cancels the download: requests stop, the sink is aborted, DOWNLOAD_CANCELLED. */
  readonly signal?: AbortSignal;
  /**
   * Continue an interrupted download ([Note: download resume] in browser/download-resume.ts):
   * the sink already holds the first `writtenBytes` of the output, from an object whose ETag was
   * `etag`. Only 'plain' and 'esdk-framed' objects can continue; the ETag is checked again (If-Match).
   */
  readonly resumeFrom?: ResumePoint;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** The page origin, for the CORS rule in errors; default location.origin. */
  readonly origin?: string;
  /** Clock for progress, in milliseconds. */
  readonly nowMs?: () => number;
}

/** The download's output. Writes are awaited in order; abort discards what was written. */
export interface DownloadSink {
  /** Writes `chunk`; the sink may take (transfer) its buffer, so do not use it afterwards. */
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** Where an interrupted download stopped: output bytes written in order, and the object's ETag. */
export interface ResumePoint {
  readonly writtenBytes: number;
  readonly etag: string;
}

/** How an object is read. */
export type ObjectKind = 'plain' | 'esdk-framed' | 'esdk-stream';

/** What openObject learned. */
export interface OpenedObject {
  readonly kind: ObjectKind;
  readonly objectBytes: number;
  readonly etag: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** The parsed header (authenticated for 'esdk-framed'); absent for plain objects. */
  readonly header?: MessageHeader;
  /** The frame layout ('esdk-framed' only). */
  readonly layout?: BodyLayout;
  /** Plaintext size when known before decrypting (plain and 'esdk-framed'). */
  readonly plaintextBytes: number | undefined;
  /** The derived content key ('esdk-framed' only; non-extractable). */
  readonly contentKey?: CryptoKey;
}

/** A finished download. */
export interface DownloadResult {
  readonly kind: ObjectKind;
  /** 'plain' objects were saved as they are: they were not encrypted by Veil or an ESDK. */
  readonly label: 'decrypted' | 'plain';
  readonly objectBytes: number;
  /** Bytes the save target holds at the end (with a resume: including those written before). */
  readonly writtenBytes: number;
  /** With a resume: the bytes that were already written, which this run skipped. */
  readonly resumedFromBytes?: number;
  readonly etag: string;
  /** The algorithm suite of an ESDK object. */
  readonly suiteId?: number;
}

/**
 * Checks a setup: an S3 adapter, a bucket and a key, bounded ranges, a well-formed resume point.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE naming the option.
 */
export function checkSetup(setup: DownloadSetup): void {
  // Precondition: an S3 adapter, a bucket and a key; bounded ranges.
  needs(typeof setup?.s3?.getRange === 'function', 'BAD_ARGUMENT', 's3');
  needs(typeof setup.bucket === 'string' && setup.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
  needs(typeof setup.key === 'string' && setup.key.length > 0, 'BAD_ARGUMENT', 'key');
  const rangeBytes = setup.rangeBytes ?? DEFAULT_RANGE_BYTES;
  needs(
    Number.isSafeInteger(rangeBytes) && rangeBytes >= 1 && rangeBytes <= MAX_RANGE_BYTES,
    'OUT_OF_RANGE',
    'rangeBytes',
  );
  const inFlight = setup.rangesInFlight ?? DEFAULT_RANGES_IN_FLIGHT;
  needs(
    Number.isInteger(inFlight) && inFlight >= 1 && inFlight <= MAX_RANGES_IN_FLIGHT,
    'OUT_OF_RANGE',
    'rangesInFlight',
  );
  // Precondition: a resume point names a non-negative byte count and an ETag.
  needs(
    setup.resumeFrom === undefined ||
      (Number.isSafeInteger(setup.resumeFrom.writtenBytes) &&
        setup.resumeFrom.writtenBytes >= 0 &&
        typeof setup.resumeFrom.etag === 'string' &&
        setup.resumeFrom.etag.length > 0),
    'BAD_ARGUMENT',
    'resumeFrom',
  );
}
