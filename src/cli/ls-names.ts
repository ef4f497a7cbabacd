/**
 * What a listing of `s3://BUCKET/PREFIX` covers and by which names it shows the objects: the
 * pages of ListObjectsV2 under the stored prefix, and each object's key as the user would type
 * it ([Note: names on the command line] in names.ts). With plain names the prefix and the keys
 * are what is stored. In a private location the prefix below the root is clear text and is
 * encrypted first: a folder (ending in `/`, or the root itself) lists everything under it; a
 * prefix that does not end in `/` names one file or folder (an encrypted name has no clear
 * beginning to match), so it lists that object and what is under a folder of that name. Each
 * stored key is opened back to its clear key; a key whose name does not open is shown as
 * stored, marked. Veil's own `.veil/` objects under the root are left out.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { s3Failure } from '../core/aws-failure';
import { isReservedKey, type LocationNames } from '../transfer/location-names';

/** One object as listed. */
export interface ListedObject {
  readonly key: string;
  readonly sizeBytes: number;
}

/** An object with the name to show it by. */
export interface NamedObject extends ListedObject {
  /** The clear key (the root, then the clear path), or the stored key when its name does not open. */
  readonly shownKey: string;
  /** False when the object's name does not open under the location's names key. */
  readonly nameOpened: boolean;
}

/** The stored prefix a listing asks S3 for, and which keys under it belong to the listing. */
export interface ListingScope {
  readonly prefix: string;
  /** For a private name without a trailing `/`: that object's stored key (and its folder's). */
  readonly exactKey?: string;
}

/**
 * The scope of a listing of `clearPrefix` (the URL's key) under `names`. Pure.
 * @throws VeilError NAME_INVALID, NAME_TOO_LONG for a private prefix that cannot be a name.
 */
export function listingScope(names: LocationNames, clearPrefix: string): ListingScope {
  if (!names.isPrivate) return { prefix: clearPrefix };
  // The root itself, written with or without its trailing slash.
  if (`${clearPrefix}/` === names.root || clearPrefix === names.root) return { prefix: names.root };
  const below = clearPrefix.slice(names.root.length);
  if (below.endsWith('/')) return { prefix: names.objectKey(below) };
  const exactKey = names.objectKey(below);
  return { prefix: exactKey, exactKey };
}

/** True when the stored `key` belongs to the listing of `scope`. */
function inScope(scope: ListingScope, key: string): boolean {
  return (
    scope.exactKey === undefined || key === scope.exactKey || key.startsWith(`${scope.exactKey}/`)
  );
}

/**
 * The objects of one page that the listing shows, each with its name (see the header). Pure
 * but for `names`' cache of opened folder names.
 */
export function nameObjects(
  names: LocationNames,
  scope: ListingScope,
  objects: readonly ListedObject[],
): NamedObject[] {
  if (!names.isPrivate)
    return objects.map((object) => ({ ...object, shownKey: object.key, nameOpened: true }));
  const named: NamedObject[] = [];
  for (const object of objects) {
    if (isReservedKey(names.root, object.key) || !inScope(scope, object.key)) continue;
    const clear = names.clearPath(object.key);
    named.push(
      clear === undefined
        ? { ...object, shownKey: object.key, nameOpened: false }
        : { ...object, shownKey: `${names.root}${clear}`, nameOpened: true },
    );
  }
  return named;
}

/**
 * The objects under `prefix`, one ListObjectsV2 page at a time.
 * @param maxKeysPerPage keys per page; default S3's (1000).
 * @throws VeilError S3_REJECTED, S3_UNREACHABLE, CREDENTIALS_* (s3Failure).
 */
export async function* listPages(
  client: S3Client,
  bucket: string,
  prefix: string,
  maxKeysPerPage?: number,
): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(token ? { ContinuationToken: token } : {}),
          ...(maxKeysPerPage ? { MaxKeys: maxKeysPerPage } : {}),
        }),
      );
    } catch (error) {
      throw s3Failure(error, { task: 'list', operation: 'ListObjectsV2' });
    }
    yield (page.Contents ?? []).map((entry) => ({
      key: entry.Key ?? '',
      sizeBytes: entry.Size ?? 0,
    }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
