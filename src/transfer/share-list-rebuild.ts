/**
 * [Note: rebuilding a list of links] A file's list of links ([Note: share links list] in
 * share-list.ts) that cannot be used (garbage, another file's list copied over, a list wrapped
 * by keys this session lacks) blocks new links on that file: making one changes the list first.
 * Rebuilding writes a fresh list from the file's header, which is the truth of which links open
 * the file ([Note: links from the header]): one entry per `veil-link` EDK, its details unknown
 * (the label "Unknown link", made no later than the rebuild, its URL working at most 7 days after
 * it, whether it carries the name unknown). The header is only read: no EDK is removed, so every
 * working link keeps working.
 *
 * The unusable object is replaced by one conditional PUT (If-Match on the ETag of what was read,
 * or If-None-Match: * when there was none): either the fresh list is stored whole or nothing
 * changes. A list that opens after all, or that someone changed meanwhile, is left alone
 * (SHARE_LIST_CHANGED); a PUT that fails leaves the old object (SHARE_LIST_REBUILD_FAILED).
 */
import { MAX_PRESIGN_SECONDS, VeilError, errorName, isLinkId } from '../core';
import { linkListKey, openList, sealList, type LinkEntry, type LinkListTarget } from './share-list';

/** The label of an entry whose details a rebuild could not know. */
export const UNKNOWN_LINK_LABEL = 'Unknown link';

/** The codes of a list whose content cannot be used, which a rebuild repairs. */
const REBUILDABLE: ReadonlySet<string> = new Set(['MALFORMED', 'OBJECT_MISMATCH']);

/**
 * True when `error` (from reading a list) says the stored list cannot be used, rather than that
 * it could not be fetched: only then is rebuilding it offered.
 */
export function canRebuildAfter(error: unknown): boolean {
  return error instanceof VeilError && REBUILDABLE.has(error.code);
}

/**
 * The entries of a rebuilt list: one per link id of the header, details unknown, made by
 * `nowMs` and working at most until 7 days after it (no presigned URL lives longer).
 * @throws TypeError when an id is not a link id.
 */
export function rebuiltEntries(headerLinkIds: readonly string[], nowMs: number): LinkEntry[] {
  return [...new Set(headerLinkIds)].map((id) => {
    // Precondition: ids come from the header's veil-link EDKs, which name link ids.
    if (!isLinkId(id)) throw new TypeError('headerLinkIds: not a link id');
    return {
      id,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + MAX_PRESIGN_SECONDS * 1000,
      label: UNKNOWN_LINK_LABEL,
      nameIncluded: false,
      detailsUnknown: true,
    };
  });
}

/**
 * Replaces the file's unusable list by one rebuilt from `headerLinkIds` (see the Note).
 * @returns the entries written.
 * @throws VeilError SHARE_LIST_CHANGED when the stored list opens or changed meanwhile (nothing
 *   written); SHARE_LIST_REBUILD_FAILED when the PUT fails (the old object stays); the read's
 *   storage errors.
 */
export async function rebuildLinks(
  target: LinkListTarget,
  headerLinkIds: readonly string[],
  nowMs: number,
): Promise<LinkEntry[]> {
  const listKey = await linkListKey(target.location, target.objectKey);
  const stored = await target.storage.read(listKey, target.signal);
  if (stored) {
    const opens = await openList(target, listKey, stored).then(
      () => true,
      (error: unknown) => {
        if (canRebuildAfter(error)) return false;
        throw error;
      },
    );
    if (opens) throw new VeilError('SHARE_LIST_CHANGED', `${listKey} can be read`);
  }
  const entries = rebuiltEntries(headerLinkIds, nowMs);
  const body = await sealList(target, listKey, entries);
  let written: boolean;
  try {
    written = await target.storage.write(
      listKey,
      body,
      stored ? { ifMatch: stored.etag } : { ifNoneMatch: '*' },
      target.signal,
    );
  } catch (cause) {
    const code = cause instanceof VeilError ? (cause.detail ?? cause.code) : errorName(cause);
    throw new VeilError('SHARE_LIST_REBUILD_FAILED', `${listKey}: ${code}`, { cause });
  }
  if (!written) throw new VeilError('SHARE_LIST_CHANGED', `${listKey} changed meanwhile`);
  return entries;
}
