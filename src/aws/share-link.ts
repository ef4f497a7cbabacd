/**
 * Making, listing and revoking share links, and the checks before one is opened ([Note: share
 * links] in core/share-link.ts; [Note: share links list] in transfer/share-list.ts). The app and
 * the command line run these with their own S3 adapters.
 *
 * Making a link: a presigned GET URL (real expiry), the entry in the file's list (so a link
 * whose rewrap then fails can still be seen and removed), the link key's EDK added by rewrap
 * (`addWith` = a raw AES keyring `veil-link`/<link id>), then the link. The rewrap keeps every
 * other EDK, so the lock-out check passes with the key that opened the file ([Note: rewrap
 * lock-out check]); a header at the EDK limit (16) refuses with TOO_MANY_EDKS before any write.
 * Revoking: the EDK removed by rewrap (one already gone counts as removed), then the entry; a
 * list that cannot be read then does not undo or fail the revoke (the key is out of the file).
 * Listing: the header's link keys joined with the list ([Note: links from the header] in
 * transfer/share-list.ts), so a key the list lacks is still shown and revoked.
 * On a versioned bucket the replaced version still holds the link's EDK, but the presigned URL
 * names no version: it reads only the current object.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  LINK_KEY_BYTES,
  LINK_PROVIDER_ID,
  PERSON_PROVIDER_ID,
  VeilError,
  keysNeeded,
  newLinkId,
  shareLinkUrl,
  type BindingRule,
  type EncryptionContext,
  type Keyring,
  type LinkExpiry,
  type MessageHeader,
  type SharePayload,
} from '../core';
import { RawAesKeyring } from '../keyrings/raw-aes';
import { bodyLayout } from '../transfer/download-plan';
import type { NamesLocation } from '../transfer/names-key';
import { rewrapObject } from '../transfer/rewrap';
import type { RewrapProgress, RewrapResult } from '../transfer/rewrap-options';
import type { RewrapS3 } from '../transfer/rewrap-s3';
import { inspectObject } from '../transfer/download';
import { downloadS3For } from '../transfer/download-s3';
import {
  changeLinks,
  joinLinks,
  readLinks,
  type FileLink,
  type LinkEntry,
  type LinkListTarget,
} from '../transfer/share-list';
import { presignGet } from './presign';
import { linkListStorageFor } from './share-storage';

/** What every share operation needs: the S3 client (presign, list), the rewrap seam, keys. */
export interface ShareContext {
  readonly client: S3Client;
  readonly rewrapS3: RewrapS3;
  readonly bucket: string;
  /** The location's root ('' or ending in '/'): the list lives below it. */
  readonly root: string;
  /** The file's stored object key. */
  readonly key: string;
  /** Opens the file and its list: any key of the session. */
  readonly openWith: Keyring;
  /** Wraps the list when written: the upload's keys. */
  readonly wrapWith: Keyring;
  /** The upload context the list is written with. */
  readonly context: EncryptionContext;
  /**
   * How the rewrap checks the file's binding ([Note: location binding] in core/location.ts): the
   * location's names' rule ('required' under private names).
   */
  readonly bindingRule: BindingRule;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RewrapProgress) => void;
  /** Clock, ms since the epoch. */
  readonly nowMs?: () => number;
}

/** What a new link carries besides the object. */
export interface NewLink {
  readonly requestedSeconds: number;
  /** The app's base URL (origin and path). */
  readonly appBase: string;
  /** The clear file name, only when the sharer includes it. */
  readonly name?: string;
  /** The file's size; default the plaintext size the new header and object size give. */
  readonly sizeBytes?: number;
  /** Who shares it. */
  readonly label: string;
}

/** A link made. */
export interface CreatedLink {
  readonly link: string;
  readonly entry: LinkEntry;
  readonly expiry: LinkExpiry;
  readonly rewrap: RewrapResult;
}

/** The raw AES keyring of a link key (`veil-link` / link id); takes and zeroes a copy. */
export function linkKeyring(linkId: string, linkKey: Uint8Array): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyNamespace: LINK_PROVIDER_ID,
    keyName: linkId,
    keyBytes: linkKey.slice(),
  });
}

/** The plaintext size a rewrapped object's layout gives, else its object size. */
function sizeOf(rewrap: RewrapResult): number {
  const header = rewrap.header;
  if (!header || header.contentType !== 'framed') return rewrap.objectBytes;
  const layout = bodyLayout(rewrap.objectBytes, header.headerBytes, header.frameBytes);
  return layout?.plaintextBytes ?? rewrap.objectBytes;
}

/** True when `header` holds the EDK of link `linkId`. */
export function hasLinkEdk(header: MessageHeader, linkId: string): boolean {
  return keysNeeded(header).some(
    (key) => key.providerId === LINK_PROVIDER_ID && key.keyName === linkId,
  );
}

function listTarget(context: ShareContext): LinkListTarget {
  const location: NamesLocation = { bucket: context.bucket, root: context.root };
  return {
    storage: linkListStorageFor(context.client, context.bucket),
    location,
    objectKey: context.key,
    openWith: context.openWith,
    wrapWith: context.wrapWith,
    context: context.context,
    ...(context.signal ? { signal: context.signal } : {}),
  };
}

/** The rewrap setup every share operation starts from (the location's binding rule included). */
export function shareRewrapBase(context: ShareContext) {
  return {
    s3: context.rewrapS3,
    bucket: context.bucket,
    key: context.key,
    openWith: context.openWith,
    bindingRule: context.bindingRule,
    ...(context.signal ? { signal: context.signal } : {}),
    ...(context.onProgress ? { onProgress: context.onProgress } : {}),
  };
}

/**
 * Makes a share link (see the file comment).
 * @throws VeilError OUT_OF_RANGE when the credentials end now; the rewrap's errors
 *   (TOO_MANY_EDKS, NO_MATCHING_EDK, REWRAP_*, S3_*); the list's (MALFORMED, S3_*).
 */
export async function createShareLink(
  context: ShareContext,
  request: NewLink,
): Promise<CreatedLink> {
  const nowMs = (context.nowMs ?? Date.now)();
  const presigned = await presignGet(
    context.client,
    context.bucket,
    context.key,
    request.requestedSeconds,
    nowMs,
  );
  const linkId = newLinkId();
  const entry: LinkEntry = {
    id: linkId,
    createdAtMs: nowMs,
    expiresAtMs: presigned.expiry.expiresAtMs,
    label: request.label,
    nameIncluded: request.name !== undefined,
  };
  const target = listTarget(context);
  await changeLinks(target, (entries) => [...entries, entry]);
  const linkKey = crypto.getRandomValues(new Uint8Array(LINK_KEY_BYTES));
  try {
    let rewrap: RewrapResult;
    try {
      rewrap = await rewrapObject({
        ...shareRewrapBase(context),
        addWith: await linkKeyring(linkId, linkKey),
      });
    } catch (error) {
      await changeLinks(target, (entries) => entries.filter((e) => e.id !== linkId)).catch(
        () => undefined,
      );
      throw error;
    }
    const payload: SharePayload = {
      url: presigned.url,
      bucket: context.bucket,
      key: context.key,
      linkId,
      linkKey,
      ...(request.name === undefined ? {} : { name: request.name }),
      sizeBytes: request.sizeBytes ?? sizeOf(rewrap),
      sharedBy: request.label,
      expiresAtMs: presigned.expiry.expiresAtMs,
    };
    return {
      link: shareLinkUrl(request.appBase, payload),
      entry,
      expiry: presigned.expiry,
      rewrap,
    };
  } finally {
    linkKey.fill(0);
  }
}

/**
 * A file's links as listed (expired ones included).
 * @throws the list's errors.
 */
export function listShareLinks(context: ShareContext): Promise<LinkEntry[]> {
  return readLinks(listTarget(context));
}

/** A file's links from its header and its list, and why the list could not be read. */
export interface FileLinks {
  readonly links: FileLink[];
  /** The list's error (MALFORMED, OBJECT_MISMATCH, S3_*): links shown from the header only. */
  readonly listError?: VeilError;
}

/** A file's links, and the people its header holds a key for (fingerprints, sorted). */
export interface FileShares extends FileLinks {
  readonly people: string[];
}

/**
 * The links of the file: the link keys of its header, opened with the session's keys (so the
 * header is authenticated) and checked by the location's binding rule, joined with its list
 * ([Note: links from the header] in transfer/share-list.ts), and the people (`veil-person` EDKs)
 * it is shared with.
 * @throws the download's errors for the header (NO_MATCHING_EDK, WRONG_KEY, OBJECT_MISMATCH, S3_*).
 */
export async function fileShareLinks(context: ShareContext): Promise<FileShares> {
  const opened = await inspectObject({
    s3: downloadS3For(context.client),
    bucket: context.bucket,
    key: context.key,
    keyring: context.openWith,
    bindingRule: context.bindingRule,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const needed = opened.header ? keysNeeded(opened.header) : [];
  const headerIds = needed
    .filter((key) => key.providerId === LINK_PROVIDER_ID)
    .map((key) => key.keyName);
  const people = needed
    .filter((key) => key.providerId === PERSON_PROVIDER_ID)
    .map((key) => key.keyName)
    .sort();
  try {
    return { links: joinLinks(headerIds, await readLinks(listTarget(context))), people };
  } catch (error) {
    if (!(error instanceof VeilError)) throw error;
    return { links: joinLinks(headerIds, []), listError: error, people };
  }
}

/**
 * Revokes link `linkId`: its EDK removed by rewrap, then its entry.
 * @returns the rewrap, or undefined when the file no longer held the EDK.
 * @throws VeilError SHARE_LINK_NOT_FOUND when neither the file nor the list knows the link;
 *   the rewrap's and the list's errors.
 */
export async function revokeShareLink(
  context: ShareContext,
  linkId: string,
): Promise<RewrapResult | undefined> {
  let rewrap: RewrapResult | undefined;
  try {
    rewrap = await rewrapObject({
      ...shareRewrapBase(context),
      remove: [{ keyName: linkId, providerId: LINK_PROVIDER_ID }],
    });
  } catch (error) {
    if (!(error instanceof VeilError && error.code === 'REWRAP_KEY_NOT_FOUND')) throw error;
  }
  const seen = { listed: false };
  try {
    await changeLinks(listTarget(context), (entries) => {
      seen.listed = entries.some((e) => e.id === linkId);
      return entries.filter((e) => e.id !== linkId);
    });
  } catch (error) {
    // The key is out of the file: an unreadable list (replaced, copied from elsewhere) must not
    // make the revoke look failed. Without a rewrap, the list was all there was to change.
    if (!rewrap || !(error instanceof VeilError)) throw error;
  }
  if (!rewrap && !seen.listed) throw new VeilError('SHARE_LINK_NOT_FOUND', linkId);
  return rewrap;
}
