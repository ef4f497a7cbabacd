/**
 * What a resumable upload keeps between page loads, behind a small interface: the app stores it
 * in IndexedDB; tests and pages without storage use MemoryUploadStore.
 *
 * [Note: no secret in the resume record] The record holds the upload id, bucket and key, the
 * message header (whose EDKs hold the data key only in wrapped form), the plan (frame length,
 * frames per part), the file's identity and the finished parts with their ETags and checksums.
 * Resuming unwraps the data key again through the keyring, so nothing secret is stored. The
 * part digests are keyed ([Note: resume digests] in part-digest.ts): they confirm no guess of the
 * plaintext to whoever reads the record.
 */
import { VeilError, toHex, type FinalFrameForm } from '../core';
import type { AtRest } from './object-params';

/** A finished part, as Complete needs it. */
export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
  /** Base64 CRC32 of the part as S3 computed it, when the upload uses checksums. */
  readonly checksumCrc32?: string;
}

/** The keyed digest of a part's plaintext, recorded before the part was first sent. */
export interface StoredPartDigest {
  readonly partNumber: number;
  /** Base64 HMAC-SHA-256 ([Note: resume digests] in part-digest.ts). */
  readonly digest: string;
}

/** What a new message needs when this upload must start over: the object's options. */
export interface StoredObjectOptions {
  readonly model?: 'A' | 'B' | 'C';
  readonly atRest?: AtRest;
}

/** Identifies the file an upload was started with. */
export interface FileIdentity {
  readonly name: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
  /** SHA-256 (hex) of the first IDENTITY_PREFIX_BYTES of the file. */
  readonly prefixSha256: string;
}

/** Bytes hashed into FileIdentity.prefixSha256: the first 8 MiB (the first part's size). */
export const IDENTITY_PREFIX_BYTES = 8 * 1024 * 1024;

/** One unfinished multipart upload. */
export interface UploadRecord {
  /** Store key: the S3 upload id. */
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** 'client-side' (an ESDK message) or 'none' (the plain server-side modes). */
  readonly protection: 'client-side' | 'none';
  /** The serialized header (empty when not encrypted). */
  readonly headerBytes: Uint8Array;
  readonly frameBytes: number;
  readonly framesPerPart: number;
  readonly partCount: number;
  readonly file: FileIdentity;
  readonly parts: readonly StoredPart[];
  /**
   * The digest of every part ever sent, written before the part's first byte leaves the page.
   * Absent in records written before digests existed: such an upload cannot be verified and
   * starts over ([Note: resume digests]).
   */
  readonly partDigests?: readonly StoredPartDigest[];
  /** How the message ends (UploadPlan.finalFrameForm); absent in older records. */
  readonly finalFrameForm?: FinalFrameForm;
  /** The object's options, for a new message if this one is abandoned; absent in older records. */
  readonly objectOptions?: StoredObjectOptions;
  readonly createdAtMs: number;
}

/** Where resume records live. */
export interface UploadStore {
  list(): Promise<UploadRecord[]>;
  get(id: string): Promise<UploadRecord | undefined>;
  put(record: UploadRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

/** An in-memory store (copies on the way in and out, as IndexedDB does). */
export class MemoryUploadStore implements UploadStore {
  readonly #records = new Map<string, UploadRecord>();

  list(): Promise<UploadRecord[]> {
    return Promise.resolve([...this.#records.values()].map((record) => structuredClone(record)));
  }

  get(id: string): Promise<UploadRecord | undefined> {
    const record = this.#records.get(id);
    return Promise.resolve(record ? structuredClone(record) : undefined);
  }

  put(record: UploadRecord): Promise<void> {
    this.#records.set(record.id, structuredClone(record));
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.#records.delete(id);
    return Promise.resolve();
  }
}

/**
 * The identity of `file`: name, size, modification time and a hash of its first 8 MiB.
 * @throws VeilError UPLOAD_FILE_UNREADABLE when the file cannot be read.
 */
export async function fileIdentity(file: File): Promise<FileIdentity> {
  let prefix: ArrayBuffer;
  try {
    prefix = await file.slice(0, IDENTITY_PREFIX_BYTES).arrayBuffer();
  } catch (cause) {
    throw new VeilError('UPLOAD_FILE_UNREADABLE', undefined, { cause });
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', prefix));
  return {
    name: file.name,
    sizeBytes: file.size,
    lastModifiedMs: file.lastModified,
    prefixSha256: toHex(digest),
  };
}

/** True when two identities name the same file. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return (
    a.name === b.name &&
    a.sizeBytes === b.sizeBytes &&
    a.lastModifiedMs === b.lastModifiedMs &&
    a.prefixSha256 === b.prefixSha256
  );
}
