/**
 * The integration run's one local stack, seen from a test file: its addresses, and a bucket of
 * the file's own on it that is emptied and deleted after the file's tests.
 *
 * [Note: one stack per run] Starting moto, provisioning it, making a SoftHSM2 token and starting
 * the HSM proxy costs about 5 s of CPU; once per test file it was a large part of the integration
 * tests' CPU. So the `integration` project starts one stack in its global setup
 * (shared-stack-setup.ts) and each file works in a bucket of its own on it: a file sees only the
 * objects it wrote, and a file's bucket is emptied and deleted after its tests, so moto does not
 * hold every file's objects to the end. What the files share on purpose: KMS (keys they create
 * have their own ids; the demo alias is only read), the Cognito pools (users they add have names
 * of their own) and the HSM proxy with its key and audit log. A file keeps a stack of its own
 * when it changes what the others share or counts what happens on it: the proxy's limits and
 * policy (hsm-proxy.test.ts, the proof tests), the start of a stack itself (stack.test.ts,
 * start*.test.ts), moto's answers to its own requests only. Each says why beside its start.
 * The files run one at a time (fileParallelism: false), so none sees another's requests in
 * flight. The `integration-waits` project has no shared stack: its one file starts its own.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { LOCAL_CREDENTIALS, provisionBucket } from '../../../scripts/stack/provision';
import type { Stack } from '../../../scripts/stack/stack';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's local stack (the `integration` project's global setup provides it). */
    veilSharedStack: SharedStack;
  }
}

/** The app origins the shared HSM proxy allows (those the sharing files name). */
export const SHARED_ORIGINS = [5992, 5993, 5994, 5995, 5996, 5997, 5998, 5999].map(
  (port) => `http://127.0.0.1:${port}`,
);

/** What the global setup hands the files: the stack without its processes, and its folder. */
export type SharedStack = Omit<Stack, 'services' | 'stop'> & { dir: string };

/** The run's stack, or undefined in a project without one (integration-waits, one file alone). */
export function sharedStack(): SharedStack | undefined {
  // inject gives undefined for what the project's global setup did not provide.
  return inject('veilSharedStack');
}

/** An S3 client for moto at `motoUrl`. */
export function motoS3(motoUrl: string, region = 'us-east-1'): S3Client {
  return new S3Client({
    region,
    endpoint: motoUrl,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
}

/**
 * Creates `bucket` on the shared moto for one file, with the app's CORS rules for `origins`
 * when given (as the stack provisions its own), versioned when asked.
 * @throws Error when the bucket exists already: another file would see this file's objects.
 */
export async function createFileBucket(
  client: S3Client,
  bucket: string,
  options: { origins?: readonly string[]; versioned?: boolean } = {},
): Promise<void> {
  const exists = await client.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    () => false,
  );
  if (exists) throw new Error(`bucket ${bucket} exists on the shared moto: give this file its own`);
  if (options.origins) {
    await provisionBucket(client, { bucket, origins: [...options.origins] });
  } else {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  if (options.versioned) {
    await client.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
  }
}

/** Deletes every version, delete marker and unfinished upload in `bucket`, then the bucket. */
export async function removeFileBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const upload of uploads.Uploads ?? []) {
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: upload.Key,
          UploadId: upload.UploadId,
        }),
      );
    }
    if (!uploads.IsTruncated) break;
  }
  for (;;) {
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((entry) => ({
      Key: entry.Key,
      VersionId: entry.VersionId,
    }));
    if (objects.length === 0) break;
    await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
