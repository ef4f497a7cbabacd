/**
 * The Files view's state: the folder shown (a prefix below rootPrefix(config)), its rows one
 * ListObjectsV2 page at a time (Delimiter '/', "Load more" for the next page), the sort order,
 * each object's protection badge ([Note: badges without the body] in badges.ts), the
 * details of one object and deletes. The view stays thin: it renders these fields and calls
 * these methods.
 *
 * Names go through the current location's names ([Note: names of the current location]): rows,
 * crumbs and the hash show clear names; keys and prefixes stay the stored ones.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { VeilConfig } from '../../aws/config';
import { VeilError, s3Failure } from '../../core';
import { appDeps, type FilesDeps } from './files-deps';
import { inspectObject } from '../../transfer/download';
import type { LocationNames } from '../../transfer/location-names';
import { shownError, type ShownError } from '../app/shown-error';
import { ProbeQueue, probeBadge, type BadgeState } from './badges';
import { knownPlaintextBytes, type SizeS3 } from './sizes';
import { deleteKeys, deletedNotice, keysOfPlan, planDelete, type DeletePlan } from './delete';
import type { DeleteFailure } from '../../aws/bucket-s3';
import { objectDetails, type ObjectDetails } from './details';
import {
  DEFAULT_SORT,
  breadcrumbs,
  hashPathFor,
  mergeRows,
  nextSort,
  prefixFromHashPath,
  rowsOf,
  sortRows,
  unreadableCount,
  type Crumb,
  type FileRow,
  type Row,
  type SortKey,
  type SortOrder,
} from './listing';
import type { FilesS3 } from '../../aws/bucket-s3';
import { rootPrefix } from '../shared/object-paths';
import { destinationOf } from './upload-here';

/** Rows per ListObjectsV2 page. */
export const PAGE_KEYS = 100;
/** HEAD / sniff requests in flight at once for badges. */
export const BADGE_PROBES_IN_FLIGHT = 4;

export type { DeletePlan } from './delete';
export type { FilesDeps } from './files-deps';

/** The details panel of one object. */
export type DetailsState =
  | { readonly state: 'loading'; readonly key: string }
  | { readonly state: 'ready'; readonly details: ObjectDetails }
  | { readonly state: 'failed'; readonly key: string; readonly error: ShownError };

export class FilesBrowser {
  readonly config: VeilConfig;
  readonly #deps: FilesDeps;
  #prefix = $state('');
  #rows = $state<Row[]>([]);
  #nextToken = $state<string | undefined>(undefined);
  #loading = $state(false);
  #loaded = $state(false);
  #error = $state<ShownError | undefined>(undefined);
  #sort = $state<SortOrder>(DEFAULT_SORT);
  #details = $state<DetailsState | undefined>(undefined);
  #deleting = $state<{ done: number; total: number } | undefined>(undefined);
  #deleteError = $state<ShownError | undefined>(undefined);
  #deleteFailures = $state.raw<readonly DeleteFailure[]>([]);
  #notice = $state('');
  #names = $state.raw<LocationNames | undefined>(undefined);
  readonly #badges = new SvelteMap<string, BadgeState>();
  readonly #probes: ProbeQueue;
  /** Bumped on every navigation, so late answers for another folder are dropped. */
  #generation = 0;
  /** Bumped on every openPath, so a folder asked for earlier never replaces a later one. */
  #pathAsked = 0;
  /** The latest openPath until its folder is set; undefined once it is. */
  #navigation: Promise<void> | undefined;

  constructor(config: VeilConfig, deps: FilesDeps = appDeps) {
    this.config = config;
    this.#deps = deps;
    this.#prefix = this.root;
    this.#probes = new ProbeQueue({
      limit: BADGE_PROBES_IN_FLIGHT,
      probe: (key, sizeBytes, signal) => probeBadge(this.#probeS3(), key, sizeBytes, signal),
      onChange: (cacheKey, state) => this.#badges.set(cacheKey, state),
    });
  }

  /**
   * The prefix the view lists under: config.prefix, with the caller's identity id when it holds
   * `{identityId}` ('' until that is known; listing then reports why).
   */
  get root(): string {
    return this.#rootOrError().root;
  }

  #rootOrError(): { root: string; error?: ShownError } {
    try {
      return { root: rootPrefix(this.config, this.#deps.session.identityId || undefined) };
    } catch (error) {
      return { root: '', error: shownError(error) };
    }
  }

  get prefix(): string {
    return this.#prefix;
  }
  get rows(): Row[] {
    return sortRows(this.#rows, this.#sort, (row) => knownPlaintextBytes(this.badge(row)));
  }
  get hasMore(): boolean {
    return this.#nextToken !== undefined;
  }
  get loading(): boolean {
    return this.#loading;
  }
  /** True once the first page of the folder arrived. */
  get loaded(): boolean {
    return this.#loaded;
  }
  get error(): ShownError | undefined {
    return this.#error;
  }
  get sort(): SortOrder {
    return this.#sort;
  }
  get details(): DetailsState | undefined {
    return this.#details;
  }
  get deleting(): { done: number; total: number } | undefined {
    return this.#deleting;
  }
  get deleteError(): ShownError | undefined {
    return this.#deleteError;
  }
  /** The last finished action, for the live region ("Deleted 3 objects."). */
  get notice(): string {
    return this.#notice;
  }
  get crumbs(): Crumb[] {
    return breadcrumbs(this.root, this.#prefix, this.config.bucket, this.#names);
  }
  /** The location's names as last opened (undefined before connecting). */
  get names(): LocationNames | undefined {
    return this.#names;
  }
  /** How many rows shown have a private name that does not open. */
  get unreadable(): number {
    return unreadableCount(this.#rows);
  }
  /**
   * The hash path of a folder (clear names); undefined for a folder whose name does not open,
   * which cannot be opened by path.
   */
  hashPath(prefix: string): string | undefined {
    return hashPathFor(this.root, prefix, this.#names);
  }
  /** A stored key or prefix as the user reads it: its clear path below the root, or as stored. */
  shownPath(keyOrPrefix: string): string {
    const names = this.#names;
    if (!names?.isPrivate || !keyOrPrefix.startsWith(names.root)) return keyOrPrefix;
    return names.clearPath(keyOrPrefix) ?? keyOrPrefix;
  }
  /** True when the session has AWS credentials to list with. */
  get connected(): boolean {
    return this.#deps.session.ready;
  }

  #s3(): FilesS3 {
    return this.#deps.s3(this.config.bucket);
  }

  /** The badge probe's calls: the Files calls, and a ranged GET for the final frame. */
  #probeS3(): Pick<FilesS3, 'head' | 'firstBytes'> & SizeS3 {
    const s3 = this.#s3();
    const bucket = this.config.bucket;
    return {
      head: (key, signal) => s3.head(key, signal),
      firstBytes: (key, countBytes, signal) => s3.firstBytes(key, countBytes, signal),
      range: async (key, startBytes, endBytes, signal) =>
        (
          await this.#deps
            .downloadS3()
            .getRange({ bucket, key, startBytes, endBytes, ifMatch: undefined }, signal)
        ).bytes,
    };
  }

  /** The badge of a file row (undefined before it was asked for). */
  badge(row: FileRow): BadgeState | undefined {
    return this.#badges.get(ProbeQueue.cacheKey(row.key, row.etag));
  }

  /** Asks for a file's badge (the view calls it when the row scrolls into view). */
  wantBadge(row: FileRow): void {
    if (!this.connected) return;
    this.#probes.request(row.key, row.etag, row.sizeBytes);
  }

  /**
   * Shows the folder a hash path names (see prefixFromHashPath), once the location's names are
   * open.
   *
   * [Note: folder asked for, folder shown] Between a navigation and the names answering, the
   * folder shown is still the previous one. So: a navigation asked for later wins even when its
   * names answer first; a refresh asked for meanwhile lists the new folder; and "Upload here"
   * takes its destination only once the folder asked for is set (uploadDestination), never the
   * folder being left.
   */
  openPath(path: string): Promise<void> {
    const asked = ++this.#pathAsked;
    let listed: Promise<void> = Promise.resolve();
    const navigation = this.#openNames().then((names) => {
      if (asked !== this.#pathAsked) return;
      listed = this.open(prefixFromHashPath(this.root, path, names));
    });
    this.#navigation = navigation;
    void navigation.finally(() => {
      if (this.#navigation === navigation) this.#navigation = undefined;
    });
    return navigation.then(() => listed);
  }

  /** Settles once the folder shown is the one asked for last ([Note: folder asked for, ...]). */
  async #settled(): Promise<void> {
    for (let at = this.#navigation; at !== undefined; at = this.#navigation) await at;
  }

  /** Where "Upload here" sends (destinationOf), once the folder asked for last is shown. */
  async uploadDestination(): Promise<string | undefined> {
    await this.#settled();
    return destinationOf(this.root, this.#prefix, this.#names);
  }

  /** The location's names, once connected; undefined before or when the root is not known. */
  async #openNames(): Promise<LocationNames | undefined> {
    if (!this.connected || !this.#deps.names || this.#rootOrError().error) return undefined;
    try {
      this.#names = await this.#deps.names(this.config);
    } catch {
      this.#names = undefined;
    }
    return this.#names;
  }

  /** Shows `prefix` (a folder below the root), from its first page. */
  async open(prefix: string): Promise<void> {
    const target = prefix.startsWith(this.root) ? prefix : this.root;
    const generation = ++this.#generation;
    this.#probes.clearWaiting();
    for (const cacheKey of this.#probes.clearFailed()) this.#badges.delete(cacheKey);
    this.#prefix = target;
    this.#rows = [];
    this.#nextToken = undefined;
    this.#loaded = false;
    this.#error = undefined;
    await this.#page(generation, undefined);
  }

  /** Lists the folder again; during a navigation, the one asked for ([Note: folder asked ...]). */
  refresh(): Promise<void> {
    if (this.#navigation === undefined) return this.open(this.#prefix);
    return this.#settled().then(() => this.open(this.#prefix));
  }

  /** Fetches the next page. */
  async loadMore(): Promise<void> {
    if (this.#nextToken === undefined || this.#loading) return;
    await this.#page(this.#generation, this.#nextToken);
  }

  async #page(generation: number, token: string | undefined): Promise<void> {
    if (!this.connected) {
      this.#loaded = true;
      return;
    }
    const rootError = this.#rootOrError().error;
    if (rootError) {
      this.#error = rootError;
      this.#loaded = true;
      return;
    }
    this.#loading = true;
    try {
      const names = await this.#openNames();
      if (generation !== this.#generation) return;
      const page = await this.#s3().list({
        prefix: this.#prefix,
        delimiter: '/',
        maxKeys: PAGE_KEYS,
        ...(token ? { token } : {}),
      });
      if (generation !== this.#generation) return;
      this.#rows = mergeRows(this.#rows, rowsOf(this.#prefix, page, names));
      this.#nextToken = page.nextToken;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#error = shownError(s3Failure(error, { task: 'list', operation: 'ListObjectsV2' }));
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        this.#loaded = true;
      }
    }
  }

  setSort(by: SortKey): void {
    this.#sort = nextSort(this.#sort, by);
  }

  /** Opens the details of `row`: HeadObject and the header only (nothing is decrypted). */
  async showDetails(row: FileRow): Promise<void> {
    this.#details = { state: 'loading', key: row.key };
    try {
      const opened = await inspectObject({
        s3: this.#deps.downloadS3(),
        bucket: this.config.bucket,
        key: row.key,
      });
      const badge = this.badge(row);
      const sse = badge?.state === 'known' ? badge.serverSideEncryption : undefined;
      if (this.#details?.state === 'loading' && this.#details.key === row.key) {
        this.#details = { state: 'ready', details: objectDetails(row.key, opened, sse) };
      }
    } catch (error) {
      if (this.#details?.state === 'loading' && this.#details.key === row.key) {
        this.#details = { state: 'failed', key: row.key, error: shownError(error) };
      }
    }
  }

  closeDetails(): void {
    this.#details = undefined;
  }

  /**
   * What deleting `rows` (or one row) would remove: objects, and every key under a folder
   * (listed now).
   * @throws VeilError S3_REJECTED / S3_UNREACHABLE when a folder cannot be listed.
   */
  async planDelete(rows: Row | readonly Row[]): Promise<DeletePlan> {
    try {
      return await planDelete(this.#s3(), Array.isArray(rows) ? rows : [rows as Row]);
    } catch (error) {
      throw s3Failure(error, { task: 'delete', operation: 'ListObjectsV2' });
    }
  }

  /** Deletes what `plan` names, in batches; then lists the folder again. */
  async runDelete(plan: DeletePlan): Promise<boolean> {
    const keys = keysOfPlan(plan);
    this.#deleteError = undefined;
    this.#deleteFailures = [];
    this.#deleting = { done: 0, total: keys.length };
    try {
      const outcome = await deleteKeys(this.#s3(), keys, (done, total) => {
        this.#deleting = { done, total };
      });
      for (const key of keys) this.#probes.forget(key);
      if (outcome.failures.length > 0) {
        const first = outcome.failures[0];
        this.#deleteFailures = outcome.failures;
        this.#deleteError = shownError(
          new VeilError(
            'S3_REJECTED',
            `${outcome.failures.length} of ${keys.length} not deleted; first: ${first?.code ?? ''}`,
          ),
        );
      }
      this.#notice = deletedNotice(plan, outcome);
      return outcome.failures.length === 0;
    } catch (error) {
      this.#deleteError = shownError(s3Failure(error, { task: 'delete' }));
      return false;
    } finally {
      this.#deleting = undefined;
      await this.refresh();
    }
  }

  /** The keys the last delete could not remove, with S3's code for each. */
  get deleteFailures(): readonly DeleteFailure[] {
    return this.#deleteFailures;
  }

  clearDeleteError(): void {
    this.#deleteError = undefined;
    this.#deleteFailures = [];
  }

  /** Forgets badges after the credentials changed. */
  resetBadges(): void {
    this.#probes.reset();
    this.#badges.clear();
  }
}
