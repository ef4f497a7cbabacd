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
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { s3Failure } from '../core/aws-failure';
import { VeilError } from '../core/errors';
import { keysNeeded } from '../core/provider-info';
import { escapeUntrusted } from '../core/untrusted-text';
import { HSM_PROVIDER_ID } from '../keyrings/hsm-proxy';
import { KMS_PROVIDER_ID } from '../keyrings/kms';
import { inspectObject } from '../transfer/download';
import { downloadS3For, type DownloadS3 } from '../transfer/download-s3';
import type { OpenedObject } from '../transfer/download-setup';
import { cliS3, type S3Flags } from './s3-client';
import type { S3Location } from './s3-url';

/** Headers read at once. */
const HEADERS_IN_FLIGHT = 8;

/** Codes that say something about the bucket or the credentials, not about one object. */
const STOPS_LISTING = /^(S3_|CREDENTIALS_)/;

/** What `veil ls` is given. */
export interface ListOptions {
  readonly s3: S3Flags;
  readonly location: S3Location;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Keys per ListObjectsV2 page; default S3's (1000). Tests use small pages. */
  readonly maxKeysPerPage?: number;
}

/** One object as listed. */
export interface ListedObject {
  readonly key: string;
  readonly sizeBytes: number;
}

/** The model letter of an EDK's provider id. */
function modelOf(providerId: string): 'A' | 'B' | 'C' {
  if (providerId === KMS_PROVIDER_ID) return 'C';
  if (providerId === HSM_PROVIDER_ID) return 'B';
  return 'A';
}

/**
 * The listing line of an object: size, models, object key, then the keys (or what it is when
 * it is not an ESDK message). Pure.
 */
export function listingLine(object: ListedObject, opened: OpenedObject | VeilError): string {
  const size = String(object.sizeBytes).padStart(14);
  const name = escapeUntrusted(object.key);
  if (opened instanceof VeilError) {
    return `${size}  ${'?'.padEnd(5)}  ${name}  not a readable ESDK message: ${opened.code}`;
  }
  if (!opened.header) return `${size}  ${'-'.padEnd(5)}  ${name}  not an ESDK message`;
  const needed = keysNeeded(opened.header);
  const models = [...new Set(needed.map((edk) => modelOf(edk.providerId)))].join('+');
  const keys = needed
    .map((edk) => `${modelOf(edk.providerId)} ${escapeUntrusted(edk.keyName || '(unnamed)')}`)
    .join(', ');
  return `${size}  ${models.padEnd(5)}  ${name}  keys: ${keys}`;
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
 *   S3_UNREACHABLE, CREDENTIALS_* and USAGE for malformed flags.
 */
export async function listObjects(options: ListOptions): Promise<number> {
  const { bucket, key: prefix } = options.location;
  const s3 = await cliS3(options.s3, options.env ?? process.env);
  const reader = downloadS3For(s3.client);
  let count = 0;
  try {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await s3.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(token ? { ContinuationToken: token } : {}),
            ...(options.maxKeysPerPage ? { MaxKeys: options.maxKeysPerPage } : {}),
          }),
        );
      } catch (error) {
        throw s3Failure(error, { task: 'list', operation: 'ListObjectsV2' });
      }
      const objects: ListedObject[] = (page.Contents ?? []).map((entry) => ({
        key: entry.Key ?? '',
        sizeBytes: entry.Size ?? 0,
      }));
      for (let start = 0; start < objects.length; start += HEADERS_IN_FLIGHT) {
        const batch = objects.slice(start, start + HEADERS_IN_FLIGHT);
        const opened = await Promise.all(
          batch.map((object) => openHeader(reader, bucket, object.key)),
        );
        batch.forEach((object, index) => {
          const result = opened[index];
          if (result) options.print(listingLine(object, result));
        });
        count += batch.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.close();
  }
  return count;
}
