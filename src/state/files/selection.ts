/**
 * Rows selected in the Files view, and what a selection means for "Change protection": files by
 * key and folders by prefix (every object under it). Pure.
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
