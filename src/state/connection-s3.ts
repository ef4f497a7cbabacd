/**
 * The connection checks' S3 calls (connection-checks.ts, CheckS3) on the app's S3 client, and the
 * session as the checks see it.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { VeilError } from '../core/errors';
import type { CheckS3, ConnectionDeps } from './connection-checks';
import type { AwsSession } from './credentials.svelte';

/** CheckS3 over an S3 client (its SDK checksums on, so PutObject sends a CRC32). */
export function checkS3For(s3: S3Client): CheckS3 {
  return {
    async listOne(bucket, prefix) {
      await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    },
    async putProbe(bucket, key, body, metadata) {
      const out = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'text/plain',
          ChecksumAlgorithm: 'CRC32',
          Metadata: { ...metadata },
        }),
      );
      return { etag: out.ETag, checksumCrc32: out.ChecksumCRC32 };
    },
    async getProbe(bucket, key) {
      const out = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-0' }),
      );
      // Read the one byte so the connection is released.
      const body = out.Body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
      await body?.transformToByteArray();
      return { etag: out.ETag, metadata: out.Metadata ?? {} };
    },
    async startMultipart(bucket, key) {
      const out = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: 'application/octet-stream',
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      if (!out.UploadId) throw new VeilError('S3_REJECTED', 'CreateMultipartUpload: no upload id');
      return out.UploadId;
    },
    async abortMultipart(bucket, key, uploadId) {
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
    },
    async deleteProbe(bucket, key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

/** The app session as the checks need it. */
export function checkSessionOf(session: AwsSession): ConnectionDeps['session'] {
  const status = session.status;
  if (status.state === 'signed-out' || status.state === 'working') return { state: status.state };
  if (status.state === 'failed') {
    return { state: 'failed', code: status.code, message: status.message };
  }
  const clients = (): AwsClients => session.clients();
  return {
    state: 'ready',
    identityId: session.identityId,
    hasIdToken: session.hasIdToken,
    pastedKeys: status.source === 'keys',
    idToken: () => session.idToken(),
    credentials: async () => {
      const provider = clients().s3().config.credentials;
      return provider();
    },
    s3: () => checkS3For(clients().s3()),
    kms: () => clients().kmsApi(),
  };
}
