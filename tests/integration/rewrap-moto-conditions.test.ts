/**
 * What moto (the local S3 stand-in) enforces of the conditions the rewrap engine sends
 * ([Note: rewrap source check] in src/transfer/rewrap-multipart.ts), measured against the real
 * server with the real SDK. These tests pin moto's behaviour as found, so that a moto upgrade
 * that starts (or stops) enforcing one shows up here, and no rewrap test claims to check what
 * moto does not:
 * - GetObject If-Match: enforced (412).
 * - PutObject If-Match: enforced (412).
 * - UploadPartCopy x-amz-copy-source-range: honoured (the part holds exactly the range).
 * - UploadPartCopy x-amz-copy-source-if-match: NOT enforced (a wrong ETag copies anyway).
 * - CompleteMultipartUpload If-Match: NOT enforced (a wrong ETag completes anyway).
 * - CopyObject If-None-Match: *: NOT enforced (the copy overwrites an existing object), which is
 *   why a plain move looks at its destination first (src/transfer/rewrap-move.ts).
 * - CopyPartResult.ChecksumCRC32 for an upload created with CRC32: not returned.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRewrapMoto, type RewrapMoto } from './rewrap-moto';

const BUCKET = 'veil-rewrap-conditions';
const MIB = 1024 * 1024;
const WRONG_ETAG = '"00000000000000000000000000000000"';

let stack: RewrapMoto | undefined;
let client: S3Client;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  client = stack.client;
});

afterAll(async () => {
  await stack?.stop();
});

/** The HTTP status of a rejected SDK call, or 'ok' when it succeeded. */
async function statusOf(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

async function put(key: string, body: Uint8Array): Promise<string> {
  const reply = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return reply.ETag ?? '';
}

async function read(key: string): Promise<Buffer> {
  const reply = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await reply.Body!.transformToByteArray());
}

describe('moto and the conditions a rewrap sends', () => {
  test('GetObject and PutObject If-Match are enforced (412)', async () => {
    const etag = await put('get-put', randomBytes(100));
    const get = (ifMatch: string) =>
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'get-put', IfMatch: ifMatch }));
    expect(await statusOf(get(etag))).toBe('ok');
    expect(await statusOf(get(WRONG_ETAG))).toBe(412);
    const putIf = (ifMatch: string) =>
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'get-put', Body: 'x', IfMatch: ifMatch }),
      );
    expect(await statusOf(putIf(WRONG_ETAG))).toBe(412);
    expect(await statusOf(putIf(etag))).toBe('ok');
  });

  test('UploadPartCopy honours the copy range but not x-amz-copy-source-if-match', async () => {
    const source = randomBytes(6 * MIB);
    await put('copy-source', source);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'copy-target',
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const first = source.subarray(0, 5 * MIB);
    const part1 = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'copy-target',
        UploadId,
        PartNumber: 1,
        Body: first,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const copied = await client.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'copy-target',
        UploadId,
        PartNumber: 2,
        CopySource: `${BUCKET}/copy-source`,
        CopySourceRange: `bytes=${5 * MIB}-${6 * MIB - 1}`,
        CopySourceIfMatch: WRONG_ETAG, // real S3 answers 412; moto copies
      }),
    );
    expect(copied.CopyPartResult?.ETag).toBeTruthy();
    expect(copied.CopyPartResult?.ChecksumCRC32).toBeUndefined();
    const done = client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'copy-target',
        UploadId,
        IfMatch: WRONG_ETAG, // no object at the key at all: real S3 answers 404/412; moto completes
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: part1.ETag, ChecksumCRC32: part1.ChecksumCRC32 },
            { PartNumber: 2, ETag: copied.CopyPartResult?.ETag },
          ],
        },
      }),
    );
    expect(await statusOf(done)).toBe('ok');
    expect((await read('copy-target')).equals(source)).toBe(true);
  });

  test('CompleteMultipartUpload If-Match is not enforced over an existing object', async () => {
    await put('complete-target', randomBytes(10));
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'complete-target' }),
    );
    const part = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'complete-target',
        UploadId,
        PartNumber: 1,
        Body: 'new',
      }),
    );
    const done = client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'complete-target',
        UploadId,
        IfMatch: WRONG_ETAG,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const status = await statusOf(done);
    if (status !== 'ok') {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'complete-target', UploadId }),
      );
    }
    expect(status).toBe('ok');
    expect((await read('complete-target')).toString()).toBe('new');
  });

  test('CopyObject If-None-Match: * is not enforced: the copy overwrites', async () => {
    await put('copy-source', new TextEncoder().encode('moved'));
    await put('copy-taken', new TextEncoder().encode('kept'));
    const copy = client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy-taken',
        CopySource: `${BUCKET}/copy-source`,
        IfNoneMatch: '*',
      }),
    );
    expect(await statusOf(copy)).toBe('ok');
    expect((await read('copy-taken')).toString()).toBe('moved');
  });
});
