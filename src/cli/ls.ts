/**
 * `veil ls s3://BUCKET/PREFIX`: every object under the prefix (ListObjectsV2, page after page),
 * each with its size, the key model(s) and the names of the keys that open it, read from its
 * header by the download engine's own opening (inspectObject: HeadObject and a ranged GET of the
 * first bytes, grown until the header parses; nothing is decrypted and no key is needed). One
 * line per object, the object key last:
 *
 *        41943040  A      reports/q1.pdf  keys: A team-key
 *           18231  C+A    notes.txt  keys: C arn:aws:kms:…:key/…, A recovery
 *            1000  -      readme.txt  not an ESDK message
 *
 * The model column lists the models of the header's encrypted data keys in order (A: raw AES
 * key, B: HSM, C: KMS). Key names and object keys are shown escaped ([Note: untrusted text]):
 * the header is not authenticated when it is listed. An object whose header does not parse is
 * listed with the error code; an S3 or credentials failure stops the listing.
 *
 * In a private location ([Note: names on the command line] in names.ts) the names key is opened
 * with the keys given (none: KMS discovery) and objects are listed by their clear keys, the
 * ones a `veil cp` takes; objects whose names do not open are listed by their stored keys,
 * marked, and counted in a last line (ls-names.ts); the listing is sorted by clear key (S3 lists
 * by the encrypted keys, an order that says nothing). A names key that does not open stops the
 * listing (NAMES_KEY_UNREADABLE). With plain names no key is needed or asked for.
 */
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { keysNeeded, type NeededKey } from '../core/provider-info';
import { escapeUntrusted } from '../core/untrusted-text';
import { HSM_PROVIDER_ID } from '../keyrings/hsm-proxy';
import { KMS_PROVIDER_ID } from '../keyrings/kms';
import { inspectObject } from '../transfer/download';
import { downloadS3For, type DownloadS3 } from '../transfer/download-s3';
import type { OpenedObject } from '../transfer/download-setup';
import { cliKeyring, readKeyFlags, type CliKeyring, type KeyringFlags } from './keyrings';
import {
  listingScope,
  listPages,
  nameObjects,
  type ListedObject,
  type NamedObject,
} from './ls-names';
import { namesFor } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { cliS3, type S3Flags } from './s3-client';
import type { S3Location } from './s3-url';

export type { ListedObject } from './ls-names';

/** Headers read at once. */
const HEADERS_IN_FLIGHT = 8;

/** Codes that say something about the bucket or the credentials, not about one object. */
const STOPS_LISTING = /^(S3_|CREDENTIALS_)/;

/** The marker after a stored key whose name does not open. */
export const UNREADABLE_NAME_MARKER = '[name not readable]';

/** What `veil ls` is given. */
export interface ListOptions {
  readonly s3: S3Flags;
  /** The keys that open a private location's names key; none needed for plain names. */
  readonly keys?: KeyringFlags;
  readonly location: S3Location;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Keys per ListObjectsV2 page; default S3's (1000). Tests use small pages. */
  readonly maxKeysPerPage?: number;
}

/** The model letter of an EDK's provider id. */
function modelOf(providerId: string): 'A' | 'B' | 'C' {
  if (providerId === KMS_PROVIDER_ID) return 'C';
  if (providerId === HSM_PROVIDER_ID) return 'B';
  return 'A';
}

/** The models of keys, in order, joined (`C+A`). Pure. */
export function modelsText(needed: readonly NeededKey[]): string {
  return [...new Set(needed.map((edk) => modelOf(edk.providerId)))].join('+');
}

/** Keys as listed: model letter and escaped key name, comma-separated. Pure. */
export function keysText(needed: readonly NeededKey[]): string {
  return needed
    .map((edk) => `${modelOf(edk.providerId)} ${escapeUntrusted(edk.keyName || '(unnamed)')}`)
    .join(', ');
}

/**
 * The listing line of an object: size, models, object key (the clear key in a private
 * location, or the stored key marked when its name does not open), then the keys (or what it is
 * when it is not an ESDK message). Pure.
 */
export function listingLine(
  object: ListedObject | NamedObject,
  opened: OpenedObject | VeilError,
): string {
  const size = String(object.sizeBytes).padStart(14);
  const named = 'shownKey' in object ? object : undefined;
  const name =
    named === undefined
      ? escapeUntrusted(object.key)
      : named.nameOpened
        ? escapeUntrusted(named.shownKey)
        : `${escapeUntrusted(named.key)}  ${UNREADABLE_NAME_MARKER}`;
  if (opened instanceof VeilError) {
    return `${size}  ${'?'.padEnd(5)}  ${name}  not a readable ESDK message: ${opened.code}`;
  }
  if (!opened.header) return `${size}  ${'-'.padEnd(5)}  ${name}  not an ESDK message`;
  const needed = keysNeeded(opened.header);
  return `${size}  ${modelsText(needed).padEnd(5)}  ${name}  keys: ${keysText(needed)}`;
}

/**
 * Objects in the order a listing shows them: names that open by their clear keys, in S3's order
 * for keys (UTF-8 bytes), then those whose names do not open, by their stored keys. Pure.
 */
export function sortByShownKey(objects: readonly NamedObject[]): NamedObject[] {
  const sortKey = (object: NamedObject) => Buffer.from(object.shownKey, 'utf8');
  return [...objects].sort((a, b) =>
    a.nameOpened !== b.nameOpened
      ? a.nameOpened
        ? -1
        : 1
      : Buffer.compare(sortKey(a), sortKey(b)),
  );
}

/** Opens one object's header; a format error is returned, an S3 or credentials one thrown. */
async function openHeader(
  s3: DownloadS3,
  bucket: string,
  key: string,
): Promise<OpenedObject | VeilError> {
  try {
    return await inspectObject({ s3, bucket, key });
  } catch (error) {
    if (error instanceof VeilError && !STOPS_LISTING.test(error.code)) return error;
    throw error;
  }
}

/**
 * Lists the objects under `options.location` (see the header).
 * @returns the number of objects listed.
 * @throws VeilError S3_REJECTED (a missing bucket, no s3:ListBucket or s3:GetObject),
 *   S3_UNREACHABLE, CREDENTIALS_*, USAGE for malformed flags; in a private location
 *   NAMES_KEY_UNREADABLE, NAMES_KEY_INVALID, OBJECT_MISMATCH (the names key), the keyring's
 *   errors, and NAME_INVALID / NAME_TOO_LONG for a prefix that cannot be a name.
 */
export async function listObjects(options: ListOptions): Promise<number> {
  const env = options.env ?? process.env;
  const { bucket, key: clearPrefix } = options.location;
  const s3 = await cliS3(options.s3, env);
  // The keyring is built only for a private location, and closed once its names key opened.
  const opened: { keyring?: CliKeyring } = {};
  const keyring = async (): Promise<Keyring> => {
    const keys = options.keys ?? { keyFiles: [], hsmKeys: [], kmsKeys: [], ...options.s3 };
    opened.keyring = await cliKeyring('decrypt', readKeyFlags(keys), env);
    return opened.keyring.keyring;
  };
  const closeKeyring = () => {
    opened.keyring?.close();
    delete opened.keyring;
  };
  const reader = downloadS3For(s3.client);
  let count = 0;
  let unreadable = 0;
  try {
    const storage = s3NamesKeyStorage(s3.client, bucket, 'list');
    const names = await namesFor(storage, options.location, 'folder', keyring);
    closeKeyring();
    const scope = listingScope(names, clearPrefix);
    const printAll = async (objects: readonly NamedObject[]): Promise<void> => {
      for (let start = 0; start < objects.length; start += HEADERS_IN_FLIGHT) {
        const batch = objects.slice(start, start + HEADERS_IN_FLIGHT);
        const headers = await Promise.all(
          batch.map((object) => openHeader(reader, bucket, object.key)),
        );
        batch.forEach((object, index) => {
          const result = headers[index];
          if (result) options.print(listingLine(object, result));
          if (!object.nameOpened) unreadable += 1;
        });
        count += batch.length;
      }
    };
    // S3 lists in the stored keys' order: plain keys are the names, so each page is printed as
    // it comes; encrypted ones are in no useful order, so a private listing is sorted first.
    const held: NamedObject[] = [];
    for await (const page of listPages(s3.client, bucket, scope.prefix, options.maxKeysPerPage)) {
      const objects = nameObjects(names, scope, page);
      if (names.isPrivate) held.push(...objects);
      else await printAll(objects);
    }
    if (names.isPrivate) await printAll(sortByShownKey(held));
    if (unreadable > 0) {
      options.print(
        `${unreadable} object${unreadable === 1 ? '' : 's'} listed by stored key: the name does not open with this location's names key (NAME_UNREADABLE)`,
      );
    }
  } finally {
    closeKeyring();
    s3.close();
  }
  return count;
}
