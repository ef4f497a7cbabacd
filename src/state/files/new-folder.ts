/**
 * New folder in the Files view. S3 has no folders, only keys with '/' in them; a folder that
 * holds nothing yet is a zero-byte object whose key is the folder's prefix (`photos/`), the
 * marker the S3 console writes. The listing shows that marker as the folder (a common prefix one
 * level up, and left out inside the folder itself: rowsOf in listing.ts), never as a file, and a
 * folder delete removes it with everything else under the prefix. With private names the new
 * segment is encrypted like any other (LocationNames.objectKey), so no clear name is sent.
 */
import type { BucketS3 } from '../../aws/bucket-s3';
import { MAX_OBJECT_KEY_BYTES, VeilError, checkedSegment } from '../../core';
import type { LocationNames } from '../../transfer/location-names';

/** What is wrong with a folder name the user typed, as a sentence; undefined when it is fine. */
export function folderNameProblem(name: string, taken: readonly string[]): string | undefined {
  const trimmed = name.trim();
  if (trimmed === '') return 'Type a name for the folder.';
  let normal: string;
  try {
    normal = checkedSegment(trimmed);
  } catch {
    return 'A folder name cannot be "." or "..", nor hold a "/" or a control character.';
  }
  if (taken.some((other) => other.normalize('NFC') === normal))
    return `There is already a folder or file named “${normal}” here.`;
  return undefined;
}

/**
 * The key of the marker of folder `name` in the folder `prefix`: the prefix and the name with a
 * trailing '/', or with private `names` the encrypted path of the clear folder.
 * @throws VeilError NAME_INVALID for a name folderNameProblem refuses, NAME_TOO_LONG when the
 *   key would pass S3's 1,024 bytes, NAME_UNREADABLE when the folder shown has no clear path.
 */
export function folderMarkerKey(
  prefix: string,
  name: string,
  names: LocationNames | undefined,
): string {
  const segment = checkedSegment(name.trim());
  let key: string;
  if (names?.isPrivate) {
    const parent = prefix === names.root ? '' : names.clearPath(prefix);
    if (parent === undefined) throw new VeilError('NAME_UNREADABLE', prefix);
    key = names.objectKey(`${parent}${segment}/`);
  } else {
    key = `${prefix}${segment}/`;
  }
  const keyBytes = new TextEncoder().encode(key).length;
  if (keyBytes > MAX_OBJECT_KEY_BYTES)
    throw new VeilError('NAME_TOO_LONG', `${keyBytes} bytes, ${MAX_OBJECT_KEY_BYTES} allowed`);
  return key;
}

/**
 * Writes the zero-byte marker `key` (ending in '/').
 * @throws what `s3.put` throws.
 */
export async function createFolderMarker(s3: Pick<BucketS3, 'put'>, key: string): Promise<void> {
  if (!key.endsWith('/')) throw new VeilError('BAD_ARGUMENT', 'a folder marker ends in "/"');
  await s3.put(key, { body: new Uint8Array(0), contentType: 'application/x-directory' });
}
