/**
 * Unfinished uploads of earlier sessions (resume records in IndexedDB), listed on Upload with the
 * file, how far it got and when it started. Resume asks for the same file again: it is checked
 * (name, size, date, first bytes) before anything is sent, then the upload continues in the queue
 * with the data key unwrapped again through the session's keyrings ([Note: no secret in the resume
 * record]). Discard aborts the multipart upload and deletes the record.
 *
 * Only records of the bucket under the current root prefix are listed (another identity's
 * uploads are not this user's to resume). A resume holds a Web Lock named after its upload id
 * until the upload settles, and Resume and Discard first take that lock, which a fresh upload
 * holds from its first moment too: a second tab cannot resume or discard an upload running in
 * the first (RESUME_UPLOAD_BUSY; [Note: upload locks] in locks.ts).
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import { fileIdentity, sameFile, type UploadRecord } from '../../transfer/upload-store';
import { rowError, s3Error, type RowError } from './errors';
import { awsSession } from '../shared/credentials.svelte';
import { rootPrefix } from '../shared/object-paths';
import {
  resumeBlock,
  scopedRecords,
  summarizeRecord,
  type RecordSummary,
  type ResumeBlock,
} from './records';
import { holdUploadLock, withUploadLock } from './locks';
import { vault } from '../keys/vault.svelte';
import { uploadStore } from '../shared/transfers';

/** What the list needs of the queue. */
export interface UnfinishedHost {
  readonly config: VeilConfig | undefined;
  liveUploadIds(): Set<string>;
  /**
   * Queues the resume; the promise settles when the upload leaves the queue. The row owns
   * `release`, the upload's lock, and calls it when it lets go of the upload.
   */
  addResumed(
    record: UploadRecord,
    file: File,
    keyring: Keyring | undefined,
    release: () => void,
  ): Promise<void>;
  readKeyring(): Promise<Keyring | undefined>;
  abort(key: string, uploadId: string): Promise<void>;
  announce(text: string): void;
}

/** A copy of `record` without `key`. */
function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

export class UnfinishedUploads {
  readonly #host: UnfinishedHost;
  #entries = $state<RecordSummary[]>([]);
  #errors = $state<Record<string, RowError>>({});
  #busy = $state<Record<string, boolean>>({});
  // Records stay out of reactive state (they hold the header bytes).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #records = new Map<string, UploadRecord>();

  constructor(host: UnfinishedHost) {
    this.#host = host;
  }

  get entries(): readonly RecordSummary[] {
    return this.#entries;
  }

  /** The error of the last Resume or Discard of entry `id`. */
  error(id: string): RowError | undefined {
    return this.#errors[id];
  }

  /** True while entry `id` is being resumed or discarded. */
  busy(id: string): boolean {
    return this.#busy[id] ?? false;
  }

  /** What stops entry `id` from resuming in this session (reactive), if anything. */
  block(entry: RecordSummary): ResumeBlock | undefined {
    return resumeBlock(entry.keys, {
      credentials: awsSession.status.state === 'ready',
      signedIn: awsSession.hasIdToken,
      vaultKeyNames: vault.keys.map((key) => key.keyName),
    });
  }

  /** Reads the records of this bucket, leaving out the uploads the queue holds. */
  async load(): Promise<void> {
    const config = this.#host.config;
    if (!config) return;
    const live = this.#host.liveUploadIds();
    let records: UploadRecord[];
    try {
      records = await uploadStore().list();
    } catch {
      // No IndexedDB (private mode in some browsers): nothing to resume.
      records = [];
    }
    let root: string | undefined;
    try {
      root = rootPrefix(config, awsSession.identityId || undefined);
    } catch {
      // No identity to scope by yet: nothing is offered.
      root = undefined;
    }
    const mine = scopedRecords(records, { bucket: config.bucket, root }, live);
    this.#records.clear();
    for (const record of mine) this.#records.set(record.id, record);
    this.#entries = mine.map(summarizeRecord);
  }

  #forget(id: string): void {
    this.#records.delete(id);
    this.#entries = this.#entries.filter((entry) => entry.id !== id);
  }

  async #work(id: string, task: (record: UploadRecord) => Promise<void>): Promise<void> {
    const record = this.#records.get(id);
    if (!record || this.busy(id)) return;
    this.#busy = { ...this.#busy, [id]: true };
    this.#errors = without(this.#errors, id);
    try {
      await task(record);
    } catch (error) {
      this.#errors = { ...this.#errors, [id]: rowError(error) };
    } finally {
      this.#busy = without(this.#busy, id);
    }
  }

  /**
   * Resumes entry `id` with `file`, which must be the file the upload started with.
   * Errors (RESUME_FILE_MISMATCH, CREDENTIALS_MISSING, …) are shown on the entry.
   */
  resume(id: string, file: File): Promise<void> {
    return this.#work(id, async (record) => {
      if (!sameFile(record.file, await fileIdentity(file))) {
        throw new VeilError('RESUME_FILE_MISMATCH', `expected "${record.file.name}"`);
      }
      const keyring =
        record.protection === 'client-side' ? await this.#host.readKeyring() : undefined;
      // The queue row holds the lock from here until it lets go of the upload.
      const release = await holdUploadLock(record.uploadId);
      // The record as it is now, not as the list read it: another tab may have sent parts since,
      // and their digests must be checked ([Note: resume digests]).
      let current: UploadRecord | undefined;
      try {
        current = await uploadStore().get(record.uploadId);
      } catch (error) {
        release();
        throw error;
      }
      if (!current) {
        release();
        this.#forget(id);
        throw new VeilError('RESUME_UPLOAD_GONE', 'the record was removed in another tab');
      }
      this.#forget(id);
      void this.#host.addResumed(current, file, keyring, release).catch(() => undefined);
    });
  }

  /** Discards entry `id`: aborts its multipart upload and deletes its record. */
  discard(id: string): Promise<void> {
    return this.#work(id, async (record) => {
      await withUploadLock(record.uploadId, async () => {
        try {
          await this.#host.abort(record.key, record.uploadId);
        } catch (error) {
          throw s3Error(error);
        }
      });
      this.#forget(id);
      this.#host.announce(`Discarded the unfinished upload of ${record.file.name}.`);
    });
  }
}
