/**
 * `veil cp`: which way the copy goes. Exactly one side is an `s3://BUCKET/KEY` location: a local
 * FILE to S3 is an encrypting upload (cp-upload.ts), S3 to a local FILE a verifying download
 * (cp-download.ts). Copies between two local files are `veil encrypt` / `veil decrypt`, and
 * copies inside S3 are not offered.
 */
import { VeilError } from '../core/errors';
import { downloadFile } from './cp-download';
import { uploadFile } from './cp-upload';
import type { KeyringFlags } from './keyrings';
import type { S3Flags } from './s3-client';
import { isS3Url, parseS3Url } from './s3-url';

/** What `veil cp` is given. */
export interface CopyOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly from: string;
  readonly to: string;
  readonly extraContext: Readonly<Record<string, string>>;
  readonly force: boolean;
}

/**
 * Runs `veil cp FROM TO`.
 * @throws VeilError USAGE when neither or both sides are S3 locations, or for an option that does
 *   not apply to the direction; and the errors of uploadFile and downloadFile.
 */
export async function copy(options: CopyOptions): Promise<void> {
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
      target: parseS3Url(options.to, 'object'),
      extraContext: options.extraContext,
    });
    return;
  }
  if (Object.keys(options.extraContext).length > 0) {
    throw new VeilError('USAGE', '--context applies to uploads (the header holds the context)');
  }
  await downloadFile({
    keys: options.keys,
    s3: options.s3,
    source: parseS3Url(options.from, 'object'),
    outPath: options.to,
    force: options.force,
  });
}
