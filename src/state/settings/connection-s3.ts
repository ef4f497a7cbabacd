/**
 * The connection checks' S3 calls (connection-checks.ts, CheckS3) on the app's S3 client, and the
 * session as the checks see it.
 */
import { bucketS3For } from '../../aws/bucket-s3';
import type { AwsClients } from '../../aws/clients';
import type { CheckS3, ConnectionDeps } from './connection-checks';
import type { AwsSession } from '../shared/credentials.svelte';

/** CheckS3 over the app's S3 adapter (SDK checksums on, so PutObject sends a CRC32). */
export function checkS3For(s3: ReturnType<AwsClients['s3']>): CheckS3 {
  const on = (bucket: string) => bucketS3For(s3, bucket);
  return {
    async listOne(bucket, prefix) {
      await on(bucket).list({ prefix, maxKeys: 1 });
    },
    putProbe: (bucket, key, body, metadata) =>
      on(bucket).put(key, { body, contentType: 'text/plain', crc32: true, metadata }),
    async getProbe(bucket, key) {
      // Read the one byte so the connection is released.
      const read = await on(bucket).firstBytes(key, 1);
      return { etag: read.etag, metadata: read.metadata };
    },
    startMultipart: (bucket, key) => on(bucket).startMultipart(key, 'application/octet-stream'),
    abortMultipart: (bucket, key, uploadId) => on(bucket).abortMultipart(key, uploadId),
    deleteProbe: (bucket, key) => on(bucket).deleteKey(key),
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
