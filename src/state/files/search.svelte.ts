/**
 * "Search subfolders" in the Files view: lists every key under the folder shown, one page of
 * ListObjectsV2 at a time without a delimiter, opens private names, and keeps the files and
 * folders whose clear name matches (search.ts). Cancellable; a new search or a new folder cancels
 * the one running. The view shows `hits` as rows with their folder path.
 */
import { s3Failure } from '../../core';
import type { FilesS3 } from '../../aws/bucket-s3';
import type { LocationNames } from '../../transfer/location-names';
import { shownError, type ShownError } from '../app/shown-error';
import { searchPage, type SearchFindings } from './search';

/** Keys per ListObjectsV2 page of a search (S3's most). */
export const SEARCH_PAGE_KEYS = 1000;

const NOTHING: SearchFindings = { hits: [], seenKeys: 0, unreadableKeys: 0 };

/** What a search is doing. */
export type SearchPhase = 'idle' | 'searching' | 'done' | 'cancelled' | 'failed';

export class SubfolderSearch {
  #phase = $state<SearchPhase>('idle');
  #findings = $state.raw<SearchFindings>(NOTHING);
  #query = $state('');
  #error = $state<ShownError | undefined>(undefined);
  #controller: AbortController | undefined;

  get phase(): SearchPhase {
    return this.#phase;
  }
  get findings(): SearchFindings {
    return this.#findings;
  }
  /** The query of the search shown. */
  get query(): string {
    return this.#query;
  }
  get error(): ShownError | undefined {
    return this.#error;
  }
  /** True while results (or a search) are shown instead of the folder's rows. */
  get active(): boolean {
    return this.#phase !== 'idle';
  }

  /** What the live region says about the search. */
  get status(): string {
    const count = this.#findings.hits.length;
    const found = `${count} ${count === 1 ? 'match' : 'matches'}`;
    switch (this.#phase) {
      case 'searching':
        return `Searching… ${found} in ${this.#findings.seenKeys} objects so far.`;
      case 'done':
        return `${found} in subfolders for “${this.#query}”.`;
      case 'cancelled':
        return `Search stopped: ${found} in the ${this.#findings.seenKeys} objects seen.`;
      case 'failed':
        return 'The search failed.';
      default:
        return '';
    }
  }

  /**
   * Searches everything under `prefix` for `query`, page by page, until done or cancelled.
   * Failures are kept in `error`, not thrown.
   */
  async run(
    s3: Pick<FilesS3, 'list'>,
    prefix: string,
    query: string,
    names: LocationNames | undefined,
  ): Promise<void> {
    this.cancel();
    const controller = new AbortController();
    this.#controller = controller;
    this.#phase = 'searching';
    this.#query = query;
    this.#error = undefined;
    this.#findings = NOTHING;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- one run's bookkeeping, never shown
    const seenFolders = new Set<string>();
    let token: string | undefined;
    try {
      do {
        const page = await s3.list(
          { prefix, maxKeys: SEARCH_PAGE_KEYS, ...(token ? { token } : {}) },
          controller.signal,
        );
        if (controller.signal.aborted) return;
        this.#findings = searchPage(prefix, page, query, names, this.#findings, seenFolders);
        token = page.nextToken;
      } while (token);
      this.#phase = 'done';
    } catch (error) {
      if (controller.signal.aborted) return;
      this.#error = shownError(s3Failure(error, { task: 'list', operation: 'ListObjectsV2' }));
      this.#phase = 'failed';
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  /** Stops a running search, keeping what it found so far. */
  cancel(): void {
    if (!this.#controller) return;
    this.#controller.abort();
    this.#controller = undefined;
    this.#phase = 'cancelled';
  }

  /** Back to the folder's rows. */
  clear(): void {
    this.cancel();
    this.#phase = 'idle';
    this.#findings = NOTHING;
    this.#query = '';
    this.#error = undefined;
  }
}
