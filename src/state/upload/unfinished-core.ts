/**
 * Unfinished uploads of earlier sessions (resume records in the store), listed on Upload with the
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
 *
 * The logic, on injected dependencies (UnfinishedDeps); unfinished.svelte.ts makes its
 * UnfinishedState reactive and passes the app's session, vault, store and locks.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import {
  fileIdentity,
  sameFile,
  type UploadRecord,
  type UploadStore,
} from '../../transfer/upload-store';
import { rootPrefix } from '../shared/object-paths';
import { rowError, s3Error, type RowError } from './errors';
import {
  resumeBlock,
  scopedRecords,
  summarizeRecord,
  type RecordSummary,
  type ResumeBlock,
} from './records';

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

/** The app's objects the list reads, besides the queue. */
export interface UnfinishedDeps {
  readonly store: () => Pick<UploadStore, 'list' | 'get'>;
  readonly session: {
    readonly ready: boolean;
    readonly signedIn: boolean;
    /** The Cognito identity id, '' when there is none. */
    readonly identityId: string;
  };
  vaultKeyNames(): string[];
  /** Takes the upload's lock and holds it until the returned function is called. */
  holdLock(uploadId: string): Promise<() => void>;
  /** Runs `task` holding the upload's lock. */
  withLock(uploadId: string, task: () => Promise<void>): Promise<void>;
}

/** What the view shows; the wrapper makes it reactive. */
export interface UnfinishedState {
  entries: RecordSummary[];
  errors: Record<string, RowError>;
  busy: Record<string, boolean>;
}

export function emptyUnfinishedState(): UnfinishedState {
  return { entries: [], errors: {}, busy: {} };
}

/** A copy of `record` without `key`. */
function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

export class UnfinishedCore {
  readonly #host: UnfinishedHost;
  readonly #deps: UnfinishedDeps;
  readonly #state: UnfinishedState;
  /** The records behind the entries, kept out of the view's state (they hold header bytes). */
  readonly #records = new Map<string, UploadRecord>();

  constructor(host: UnfinishedHost, deps: UnfinishedDeps, state: UnfinishedState) {
    this.#host = host;
    this.#deps = deps;
    this.#state = state;
  }

  get entries(): readonly RecordSummary[] {
    return this.#state.entries;
  }

  /** The error of the last Resume or Discard of entry `id`. */
  error(id: string): RowError | undefined {
    return this.#state.errors[id];
  }

  /** True while entry `id` is being resumed or discarded. */
  busy(id: string): boolean {
    return this.#state.busy[id] ?? false;
  }

  /** What stops `entry` from resuming in this session, if anything. */
  block(entry: RecordSummary): ResumeBlock | undefined {
    return resumeBlock(entry.keys, {
      credentials: this.#deps.session.ready,
      signedIn: this.#deps.session.signedIn,
      vaultKeyNames: this.#deps.vaultKeyNames(),
    });
  }

  /** Reads the records of this bucket, leaving out the uploads the queue holds. */
  async load(): Promise<void> {
    const config = this.#host.config;
    if (!config) return;
    const live = this.#host.liveUploadIds();
    let records: UploadRecord[];
    try {
      records = await this.#deps.store().list();
    } catch {
      // No IndexedDB (private mode in some browsers): nothing to resume.
      records = [];
    }
    let root: string | undefined;
    try {
      root = rootPrefix(config, this.#deps.session.identityId || undefined);
    } catch {
      // No identity to scope by yet: nothing is offered.
      root = undefined;
    }
    const mine = scopedRecords(records, { bucket: config.bucket, root }, live);
    this.#records.clear();
    for (const record of mine) this.#records.set(record.id, record);
    this.#state.entries = mine.map(summarizeRecord);
  }

  #forget(id: string): void {
    this.#records.delete(id);
    this.#state.entries = this.#state.entries.filter((entry) => entry.id !== id);
  }

  async #work(id: string, task: (record: UploadRecord) => Promise<void>): Promise<void> {
    const record = this.#records.get(id);
    if (!record || this.busy(id)) return;
    this.#state.busy = { ...this.#state.busy, [id]: true };
    this.#state.errors = without(this.#state.errors, id);
    try {
      await task(record);
    } catch (error) {
      this.#state.errors = { ...this.#state.errors, [id]: rowError(error) };
    } finally {
      this.#state.busy = without(this.#state.busy, id);
    }
  }

  /**
   * Resumes entry `id` with `file`, which must be the file the upload started with.
   * Errors (RESUME_FILE_MISMATCH, RESUME_UPLOAD_BUSY, RESUME_UPLOAD_GONE, …) are shown on the entry.
   */
  resume(id: string, file: File): Promise<void> {
    return this.#work(id, async (record) => {
      if (!sameFile(record.file, await fileIdentity(file))) {
        throw new VeilError('RESUME_FILE_MISMATCH', `expected "${record.file.name}"`);
      }
      const keyring =
        record.protection === 'client-side' ? await this.#host.readKeyring() : undefined;
      // The queue row holds the lock from here until it lets go of the upload.
      const release = await this.#deps.holdLock(record.uploadId);
      // The record as it is now, not as the list read it: another tab may have sent parts since,
      // and their digests must be checked ([Note: resume digests]).
      let current: UploadRecord | undefined;
      try {
        current = await this.#deps.store().get(record.uploadId);
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
      await this.#deps.withLock(record.uploadId, async () => {
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
