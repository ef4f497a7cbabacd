/**
 * Rows selected in the Files view: how clicks and shift-clicks change a selection ([Note: range
 * selection]), how it is named, and what it means for bulk actions: files by key and folders by
 * prefix (every object under it). Pure.
 */
import type { Row } from './listing';
import type { ProtectionTarget } from './protection-change-core';

/** A row's identity in a selection: files and folders never collide. */
export function rowId(row: Row): string {
  return row.kind === 'folder' ? `folder:${row.prefix}` : `file:${row.key}`;
}

/** The objects `rows` name: files by key, folders by prefix. */
export function targetOf(rows: readonly Row[]): ProtectionTarget {
  return {
    keys: rows.flatMap((row) => (row.kind === 'file' ? [row.key] : [])),
    prefixes: rows.flatMap((row) => (row.kind === 'folder' ? [row.prefix] : [])),
  };
}

/** How the dialog names a selection: the one row's name, else a count. */
export function selectionLabel(rows: readonly Row[]): string {
  const [only] = rows;
  if (rows.length === 1 && only)
    return only.kind === 'folder' ? `folder “${only.name}”` : `“${only.name}”`;
  const folders = rows.filter((row) => row.kind === 'folder').length;
  const files = rows.length - folders;
  const parts = [
    files > 0 ? `${files} ${files === 1 ? 'file' : 'files'}` : '',
    folders > 0 ? `${folders} ${folders === 1 ? 'folder' : 'folders'}` : '',
  ].filter(Boolean);
  return parts.join(' and ');
}

/**
 * [Note: range selection]
 * A plain click (or Space) on a row's checkbox toggles that row and makes it the anchor. A
 * shift-click (or Shift+Space) sets every row between the anchor and the clicked row, in the
 * order shown (sorted and filtered), to the clicked row's new state, as file managers and mail
 * clients do; the anchor stays, so a second shift-click moves the range's other end. Without an
 * anchor (or when the anchor is no longer shown) a shift-click is a plain click.
 */

/** The ids from `anchor` to `target` inclusive, in `order`; just `target` without an anchor. */
export function rangeIds(
  order: readonly string[],
  anchor: string | undefined,
  target: string,
): string[] {
  const to = order.indexOf(target);
  if (to < 0) return [];
  const from = anchor === undefined ? -1 : order.indexOf(anchor);
  if (from < 0) return [target];
  const [low, high] = from <= to ? [from, to] : [to, from];
  return order.slice(low, high + 1);
}

/** A selection and its anchor (the row the last plain click toggled). */
export interface SelectionState {
  readonly selected: ReadonlySet<string>;
  readonly anchor: string | undefined;
}

/**
 * The selection after a click on `target`'s checkbox that left it `on`, with or without Shift
 * ([Note: range selection]). `order` is the ids of the rows shown, in the order shown.
 */
export function clickSelection(
  state: SelectionState,
  order: readonly string[],
  target: string,
  on: boolean,
  shift: boolean,
): SelectionState {
  const selected = new Set(state.selected);
  const ids = shift ? rangeIds(order, state.anchor, target) : [target];
  for (const id of ids) {
    if (on) selected.add(id);
    else selected.delete(id);
  }
  const keepAnchor = shift && state.anchor !== undefined && order.includes(state.anchor);
  return { selected, anchor: keepAnchor ? state.anchor : target };
}

/** The rows of `rows` whose ids are in `selected`, in the order of `rows`. */
export function selectedOf(rows: readonly Row[], selected: ReadonlySet<string>): Row[] {
  return rows.filter((row) => selected.has(rowId(row)));
}

/** What the toolbar's live region says about a selection of `rows`. */
export function selectionStatus(rows: readonly Row[]): string {
  if (rows.length === 0) return 'Nothing selected.';
  return rows.length === 1
    ? `${selectionLabel(rows)} selected.`
    : `${rows.length} selected: ${selectionLabel(rows)}.`;
}
