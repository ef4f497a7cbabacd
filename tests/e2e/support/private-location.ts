/**
 * A private-names location of a spec's own: the built app served on the harness port with the
 * global setup's config.json plus a root of its own and `privateNames: true` (the other specs
 * expect the default root to stay plain), an S3 client for the local stack, the bucket listed
 * raw under that root, and the root emptied at the end. `serveProxiedPrivateLocation` sends every
 * AWS endpoint of the page through a recording fault proxy (scripts/stack/fault-proxy.ts), for the
 * specs that audit what goes over the wire.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startFaultProxy, type FaultProxy } from '../../../scripts/stack/fault-proxy';
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

/** A private location whose page reaches S3, KMS and Cognito only through `proxy`. */
export interface ProxiedPrivateLocation extends PrivateLocation {
  /** The recording proxy in front of moto (`proxy.records`: every request it passed). */
  readonly proxy: FaultProxy;
}

/**
 * Serves the app for a private location at `root` (ending in `/`), every AWS endpoint through a
 * recording proxy in front of moto; close() also stops the proxy.
 */
export async function serveProxiedPrivateLocation(root: string): Promise<ProxiedPrivateLocation> {
  const proxy = await startFaultProxy({ upstream: env('VEIL_MOTO_URL') });
  const endpoints = {
    s3: proxy.url,
    kms: proxy.url,
    cognitoIdentity: proxy.url,
    cognitoIdentityProvider: proxy.url,
  };
  const location = await servePrivateLocation(root, { endpoints }).catch(async (error: unknown) => {
    await proxy.close();
    throw error;
  });
  return {
    ...location,
    proxy,
    close: async () => {
      await location.close();
      await proxy.close();
    },
  };
}

/**
 * Serves the app for a private location at `root` (ending in `/`); `change` is laid over its
 * config.json.
 */
export async function servePrivateLocation(
  root: string,
  change: Record<string, unknown> = {},
): Promise<PrivateLocation> {
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
  const config = { ...served, ...change, prefix: root, privateNames: true };
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
