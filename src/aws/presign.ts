/**
 * Presigned GET URLs for share links ([Note: share links] in core/share-link.ts), signed with
 * the S3 client's own credentials through `@aws-sdk/s3-request-presigner`. The URL's lifetime is
 * the link's real expiry (linkExpiry): never longer than the credentials that sign it (a
 * Cognito identity pool's last about an hour, IAM user keys do not expire) nor 7 days.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { linkExpiry, type LinkExpiry } from '../core';

/** A presigned GET URL and how long it lives. */
export interface PresignedGet {
  readonly url: string;
  readonly expiry: LinkExpiry;
}

/**
 * When the client's current credentials expire, in ms since the epoch; undefined for
 * credentials that do not expire (IAM user keys).
 */
export async function credentialsExpireAtMs(client: S3Client): Promise<number | undefined> {
  const identity = await client.config.credentials();
  return identity.expiration?.getTime();
}

/**
 * Signs a GET of `bucket`/`key` for `requestedSeconds`, cut to what the credentials allow.
 * @throws VeilError OUT_OF_RANGE when the credentials end now (linkExpiry), and the SDK's
 *   credential errors.
 */
export async function presignGet(
  client: S3Client,
  bucket: string,
  key: string,
  requestedSeconds: number,
  nowMs: number = Date.now(),
): Promise<PresignedGet> {
  const expiry = linkExpiry(nowMs, requestedSeconds, await credentialsExpireAtMs(client));
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: expiry.expiresInSeconds,
    signingDate: new Date(nowMs),
  });
  return { url, expiry };
}
