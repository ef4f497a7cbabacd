/**
 * What one message of a multipart upload has done, and its resume record: the parts S3
 * acknowledged, the keyed digest of every part's plaintext as first built, and the record's
 * writes to the store, kept in order. It also enforces the rule of [Note: resume digests] in
 * part-digest.ts: no part is sent before its digest is stored, and a part built again from other
 * plaintext is never sent.
 */
import { VeilError, needs } from '../core';
import { partSpec, type UploadPlan } from './part-plan';
import type { Prepared } from './prepare';
import type {
  FileIdentity,
  StoredObjectOptions,
  StoredPart,
  UploadRecord,
  UploadStore,
} from './upload-store';

/** The finished parts of a resumed upload, as the progress meter counts them. */
export interface DoneParts {
  readonly parts: number;
  readonly objectBytes: number;
  readonly plaintextBytes: number;
}

/** The parts `doneParts` of `plan` as counts of parts, object bytes and plaintext bytes. */
export function doneTotals(plan: UploadPlan, doneParts: readonly StoredPart[]): DoneParts {
  let objectBytes = 0;
  let plaintextBytes = 0;
  for (const part of doneParts) {
    const spec = partSpec(plan, part.partNumber);
    objectBytes += spec.objectBytes;
    plaintextBytes += spec.plaintextBytes;
  }
  return { parts: doneParts.length, objectBytes, plaintextBytes };
}

/** The first resume record of a new multipart upload: no part done yet. */
export function newRecord(fields: {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly prepared: Prepared;
  readonly file: FileIdentity;
  readonly objectOptions: StoredObjectOptions | undefined;
}): UploadRecord {
  const { uploadId, prepared, objectOptions } = fields;
  return {
    id: uploadId,
    bucket: fields.bucket,
    key: fields.key,
    uploadId,
    protection: prepared.cipher ? 'client-side' : 'none',
    headerBytes: prepared.headerBytes,
    frameBytes: prepared.plan.frameBytes,
    framesPerPart: prepared.plan.framesPerPart,
    partCount: prepared.plan.partCount,
    finalFrameForm: prepared.plan.finalFrameForm,
    file: fields.file,
    parts: [],
    partDigests: [],
    objectOptions: {
      ...(objectOptions?.model ? { model: objectOptions.model } : {}),
      ...(objectOptions?.atRest ? { atRest: objectOptions.atRest } : {}),
    },
    createdAtMs: Date.now(),
  };
}

const byPartNumber = (a: { partNumber: number }, b: { partNumber: number }): number =>
  a.partNumber - b.partNumber;

/**
 * The parts done and the part digests of one message, and its resume record in `store`. A new
 * message gets a new ledger. Without a store (or before `begin`/`adopt`) nothing is written, but
 * digests are still pinned.
 */
export class UploadLedger {
  readonly #store: UploadStore | undefined;
  /** The record the writes start from; undefined until the upload has an id. */
  #record: UploadRecord | undefined;
  readonly #parts = new Map<number, StoredPart>();
  /** Digest of each part's plaintext as first sent ([Note: resume digests]). */
  readonly #digests = new Map<number, string>();
  /** Parts whose digest is in a record the store has saved. */
  readonly #savedDigests = new Set<number>();
  #writes: Promise<void> = Promise.resolve();

  constructor(store: UploadStore | undefined) {
    this.#store = store;
  }

  /** Takes over a stored upload being resumed: its record, its digests, the parts S3 holds. */
  adopt(record: UploadRecord, doneParts: readonly StoredPart[]): void {
    this.#record = record;
    for (const { partNumber, digest } of record.partDigests ?? []) {
      this.#digests.set(partNumber, digest);
      this.#savedDigests.add(partNumber);
    }
    for (const part of doneParts) this.#parts.set(part.partNumber, part);
  }

  /** Starts the record of a new multipart upload and queues its first write. */
  begin(record: UploadRecord): void {
    this.#record = record;
    this.#save();
  }

  /** Part numbers 1..`partCount` not done yet, ascending. */
  pendingParts(partCount: number): number[] {
    const pending: number[] = [];
    for (let partNumber = 1; partNumber <= partCount; partNumber++) {
      if (!this.#parts.has(partNumber)) pending.push(partNumber);
    }
    return pending;
  }

  /** The parts done, ascending, as Complete lists them. */
  doneParts(): StoredPart[] {
    return [...this.#parts.values()].sort(byPartNumber);
  }

  /**
   * Before encrypted part `partNumber` is sent: records `digest`, the digest of the plaintext it
   * was built from, and waits until the record holding it is saved, or, when a digest was
   * recorded before, requires the same one, saved ([Note: resume digests]). A digest whose save
   * failed stays in memory (a rebuild must still match it) and is saved again before a resend.
   * @throws VeilError RESUME_FILE_CHANGED on a different digest, UPLOAD_RECORD_UNWRITABLE when
   *   the record cannot be saved, INTERNAL_ERROR without a digest.
   */
  async pinDigest(partNumber: number, digest: string | undefined): Promise<void> {
    needs(digest, 'INTERNAL_ERROR', 'the part builder gave no plaintext digest');
    const recorded = this.#digests.get(partNumber);
    if (recorded !== undefined && recorded !== digest) {
      throw new VeilError('RESUME_FILE_CHANGED', `part ${partNumber}`);
    }
    this.#digests.set(partNumber, digest);
    if (!this.#store || !this.#record || this.#savedDigests.has(partNumber)) return;
    this.#save();
    try {
      await this.#writes;
    } catch (cause) {
      throw new VeilError('UPLOAD_RECORD_UNWRITABLE', undefined, { cause });
    }
  }

  /** S3 acknowledged `part`: records it and queues a write of the record. */
  partDone(part: StoredPart): void {
    this.#parts.set(part.partNumber, part);
    this.#save();
  }

  /** Resolves once the writes queued so far are over, whether or not they succeeded. */
  settled(): Promise<void> {
    return this.#writes.catch(() => undefined);
  }

  /** Queues a write of the record with the parts finished so far (writes stay in order). */
  #save(): void {
    const store = this.#store;
    const base = this.#record;
    if (!store || !base) return;
    this.#writes = this.#writes
      .catch(() => undefined)
      .then(async () => {
        const partDigests = [...this.#digests]
          .map(([partNumber, digest]) => ({ partNumber, digest }))
          .sort(byPartNumber);
        await store.put({ ...base, parts: this.doneParts(), partDigests });
        for (const { partNumber } of partDigests) this.#savedDigests.add(partNumber);
      });
  }
}
