/**
 * The rows the Files view shows and which of them are selected: the folder's rows narrowed by
 * the filter, or the matches of a subfolder search (search.svelte.ts), with the selection over
 * them ([Note: range selection] in selection.ts). The view binds the filter to `query` and passes
 * `select`, `selectAll` and `folderOf` to the table as they are.
 */
import { SvelteSet } from 'svelte/reactivity';
import type { FilesS3 } from '../../aws/bucket-s3';
import type { FilesBrowser } from './files.svelte';
import { sortRows, type Row } from './listing';
import { filterRows } from './search';
import { SubfolderSearch } from './search.svelte';
import { clickSelection, rowId, selectedOf } from './selection';

export class ShownRows {
  readonly #browser: FilesBrowser;
  /** Ids (rowId) of the selected rows. */
  readonly selected = new SvelteSet<string>();
  #anchor: string | undefined;
  /** The filter as typed. */
  query = $state('');
  readonly search = new SubfolderSearch();
  readonly #hitFolders = $derived(
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- derived anew, never changed
    new Map(this.search.findings.hits.map((hit) => [rowId(hit.row), hit.folder])),
  );
  readonly #rows = $derived.by(() =>
    this.search.active
      ? sortRows(
          this.search.findings.hits.map((hit) => hit.row),
          this.#browser.sort,
        )
      : filterRows(this.#browser.rows, this.query),
  );

  constructor(browser: FilesBrowser) {
    this.#browser = browser;
  }

  /** The rows shown, in order. */
  get rows(): Row[] {
    return this.#rows;
  }

  /** The selected rows among those shown, in order. */
  get selectedRows(): Row[] {
    return selectedOf(this.#rows, this.selected);
  }

  /** A search match's folder below the folder shown ('' for the folder's own rows). */
  readonly folderOf = (row: Row): string => this.#hitFolders.get(rowId(row)) ?? '';

  /** A checkbox click, or with `range` a shift-click ([Note: range selection]). */
  readonly select = (row: Row, on: boolean, range: boolean): void => {
    const order = this.#rows.map(rowId);
    const next = clickSelection(
      { selected: this.selected, anchor: this.#anchor },
      order,
      rowId(row),
      on,
      range,
    );
    this.selected.clear();
    for (const id of next.selected) this.selected.add(id);
    this.#anchor = next.anchor;
  };

  /** Selects every row shown, or none. */
  readonly selectAll = (on: boolean): void => {
    this.selected.clear();
    this.#anchor = undefined;
    if (on) for (const row of this.#rows) this.selected.add(rowId(row));
  };

  /** Searches below the folder shown for the filter's text. */
  searchSubfolders(s3: Pick<FilesS3, 'list'>): void {
    this.selectAll(false);
    void this.search.run(s3, this.#browser.prefix, this.query, this.#browser.names);
  }

  /** Another folder: no selection, no filter, no search. */
  reset(): void {
    this.selectAll(false);
    this.query = '';
    this.search.clear();
  }
}
