/**
 * `veil names init KEYS s3://BUCKET/PREFIX/`: turns private names on for the location rooted at
 * PREFIX/ (the whole bucket for `s3://BUCKET/`) by creating its names key ([Note: names key
 * object] in transfer/names-key.ts) wrapped by the keys given, as an upload would wrap a file:
 * the first KMS key (else HSM key, else key file) makes the data key and every other key adds a
 * copy, and its encryption context is the upload context ([Note: upload encryption context]).
 *
 * Run again, it opens the names key that is there with those keys and says so (If-None-Match:
 * a names key is never replaced). Its output names the keys the stored names key opens with,
 * read back from its header. It refuses a location inside a private one: the path below a
 * private root is stored encrypted, so a names key at a clear folder inside it would never be
 * found by the app or by `veil ls` ([Note: names on the command line] in names.ts).
 *
 * Objects already under the prefix keep the plain keys they were stored under; once the names
 * are private they are listed as names that do not open, and downloads refuse them (they are not
 * bound where only bound objects are kept), so a note counts them.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Failure } from '../core/aws-failure';
import { VeilError } from '../core/errors';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  tryParseHeader,
} from '../core/header';
import { keysNeeded } from '../core/provider-info';
import { buildUploadContext } from '../keyrings/upload-context';
import { isReservedKey } from '../transfer/location-names';
import { ensureNamesKey, namesKeyObjectKey, type NamesKeyStorage } from '../transfer/names-key';
import { cliKeyring, writeKeyFlags, type KeyringFlags } from './keyrings';
import { keysText } from './ls';
import { candidateRoots, findNamesKey } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { cliS3, type CliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';

/** What `veil names init` is given. */
export interface NamesInitOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  /** The location; its key is the root prefix (a trailing `/` is added when missing). */
  readonly location: S3Location;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** What `veil names init` did. */
export interface NamesInitResult {
  readonly root: string;
  /** True when this run created the names key; false when it was there already. */
  readonly created: boolean;
}

/** The root prefix of a location URL's key: '' or ending in '/'. Pure. */
export function rootOf(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

/** The keys the stored names key opens with, as `veil ls` lists them; '?' when unparsable. */
export async function storedKeys(storage: NamesKeyStorage, key: string): Promise<string> {
  const message = await storage.read(key);
  if (!message) return '?';
  try {
    const parsed = tryParseHeader(message, {
      maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    });
    return 'header' in parsed ? keysText(keysNeeded(parsed.header)) : '?';
  } catch {
    return '?';
  }
}

/** True when objects other than Veil's own are under `root` (one short listing). */
async function objectsAlreadyThere(s3: CliS3, bucket: string, root: string): Promise<boolean> {
  try {
    const page = await s3.client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(root ? { Prefix: root } : {}),
        MaxKeys: 3,
      }),
    );
    return (page.Contents ?? []).some((entry) => !isReservedKey(root, entry.Key ?? ''));
  } catch (error) {
    throw s3Failure(error, { task: 'names init', operation: 'ListObjectsV2' });
  }
}

/**
 * Runs `veil names init` (see the header).
 * @throws VeilError USAGE for a location inside a private one or malformed flags;
 *   NAMES_KEY_UNREADABLE when a names key is there and the keys given do not open it;
 *   NAMES_KEY_INVALID, OBJECT_MISMATCH (the object there is not this location's names key);
 *   the keyring's errors; S3_REJECTED, S3_UNREACHABLE, CREDENTIALS_*.
 */
export async function initNames(options: NamesInitOptions): Promise<NamesInitResult> {
  const env = options.env ?? process.env;
  const { bucket } = options.location;
  const root = rootOf(options.location.key);
  const rootUrl = formatS3Url({ bucket, key: root });
  const s3 = await cliS3(options.s3, env);
  try {
    const storage = s3NamesKeyStorage(s3.client, bucket, 'names init');
    const above = await findNamesKey(storage, bucket, candidateRoots(root, 'folder').slice(0, -1));
    if (above) {
      throw new VeilError(
        'USAGE',
        `${rootUrl} is inside ${formatS3Url({ bucket, key: above.root })}, whose names are private already: its files are stored under encrypted names there; use that location`,
      );
    }
    const keyFlags = writeKeyFlags(options.keys);
    const { keyring, close } = await cliKeyring('encrypt', keyFlags, env);
    try {
      const opened = await ensureNamesKey(
        storage,
        { bucket, root },
        keyring,
        buildUploadContext({ bucket }),
      );
      const namesKeyUrl = formatS3Url({ bucket, key: namesKeyObjectKey({ bucket, root }) });
      const keys = await storedKeys(storage, namesKeyObjectKey({ bucket, root }));
      options.print(
        opened.created
          ? `private names on for ${rootUrl}: created ${namesKeyUrl} (keys: ${keys})`
          : `private names already on for ${rootUrl}: ${namesKeyUrl} opens with the keys given (keys: ${keys})`,
      );
      if (opened.created && (await objectsAlreadyThere(s3, bucket, root))) {
        options.print(
          `note: the objects already under ${rootUrl} keep their plain keys; veil ls lists them as names that do not open, and veil cp refuses to download them`,
        );
      }
      return { root, created: opened.created };
    } finally {
      close();
    }
  } finally {
    s3.close();
  }
}
