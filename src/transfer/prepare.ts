/**
 * What an upload settles before its first part: the header and plan of a new upload, or, for a
 * resume, the file check, the data key unwrapped again through the keyring, the stored plan and
 * the parts S3 still holds; plus the object's metadata and the job each part is built from.
 * See [Note: upload pipeline] in upload.ts.
 */
import {
  DEFAULT_FRAME_BYTES,
  VeilError,
  errorName,
  createMessageHeader,
  needs,
  openMessageKeys,
  paddingOf,
  parseHeaderBytes,
  type EncryptionContext,
  type Keyring,
} from '../core';
import { DEFAULT_READ_BYTES, type PartJob, type PartRunJob } from './build-part';
import { paddedSource } from './padded-source';
import { firstChangedPart, type RecordedPart } from './part-digest';
import { partSpec, planUpload, type UploadPlan } from './part-plan';
import { withRetry, type RetryHooks, type RetryPolicy } from './retry';
import type { UploadS3 } from './s3-api';
import {
  fileIdentity,
  sameFile,
  type StoredPart,
  type UploadRecord,
  type UploadStore,
} from './upload-store';

/** An upload ready for its parts. */
export interface Prepared {
  readonly plan: UploadPlan;
  /** The serialized header (empty when not encrypted). */
  readonly headerBytes: Uint8Array;
  /**
   * What the parts are read from when it is not the file itself: the file and its padding, for
   * a message whose context marks padding ([Note: size padding] in core/padding.ts).
   */
  readonly source?: File;
  /** Absent when not encrypted. */
  readonly cipher?: {
    readonly contentKey: CryptoKey;
    readonly messageId: Uint8Array;
    /** Keys the part digests ([Note: resume digests] in part-digest.ts). */
    readonly digestKey: CryptoKey;
  };
}

/** What a new upload is made of. */
export interface NewUploadInput {
  readonly protection?: 'client-side' | 'none';
  readonly keyring?: Keyring;
  readonly encryptionContext?: EncryptionContext;
  readonly frameBytes?: number;
  readonly partBytes?: number;
  /** Where the object goes: every new message is bound there ([Note: location binding]). */
  readonly bucket: string;
  readonly key: string;
}

/**
 * Builds the header (through the keyring) and the plan of a new upload of `file`. A context
 * with `veil-padding` pads the plaintext ([Note: size padding] in core/padding.ts): the plan
 * counts the padded length and the parts are read from `source`.
 * @throws VeilError BAD_ARGUMENT without a keyring when encrypting, PADDING_UNKNOWN, the plan's
 *   and the keyring's.
 */
export async function prepareNew(file: File, input: NewUploadInput): Promise<Prepared> {
  const partBytes = input.partBytes === undefined ? {} : { partBytes: input.partBytes };
  if (input.protection === 'none') {
    const plan = planUpload({
      plaintextBytes: file.size,
      frameBytes: input.frameBytes ?? DEFAULT_FRAME_BYTES,
      headerBytes: 0,
      encrypted: false,
      ...partBytes,
    });
    return { plan, headerBytes: new Uint8Array(0) };
  }
  // Precondition: encrypting needs a keyring.
  needs(input.keyring, 'BAD_ARGUMENT', 'keyring');
  const source = paddedSource(file, paddingOf(input.encryptionContext));
  const written = await createMessageHeader({
    keyring: input.keyring,
    frameBytes: input.frameBytes ?? DEFAULT_FRAME_BYTES,
    ...(input.encryptionContext ? { encryptionContext: input.encryptionContext } : {}),
    location: { bucket: input.bucket, key: input.key },
  });
  const plan = planUpload({
    plaintextBytes: source.size,
    frameBytes: written.frameBytes,
    headerBytes: written.headerBytes.length,
    encrypted: true,
    ...partBytes,
  });
  return {
    plan,
    headerBytes: written.headerBytes,
    ...(source !== file ? { source } : {}),
    cipher: {
      contentKey: written.contentKey,
      messageId: written.messageId,
      digestKey: written.digestKey,
    },
  };
}

/**
 * The record to resume: the store's copy when it has one (another tab may have sent parts since
 * `record` was read, and recorded their digests), with the digests of both copies, so no part
 * sent under this message escapes the check ([Note: resume digests] in part-digest.ts).
 * @throws VeilError RESUME_UNVERIFIABLE when the two copies give one part different digests.
 */
export async function currentRecord(
  record: UploadRecord,
  store: UploadStore | undefined,
): Promise<UploadRecord> {
  const stored = await store?.get(record.id);
  if (!stored) return record;
  const digests = new Map<number, string>();
  for (const { partNumber, digest } of [
    ...(record.partDigests ?? []),
    ...(stored.partDigests ?? []),
  ]) {
    const seen = digests.get(partNumber);
    if (seen !== undefined && seen !== digest) {
      throw new VeilError('RESUME_UNVERIFIABLE', `two digests for part ${partNumber}`);
    }
    digests.set(partNumber, digest);
  }
  const anyDigests = record.partDigests !== undefined || stored.partDigests !== undefined;
  return {
    ...stored,
    ...(anyDigests
      ? {
          partDigests: [...digests]
            .map(([partNumber, digest]) => ({ partNumber, digest }))
            .sort((a, b) => a.partNumber - b.partNumber),
        }
      : {}),
  };
}

/** How to reach S3 for the ListParts of a resume. */
export interface ResumeAccess {
  readonly s3: UploadS3;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
}

const unquote = (etag: string | undefined): string | undefined => etag?.replace(/^"|"$/g, '');

/**
 * Prepares the resume of `record` with `file`: checks it is the same file, unwraps the data key
 * again through `keyring`, replays the stored plan, and keeps the stored parts that S3 still
 * holds with the same ETag (ListParts); every other part is sent again. Before anything is
 * encrypted, every part ever sent is read from `file` and must reproduce its recorded digest
 * ([Note: resume digests] in part-digest.ts).
 * @throws VeilError RESUME_FILE_MISMATCH (another file), RESUME_FILE_CHANGED (a part's plaintext
 *   differs from what was sent), RESUME_UNVERIFIABLE (no digests, or S3 holds a part without
 *   one), RESUME_UPLOAD_GONE, the keyring's, and S3 failures.
 */
export async function prepareResume(
  record: UploadRecord,
  file: File,
  keyring: Keyring | undefined,
  access: ResumeAccess,
): Promise<{ prepared: Prepared; doneParts: StoredPart[] }> {
  if (!sameFile(record.file, await fileIdentity(file))) {
    throw new VeilError('RESUME_FILE_MISMATCH', `expected "${record.file.name}"`);
  }
  const encrypted = record.protection === 'client-side';
  // Any doubt abandons the message: a record from before digests cannot show what was sent.
  if (encrypted && record.partDigests === undefined) {
    throw new VeilError('RESUME_UNVERIFIABLE', 'the record has no part digests');
  }
  let cipher: Prepared['cipher'];
  // A padded message is resumed padded the same way: the marker is in the stored header.
  let source = file;
  if (encrypted) {
    const header = parseHeaderBytes(record.headerBytes);
    source = paddedSource(file, paddingOf(header.encryptionContext));
    needs(header.frameBytes === record.frameBytes, 'MALFORMED', 'stored frame length');
    // Precondition: an encrypted upload resumes only with a keyring that opens its header.
    needs(keyring, 'BAD_ARGUMENT', 'keyring');
    const { contentKey, digestKey } = await openMessageKeys(header, { keyring });
    cipher = { contentKey, messageId: header.messageId, digestKey };
  }
  const plan = planUpload({
    plaintextBytes: source.size,
    frameBytes: record.frameBytes,
    headerBytes: record.headerBytes.length,
    encrypted,
    framesPerPart: record.framesPerPart,
    // The form the message was planned with; records without one predate the choice of forms
    // being stored and were written with the empty final frame (older ones have no digests).
    finalFrameForm: record.finalFrameForm ?? 'empty-final',
  });
  needs(plan.partCount === record.partCount, 'RESUME_FILE_MISMATCH', 'part count');
  const listed = await listUploadedParts(record, access);
  if (cipher) await verifyPartDigests(record, plan, source, cipher.digestKey, listed);
  const doneParts = record.parts.filter(
    (part) => unquote(listed.get(part.partNumber)) === unquote(part.etag),
  );
  return {
    prepared: {
      plan,
      headerBytes: record.headerBytes,
      ...(source !== file ? { source } : {}),
      ...(cipher ? { cipher } : {}),
    },
    doneParts,
  };
}

/**
 * Checks, before anything is encrypted, that every part ever sent would be built from the same
 * plaintext again, and that S3 holds no part without a recorded digest.
 * @throws VeilError RESUME_FILE_CHANGED, RESUME_UNVERIFIABLE, UPLOAD_FILE_UNREADABLE.
 */
async function verifyPartDigests(
  record: UploadRecord,
  plan: UploadPlan,
  file: File,
  digestKey: CryptoKey,
  listed: ReadonlyMap<number, string | undefined>,
): Promise<void> {
  const digests = new Map((record.partDigests ?? []).map((d) => [d.partNumber, d.digest]));
  for (const partNumber of listed.keys()) {
    if (!digests.has(partNumber)) {
      throw new VeilError('RESUME_UNVERIFIABLE', `S3 holds part ${partNumber} without a digest`);
    }
  }
  const recorded: RecordedPart[] = [];
  for (const [partNumber, digest] of digests) {
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
      throw new VeilError('RESUME_UNVERIFIABLE', `a digest for part ${partNumber}`);
    }
    const { firstSeq, lastSeq } = partSpec(plan, partNumber);
    recorded.push({ partNumber, firstSeq, lastSeq, digest });
  }
  recorded.sort((a, b) => a.partNumber - b.partNumber);
  const changed = await firstChangedPart(file, plan.frameBytes, digestKey, recorded);
  if (changed !== undefined) throw new VeilError('RESUME_FILE_CHANGED', `part ${changed}`);
}

/** Part number to ETag of every part S3 holds for the upload (all ListParts pages). */
async function listUploadedParts(
  record: UploadRecord,
  access: ResumeAccess,
): Promise<Map<number, string | undefined>> {
  const listed = new Map<number, string | undefined>();
  let marker: string | undefined;
  do {
    const page = await withRetry(
      () =>
        access.s3.listParts({
          Bucket: record.bucket,
          Key: record.key,
          UploadId: record.uploadId,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      access.retry,
      undefined,
      access.retryHooks,
      { task: 'upload', operation: 'ListParts' },
    ).catch((error: unknown) => {
      if (error instanceof VeilError && errorName(error.cause) === 'NoSuchUpload') {
        throw new VeilError('RESUME_UPLOAD_GONE', undefined, { cause: error });
      }
      throw error;
    });
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined) listed.set(part.PartNumber, part.ETag);
    }
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker);
  return listed;
}

/**
 * The job that builds part `partNumber` of `file` (part 1 carries the header); the parts of a
 * padded message are read from `prepared.source`.
 */
export function partJob(prepared: Prepared, file: File, partNumber: number): PartJob {
  const spec = partSpec(prepared.plan, partNumber);
  return {
    file: prepared.source ?? file,
    frameBytes: prepared.plan.frameBytes,
    finalFrameForm: prepared.plan.finalFrameForm,
    firstSeq: spec.firstSeq,
    lastSeq: spec.lastSeq,
    ...(prepared.cipher
      ? {
          cipher: {
            ...prepared.cipher,
            ...(partNumber === 1 ? { headerBytes: prepared.headerBytes } : {}),
          },
        }
      : {}),
  };
}

/**
 * The job that builds the consecutive parts `partNumbers` of `file` in one worker ([Note: part
 * runs] in build-part.ts): reads of up to 16 MiB, at least two per run so one is always in flight.
 */
export function partRunJob(prepared: Prepared, file: File, partNumbers: number[]): PartRunJob {
  const specs = partNumbers.map((partNumber) => partSpec(prepared.plan, partNumber));
  const runBytes = specs.reduce((sum, spec) => sum + spec.plaintextBytes, 0);
  const readBytes = Math.min(DEFAULT_READ_BYTES, Math.max(MIN_RUN_READ_BYTES, runBytes / 2));
  return {
    file: prepared.source ?? file,
    frameBytes: prepared.plan.frameBytes,
    finalFrameForm: prepared.plan.finalFrameForm,
    parts: specs.map(({ firstSeq, lastSeq }) => ({ firstSeq, lastSeq })),
    readBytes,
    ...(prepared.cipher
      ? {
          cipher: {
            ...prepared.cipher,
            ...(partNumbers[0] === 1 ? { headerBytes: prepared.headerBytes } : {}),
          },
        }
      : {}),
  };
}

/** Smallest slice read in a part run (reads below this cost more than they overlap). */
const MIN_RUN_READ_BYTES = 8 * 1024 * 1024;

/** Most parts in one run, whatever the part size ([Note: part runs]). */
export const MAX_PARTS_PER_RUN = 4;

/**
 * Parts per run: enough for two reads of up to 16 MiB, at most MAX_PARTS_PER_RUN, and few
 * enough that `partsInFlight` parts keep every one of `workers` busy.
 */
export function partsPerRun(plan: UploadPlan, partsInFlight: number, workers: number): number {
  const partBytes = plan.framesPerPart * plan.frameBytes;
  const byRead = Math.max(1, Math.floor((2 * DEFAULT_READ_BYTES) / partBytes));
  const byWorkers = Math.max(1, Math.floor(partsInFlight / Math.max(1, workers)));
  return Math.min(MAX_PARTS_PER_RUN, byRead, byWorkers);
}
