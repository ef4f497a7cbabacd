/**
 * `veil cp`: which way the copy goes. Exactly one side is an `s3://BUCKET/KEY` location: a local
 * FILE to S3 is an encrypting upload (cp-upload.ts), S3 to a local FILE a verifying download
 * (cp-download.ts), or to stdout with FILE `-`. As with `aws s3 cp`, a key ending in `/` takes
 * the file's name, and a local folder the key's last segment. Copies between two local files are `veil encrypt` / `veil
 * decrypt`, and copies inside S3 are not offered. A share link as the source is a download with
 * the link's own key and no AWS credentials (cp-link.ts).
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { VeilError } from '../core/errors';
import { PADDING_SCHEMES, type PaddingScheme } from '../core/padding';
import { downloadFile } from './cp-download';
import { downloadLink, isShareLink } from './cp-link';
import { uploadFile } from './cp-upload';
import { namesNoKey, type KeyringFlags } from './keyrings';
import type { S3Flags } from './s3-client';
import { isS3Url, parseS3Url, type S3Location } from './s3-url';

/** What `veil cp` is given. */
export interface CopyOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly from: string;
  readonly to: string;
  readonly extraContext: Readonly<Record<string, string>>;
  readonly force: boolean;
  /** --pad: pad an upload's size ([Note: size padding] in core/padding.ts); default none. */
  readonly padding?: PaddingScheme | undefined;
}

/**
 * The scheme `--pad` names, or undefined without it.
 * @throws VeilError USAGE for a scheme Veil does not write.
 */
export function parsePadding(text: string | undefined): PaddingScheme | undefined {
  if (text === undefined) return undefined;
  const scheme = PADDING_SCHEMES.find((known) => known === text);
  if (!scheme) throw new VeilError('USAGE', `--pad takes ${PADDING_SCHEMES.join(' or ')}`);
  return scheme;
}

/** True when `path` ends with a slash or names an existing folder. */
async function isFolder(path: string): Promise<boolean> {
  if (path.endsWith('/')) return true;
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

/**
 * The local FILE a download writes: TO itself, or, when TO is a folder, the object key's last
 * segment inside it (as `aws s3 cp` does).
 * @throws VeilError USAGE when that segment cannot be a file name ("." or "..").
 */
async function downloadPath(source: S3Location, to: string): Promise<string> {
  if (!(await isFolder(to))) return to;
  const name = source.key.slice(source.key.lastIndexOf('/') + 1);
  if (name === '.' || name === '..') {
    throw new VeilError('USAGE', `name the file to write: the key ends in "${name}"`);
  }
  return join(to, name);
}

/**
 * The object an upload writes: the key given, or, when it ends with a slash, the file's name
 * under that prefix (as `aws s3 cp` does).
 */
function uploadTarget(from: string, to: string): S3Location {
  const prefix = parseS3Url(to, 'prefix');
  if (prefix.key === '' || prefix.key.endsWith('/')) {
    return parseS3Url(`${to}${to.endsWith('/') ? '' : '/'}${basename(from)}`, 'object');
  }
  return parseS3Url(to, 'object');
}

/**
 * Runs `veil cp '<share link>' FILE`.
 * @throws VeilError USAGE for KEYS, S3 options or an s3:// destination; downloadLink's errors.
 */
async function copyLink(options: CopyOptions): Promise<void> {
  const { keys } = options;
  if (!namesNoKey(keys) || keys.region !== undefined || keys.endpointUrl !== undefined) {
    throw new VeilError(
      'USAGE',
      'a share link carries its key and its address: give no KEYS, --region or --endpoint-url',
    );
  }
  if (isS3Url(options.to)) throw new VeilError('USAGE', 'a share link downloads to a local FILE');
  if (Object.keys(options.extraContext).length > 0 || options.padding !== undefined) {
    throw new VeilError('USAGE', '--context and --pad apply to uploads');
  }
  await downloadLink({ link: options.from, to: options.to, force: options.force });
}

/**
 * Runs `veil cp FROM TO`.
 * @throws VeilError USAGE when neither or both sides are S3 locations, or for an option that does
 *   not apply to the direction; and the errors of uploadFile and downloadFile.
 */
export async function copy(options: CopyOptions): Promise<void> {
  if (isShareLink(options.from)) {
    await copyLink(options);
    return;
  }
  const fromS3 = isS3Url(options.from);
  const toS3 = isS3Url(options.to);
  if (fromS3 === toS3) {
    throw new VeilError(
      'USAGE',
      fromS3
        ? 'veil cp copies between a file and S3, not inside S3'
        : 'veil cp needs an s3://BUCKET/KEY on one side (for two local files: veil encrypt or veil decrypt)',
    );
  }
  if (toS3) {
    if (options.force) {
      throw new VeilError('USAGE', '--force applies to downloads: an upload replaces the object');
    }
    await uploadFile({
      keys: options.keys,
      s3: options.s3,
      inPath: options.from,
      target: uploadTarget(options.from, options.to),
      extraContext: options.extraContext,
      padding: options.padding,
    });
    return;
  }
  if (Object.keys(options.extraContext).length > 0) {
    throw new VeilError('USAGE', '--context applies to uploads (the header holds the context)');
  }
  if (options.padding !== undefined) {
    throw new VeilError('USAGE', '--pad applies to uploads (a download strips any padding)');
  }
  const source = parseS3Url(options.from, 'object');
  await downloadFile({
    keys: options.keys,
    s3: options.s3,
    source,
    // `-` is stdout, written once the whole object verified (cp-download.ts).
    outPath: options.to === '-' ? '-' : await downloadPath(source, options.to),
    force: options.force,
  });
}
