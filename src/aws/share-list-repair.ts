/**
 * "Rebuild list" of the Share dialog over an SDK S3 client ([Note: rebuilding a list of links]
 * in transfer/share-list-rebuild.ts): the file's header is opened with the session's keys (as the
 * dialog's listing opens it, fileShareLinks), its link ids become the fresh list, written by one
 * conditional PUT. Only the list object is written; the file is not touched.
 */
import { VeilError } from '../core';
import { rebuildLinks } from '../transfer/share-list-rebuild';
import type { LinkListTarget } from '../transfer/share-list';
import { fileShareLinks, type FileLinks, type ShareContext } from './share-link';
import { linkListStorageFor } from './share-storage';

function listTargetOf(context: ShareContext): LinkListTarget {
  return {
    storage: linkListStorageFor(context.client, context.bucket),
    location: { bucket: context.bucket, root: context.root },
    objectKey: context.key,
    openWith: context.openWith,
    wrapWith: context.wrapWith,
    context: context.context,
    ...(context.signal ? { signal: context.signal } : {}),
  };
}

/**
 * Replaces the file's unusable list of links by one rebuilt from its header's link keys.
 * @returns the file's links as listed after it.
 * @throws VeilError SHARE_LIST_CHANGED (the list opens, or changed meanwhile; nothing written),
 *   SHARE_LIST_REBUILD_FAILED (the PUT failed; the old object stays), and the errors of
 *   fileShareLinks for the header.
 */
export async function rebuildShareList(context: ShareContext): Promise<FileLinks> {
  const before = await fileShareLinks(context);
  if (!before.listError) throw new VeilError('SHARE_LIST_CHANGED', 'the list can be read');
  // With the list unreadable, the links listed are exactly the header's link keys.
  const headerIds = before.links.filter((link) => link.inFile).map((link) => link.id);
  await rebuildLinks(listTargetOf(context), headerIds, (context.nowMs ?? Date.now)());
  return fileShareLinks(context);
}
