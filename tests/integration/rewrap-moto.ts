/**
 * What the rewrap integration tests share: a bucket on moto, an SDK client for it, messages
 * stored as an upload would store them, reads and the count of open multipart uploads.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { startMoto } from '../../scripts/stack/moto';
import { freePort, type Managed } from '../../scripts/stack/process';
import { VeilError, encryptBytes } from '../../src/core';
import type { Keyring } from '../../src/core';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import type { NamesKeyStorage } from '../../src/transfer/names-key';
import { objectParams } from '../../src/transfer/object-params';
import { patternBytes } from '../unit/core/helpers';
import { createFileBucket, motoS3, removeFileBucket, sharedStack } from './support/shared-stack';

export const MIB = 1024 * 1024;
export const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 };

/** moto with one bucket (versioned when asked), and a client for it. */
export interface RewrapMoto {
  /** moto's endpoint, for other services' clients (KMS). */
  readonly url: string;
  readonly client: S3Client;
  readonly bucket: string;
  stop(): Promise<void>;
}

/**
 * `bucket` (versioned when asked) on the run's shared moto ([Note: one stack per run]), or in a
 * project without one on a moto of its own; `stop` deletes the bucket, or stops that moto.
 */
export async function startRewrapMoto(bucket: string, versioned = false): Promise<RewrapMoto> {
  const shared = sharedStack();
  let moto: Managed | undefined;
  let url = shared?.motoUrl;
  if (!url) {
    const port = await freePort();
    moto = await startMoto(port);
    url = `http://127.0.0.1:${port}`;
  }
  const client = motoS3(url);
  await createFileBucket(client, bucket, { versioned });
  return {
    url,
    client,
    bucket,
    async stop() {
      try {
        if (moto) await moto.stop();
        else await removeFileBucket(client, bucket);
      } finally {
        client.destroy();
      }
    },
  };
}

export const rawKeyring = (bytes: Uint8Array, keyName: string): Promise<Keyring> =>
  RawAesKeyring.fromBytes({ keyBytes: bytes.slice(), keyNamespace: 'veil', keyName });

/** Stores a message of `plaintextBytes` under `keyring`, as an upload would (model A, SSE-S3). */
export async function storeMessage(
  stack: RewrapMoto,
  key: string,
  plaintextBytes: number,
  keyring: Keyring,
): Promise<{ plaintext: Uint8Array; message: Uint8Array; versionId: string | undefined }> {
  const plaintext = patternBytes(plaintextBytes, plaintextBytes % 251);
  const message = await encryptBytes(plaintext, { keyring });
  const params = objectParams(true, 'A', { type: 'SSE-S3' });
  const put = await stack.client.send(
    new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: message, ...params }),
  );
  return { plaintext, message, versionId: put.VersionId };
}

/** The object's bytes (the current version, or `versionId`). */
export async function readObject(
  stack: RewrapMoto,
  key: string,
  versionId?: string,
): Promise<Uint8Array> {
  const reply = await stack.client.send(
    new GetObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      ...(versionId ? { VersionId: versionId } : {}),
    }),
  );
  return reply.Body!.transformToByteArray();
}

/** Multipart uploads left open in the bucket. */
export async function openUploads(stack: RewrapMoto): Promise<number> {
  const listed = await stack.client.send(new ListMultipartUploadsCommand({ Bucket: stack.bucket }));
  return listed.Uploads?.length ?? 0;
}

/** The VeilError `run` rejects with (fails the test if it resolves or throws something else). */
export async function rejection(run: Promise<unknown>): Promise<VeilError> {
  const error = await run.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof VeilError)) throw new Error(`expected a VeilError, got ${String(error)}`);
  return error;
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a).equals(Buffer.from(b));

/** The names key's storage on the stack's bucket (GetObject, PutObject If-None-Match, Delete). */
export function namesStorage(stack: RewrapMoto): NamesKeyStorage & {
  remove(key: string): Promise<void>;
} {
  return {
    read: (key) =>
      readObject(stack, key).catch((error: { name?: string }) => {
        if (error.name === 'NoSuchKey') return undefined;
        throw error;
      }),
    createOnly: (key, body) =>
      stack.client
        .send(
          new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body, IfNoneMatch: '*' }),
        )
        .then(() => true),
    remove: (key) =>
      stack.client
        .send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }))
        .then(() => undefined),
  };
}
