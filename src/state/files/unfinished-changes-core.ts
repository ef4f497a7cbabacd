/**
 * Unfinished protection changes ([Note: rewrap resume] in src/transfer/rewrap-resume.ts): the
 * rewrap records a change of protection left when the network, the retries or the credentials
 * gave out, listed on Files with Resume and Discard, as unfinished uploads are on Upload.
 *
 * Only records of the bucket under the current root prefix are listed (another identity's
 * objects are not this user's to change). Resume needs no key: the new header is in the record.
 * Discard aborts the multipart upload and deletes the record; the object is left as it was. A
 * resume that fails resumably keeps its entry with the error; any other failure
 * (REWRAP_SOURCE_CHANGED, REWRAP_RESUME_GONE) is shown and the entry goes, as the engine dropped
 * the record.
 *
 * The logic, on injected dependencies (UnfinishedChangesDeps); unfinished-changes.svelte.ts makes
 * its state reactive and passes the app's session and IndexedDB store.
 */
import { discardRewrap, findRewraps, resumeRewrap } from '../../transfer/rewrap-resume';
import type { RewrapResult } from '../../transfer/rewrap-options';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import { isResumableRewrapFailure } from '../../transfer/rewrap-session';
import type { RewrapStore } from '../../transfer/rewrap-store';
import { shownError, type ShownError } from '../app/shown-error';

/** One unfinished change as the view lists it (nothing of the record's header bytes). */
export interface UnfinishedChange {
  /** The record's id (its upload id). */
  readonly id: string;
  /** The object's key. */
  readonly key: string;
  /** The object's name: the last segment of its key. */
  readonly name: string;
  /** Parts the run had sent when it stopped. */
  readonly partsDone: number;
  /** When the change started, in ms since the epoch. */
  readonly createdAtMs: number;
}

/** What the list needs of the app. */
export interface UnfinishedChangesDeps {
  readonly bucket: string;
  /** The user's root prefix, undefined when there is none yet (nothing is listed then). */
  root(): string | undefined;
  /** The rewrap store; undefined where there is none (nothing is listed then). */
  store(): RewrapStore | undefined;
  /** The rewrap engine's S3 seam. */
  rewrapS3(): RewrapS3;
  /** The engine's resume and discard (tests pass fakes); default resumeRewrap, discardRewrap. */
  readonly resume?: typeof resumeRewrap;
  readonly discard?: typeof discardRewrap;
  /** Says a settled action in the view's status region. */
  announce?(text: string): void;
}

/** What the view shows; the wrapper makes it reactive. */
export interface UnfinishedChangesState {
  entries: UnfinishedChange[];
  errors: Record<string, ShownError>;
  busy: Record<string, boolean>;
  /** The last entry whose failure dropped its record (a changed source), with that failure. */
  dropped: { name: string; error: ShownError } | undefined;
}

export function emptyUnfinishedChangesState(): UnfinishedChangesState {
  return { entries: [], errors: {}, busy: {}, dropped: undefined };
}

/** A copy of `record` without `key`. */
function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

/** The last segment of an object key. */
function nameOf(key: string): string {
  return key.split('/').pop() || key;
}

export class UnfinishedChangesCore {
  readonly #deps: UnfinishedChangesDeps;
  readonly #state: UnfinishedChangesState;

  constructor(deps: UnfinishedChangesDeps, state: UnfinishedChangesState) {
    this.#deps = deps;
    this.#state = state;
  }

  get entries(): readonly UnfinishedChange[] {
    return this.#state.entries;
  }

  /** The error of the last Resume or Discard of entry `id`. */
  error(id: string): ShownError | undefined {
    return this.#state.errors[id];
  }

  /** The last entry whose failure dropped it (REWRAP_SOURCE_CHANGED, ...), with the failure. */
  get dropped(): { name: string; error: ShownError } | undefined {
    return this.#state.dropped;
  }

  /** Stops showing the dropped entry's failure. */
  dismissDropped(): void {
    this.#state.dropped = undefined;
  }

  /** True while entry `id` is being resumed or discarded. */
  busy(id: string): boolean {
    return this.#state.busy[id] ?? false;
  }

  /** Reads the records of this bucket under the root prefix, oldest first. Never throws. */
  async load(): Promise<void> {
    const store = this.#deps.store();
    const root = this.#deps.root();
    if (!store || root === undefined) {
      this.#state.entries = [];
      return;
    }
    let found: UnfinishedChange[];
    try {
      const records = await findRewraps(store, this.#deps.bucket);
      found = records
        .filter((record) => record.key.startsWith(root))
        .sort((a, b) => a.createdAtMs - b.createdAtMs)
        .map((record) => ({
          id: record.id,
          key: record.key,
          name: nameOf(record.key),
          partsDone: record.parts.length,
          createdAtMs: record.createdAtMs,
        }));
    } catch {
      // No IndexedDB (private mode in some browsers): nothing to resume.
      found = [];
    }
    // Entries at work keep their row until their action settles.
    const working = this.#state.entries.filter(
      (entry) => this.busy(entry.id) && !found.some((f) => f.id === entry.id),
    );
    this.#state.entries = [...found, ...working];
  }

  /**
   * Resumes entry `id` (no key needed). Resolves with the engine's result when it completed,
   * undefined when it did not; a failure is the entry's error (kept for another try when the
   * failure is resumable, else the entry goes: the engine dropped its record).
   */
  resume(id: string): Promise<RewrapResult | undefined> {
    return this.#work(id, async (entry, store) => {
      const resume = this.#deps.resume ?? resumeRewrap;
      const result = await resume({ s3: this.#deps.rewrapS3(), store, id });
      this.#deps.announce?.(`Finished changing the protection of ${entry.name}.`);
      return result;
    });
  }

  /** Discards entry `id`: aborts its multipart upload and deletes its record. */
  async discard(id: string): Promise<void> {
    await this.#work(id, async (entry, store) => {
      const discard = this.#deps.discard ?? discardRewrap;
      await discard({ s3: this.#deps.rewrapS3(), store, id });
      this.#deps.announce?.(`Discarded the unfinished change of ${entry.name}.`);
    });
  }

  #forget(id: string): void {
    this.#state.entries = this.#state.entries.filter((entry) => entry.id !== id);
  }

  async #work<T>(
    id: string,
    task: (entry: UnfinishedChange, store: RewrapStore) => Promise<T>,
  ): Promise<T | undefined> {
    const entry = this.#state.entries.find((e) => e.id === id);
    const store = this.#deps.store();
    if (!entry || !store || this.busy(id)) return undefined;
    this.#state.busy = { ...this.#state.busy, [id]: true };
    this.#state.errors = without(this.#state.errors, id);
    this.#state.dropped = undefined;
    try {
      const result = await task(entry, store);
      this.#forget(id);
      return result;
    } catch (error) {
      const shown = shownError(error);
      this.#state.errors = { ...this.#state.errors, [id]: shown };
      if (!isResumableRewrapFailure(error) && (await this.#gone(id, store))) {
        this.#forget(id);
        this.#state.errors = without(this.#state.errors, id);
        this.#state.dropped = { name: entry.name, error: shown };
      }
      return undefined;
    } finally {
      this.#state.busy = without(this.#state.busy, id);
    }
  }

  /** Whether the record of `id` is no longer in the store. */
  async #gone(id: string, store: RewrapStore): Promise<boolean> {
    try {
      return (await store.get(id)) === undefined;
    } catch {
      return false;
    }
  }
}
