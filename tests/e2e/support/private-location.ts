/**
 * A private-names location of a spec's own: the built app served on the harness port with the
 * global setup's config.json plus a root of its own and `privateNames: true` (the other specs
 * expect the default root to stay plain), an S3 client for the local stack, the bucket listed
 * raw under that root, and the root emptied at the end.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from '../../../scripts/stack/provision';
import { serveStatic, type StaticServer } from '../../../scripts/stack/static-server';
import { env } from './upload-ui';

export interface PrivateLocation {
  readonly app: StaticServer;
  /** The config.json the page is served. */
  readonly config: Record<string, unknown> & { kms: { keyId: string }; region: string };
  readonly bucket: string;
  readonly s3: S3Client;
  /** Every stored key under the root, sorted. */
  keys(): Promise<string[]>;
  /** Deletes what is under the root and stops the server and the client. */
  close(): Promise<void>;
}

/** Serves the app for a private location at `root` (ending in `/`). */
export async function servePrivateLocation(root: string): Promise<PrivateLocation> {
  const bucket = env('VEIL_BUCKET');
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as PrivateLocation['config'];
  const config = { ...served, prefix: root, privateNames: true };
  const app = await serveStatic({
    root: process.env.VEIL_DIST_DIR ?? 'dist',
    port: Number(env('VEIL_HARNESS_PORT')),
    config,
  });
  const keys = async (): Promise<string[]> => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root }));
    return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
  };
  return {
    app,
    config,
    bucket,
    s3,
    keys,
    close: async () => {
      await app.close();
      const left = await keys();
      if (left.length > 0) {
        await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: left.map((Key) => ({ Key })) },
          }),
        );
      }
      s3.destroy();
    },
  };
}
