/**
 * `s3://BUCKET/KEY` locations on the command line, as the AWS CLI writes them: the bucket is the
 * host part, the object key (or the prefix, for `veil ls`) everything after the first slash,
 * taken literally (no percent-decoding, so a key may hold `%`, `?` or `#`).
 */
import { VeilError } from '../core/errors';

/** A bucket and an object key or prefix. */
export interface S3Location {
  readonly bucket: string;
  /** The object key, or for a listing the prefix; may be empty for a listing. */
  readonly key: string;
}

const SCHEME = 's3://';

/**
 * S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with
 * a letter or digit (older buckets in us-east-1 may also hold uppercase letters and
 * underscores, which S3 still serves, so those are accepted too).
 */
const BUCKET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

/** Longest object key S3 accepts, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/** True when `text` is written as an S3 location (`s3://...`). */
export function isS3Url(text: string): boolean {
  return text.toLowerCase().startsWith(SCHEME);
}

/**
 * Parses `s3://BUCKET/KEY`.
 * @param what 'object' needs a key that names one object (not empty, not ending in `/`);
 *   'prefix' accepts `s3://BUCKET`, `s3://BUCKET/` and any prefix.
 * @throws VeilError USAGE naming what is wrong.
 */
export function parseS3Url(text: string, what: 'object' | 'prefix'): S3Location {
  if (!isS3Url(text)) throw new VeilError('USAGE', `"${text}" is not an s3://BUCKET/KEY location`);
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET_NAME.test(bucket)) {
    throw new VeilError('USAGE', `"${bucket}" is not an S3 bucket name (in ${text})`);
  }
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
    throw new VeilError('USAGE', `the object key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (what === 'object' && (key === '' || key.endsWith('/'))) {
    throw new VeilError('USAGE', `give the object's whole key: s3://${bucket}/KEY (got ${text})`);
  }
  return { bucket, key };
}

/** `s3://bucket/key` for messages. */
export function formatS3Url(location: S3Location): string {
  return `${SCHEME}${location.bucket}/${location.key}`;
}
