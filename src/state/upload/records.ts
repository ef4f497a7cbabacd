/**
 * Unfinished uploads from earlier sessions, as Upload lists them: the file, how far it got, when
 * it started, and which key model wrapped its data key (read from the stored header's encrypted
 * data keys, since the record keeps no secret and no model of its own: [Note: no secret in the
 * resume record]). Pure.
 */
import { parseHeaderBytes } from '../../core/message';
import { HSM_PROVIDER_ID } from '../../keyrings/hsm-proxy';
import { keysNeeded } from '../../transfer/download';
import type { UploadRecord } from '../../transfer/upload-store';
import type { ModelId } from '../shared/protection';

/** The key that can resume an upload: its model and name (vault key, HSM label, KMS key). */
export interface RecordKey {
  readonly model: ModelId;
  readonly keyName: string;
}

/** What the list shows of a record. */
export interface RecordSummary {
  readonly id: string;
  readonly fileName: string;
  readonly objectKey: string;
  readonly sizeBytes: number;
  readonly partsDone: number;
  readonly partCount: number;
  /** 0..1, by parts. */
  readonly fraction: number;
  readonly createdAtMs: number;
  /** False for the plain server-side modes (nothing to unwrap). */
  readonly encrypted: boolean;
  /** The keys any of which unwraps the data key again (empty when not encrypted). */
  readonly keys: readonly RecordKey[];
}

function modelOfProvider(providerId: string): ModelId {
  if (providerId === 'aws-kms') return 'C';
  if (providerId === HSM_PROVIDER_ID) return 'B';
  return 'A';
}

/** The keys of a record's header; [] when it is not encrypted or the header does not parse. */
export function recordKeys(record: UploadRecord): RecordKey[] {
  if (record.protection !== 'client-side') return [];
  try {
    return keysNeeded(parseHeaderBytes(record.headerBytes)).map((key) => ({
      model: modelOfProvider(key.providerId),
      keyName: key.keyName,
    }));
  } catch {
    return [];
  }
}

/** The list entry of a record. */
export function summarizeRecord(record: UploadRecord): RecordSummary {
  const partsDone = record.parts.length;
  return {
    id: record.id,
    fileName: record.file.name,
    objectKey: record.key,
    sizeBytes: record.file.sizeBytes,
    partsDone,
    partCount: record.partCount,
    fraction: record.partCount > 0 ? Math.min(1, partsDone / record.partCount) : 0,
    createdAtMs: record.createdAtMs,
    encrypted: record.protection === 'client-side',
    keys: recordKeys(record),
  };
}

/** What stops a resume now, given what this session has; undefined when it can go ahead. */
export type ResumeBlock = 'sign-in' | 'vault-key' | 'credentials';

/**
 * Whether the session can unwrap the record's data key: any one of its keys will do (Model A
 * needs that key in the vault, Model B a user sign-in, Model C credentials).
 */
export function resumeBlock(
  keys: readonly RecordKey[],
  have: {
    readonly credentials: boolean;
    readonly signedIn: boolean;
    readonly vaultKeyNames: readonly string[];
  },
): ResumeBlock | undefined {
  if (!have.credentials) return 'credentials';
  if (keys.length === 0) return undefined;
  const usable = keys.some((key) =>
    key.model === 'A'
      ? have.vaultKeyNames.includes(key.keyName)
      : key.model === 'B'
        ? have.signedIn
        : true,
  );
  if (usable) return undefined;
  return keys.some((key) => key.model === 'B') ? 'sign-in' : 'vault-key';
}

/**
 * The records the Upload view offers: those of `bucket` under `root` (the prefix the current
 * identity writes under) that the queue does not hold. `root` undefined (the prefix cannot be
 * formed, e.g. no identity yet): none.
 */
export function scopedRecords(
  records: readonly UploadRecord[],
  scope: { readonly bucket: string; readonly root: string | undefined },
  live: ReadonlySet<string>,
): UploadRecord[] {
  const { bucket, root } = scope;
  if (root === undefined) return [];
  return records.filter(
    (record) =>
      record.bucket === bucket && record.key.startsWith(root) && !live.has(record.uploadId),
  );
}

/** The Web Lock name held while an upload of `uploadId` runs in a tab. */
export function uploadLockName(uploadId: string): string {
  return `veil-upload-${uploadId}`;
}
