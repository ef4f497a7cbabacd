/**
 * "Upload here" in the Files view: files chosen or dropped onto the list go into the folder
 * shown, through the app's one upload queue (state/upload/uploads.svelte.ts). The queue takes
 * its destination as the folder path below the root as a person types it (its `folderText`), so
 * the folder shown is given as its clear path: with private names the queue encrypts every
 * segment as it does for the Upload page, and no clear name leaves the browser. Pure.
 */
import type { LocationNames } from '../../transfer/location-names';

/**
 * The destination folder text of the folder `prefix` below `root`: '' at the root, 'a/b' below
 * it (clear names where they are private); undefined when a private name on the way does not
 * open, where nothing may be uploaded.
 */
export function destinationOf(
  root: string,
  prefix: string,
  names: LocationNames | undefined,
): string | undefined {
  if (!prefix.startsWith(root) || prefix === root) return '';
  const path = names?.isPrivate ? names.clearPath(prefix) : prefix.slice(root.length);
  if (path === undefined) return undefined;
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** True when a drag carries files (not text or a link dragged within the page). */
export function dragHasFiles(types: readonly string[] | undefined): boolean {
  return types?.includes('Files') ?? false;
}

/** How many of `phases` are finished, to list the folder again when it grows. */
export function finishedCount(phases: readonly string[]): number {
  return phases.filter((phase) => phase === 'done').length;
}

/** An attachment that makes an element a drop target; returns its cleanup. */
export type DropTarget = (node: HTMLElement) => () => void;
