/**
 * The requests the rewrap engine sends, recorded by a fake S3 seam over one stored object: every
 * read of the old object carries its ETag (GET If-Match, x-amz-copy-source-if-match, Complete and
 * PutObject If-Match), copies name the version HEAD saw, the new object keeps the old one's
 * content headers, SSE-KMS key and storage class, and transient failures are retried. moto does
 * not enforce the copy condition or Complete's If-Match (rewrap-moto-conditions.test.ts), so
 * that they are sent is shown here.
 */
import type {
  CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommandInput,
  PutObjectCommandInput,
  UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { decryptBytes, encryptBytes } from '../../../src/core';
import type { Keyring } from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import type { RangeRequest } from '../../../src/transfer/download-s3';
import { rewrapObject } from '../../../src/transfer/rewrap';
import type { RewrapHead, RewrapS3 } from '../../../src/transfer/rewrap-s3';
import { expectCode, patternBytes, testKeyBytes } from '../core/helpers';

const MIB = 1024 * 1024;
const ETAG = '"etag-of-the-old-object"';
const VERSION = 'v-old';
const OLD_KEY = testKeyBytes(256, 21);
const NEW_KEY = testKeyBytes(256, 22);

const keyring = (bytes: Uint8Array, keyName: string): Promise<Keyring> =>
  RawAesKeyring.fromBytes({ keyBytes: bytes.slice(), keyNamespace: 'veil', keyName });

const HEAD: Omit<RewrapHead, 'contentLength'> = {
  etag: ETAG,
  versionId: VERSION,
  metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A', owner: 'kept' },
  contentType: 'application/octet-stream',
  cacheControl: 'no-store',
  contentDisposition: 'attachment',
  contentEncoding: undefined,
  contentLanguage: 'en',
  serverSideEncryption: 'aws:kms',
  sseKmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/at-rest',
  bucketKeyEnabled: true,
  sseCustomerAlgorithm: undefined,
  storageClass: 'STANDARD_IA',
};

/** A fake seam over one object that records each call and rebuilds the new object. */
function fakeS3(stored: Uint8Array, fail: { copy503Once?: boolean } = {}) {
  const calls = {
    ranges: [] as RangeRequest[],
    creates: [] as CreateMultipartUploadCommandInput[],
    copies: [] as UploadPartCopyCommandInput[],
    completes: [] as CompleteMultipartUploadCommandInput[],
    puts: [] as PutObjectCommandInput[],
    aborts: 0,
  };
  const parts = new Map<number, Uint8Array>();
  let written: Uint8Array | undefined;
  let failedOnce = false;
  const s3: RewrapS3 = {
    headObject: () => Promise.resolve({ ...HEAD, contentLength: stored.length }),
    getRange: (request) => {
      calls.ranges.push(request);
      return Promise.resolve({
        bytes: stored.slice(request.startBytes, request.endBytes),
        etag: ETAG,
        totalBytes: stored.length,
      });
    },
    createMultipartUpload: (input) => {
      calls.creates.push(input);
      return Promise.resolve({ UploadId: 'upload-1', $metadata: {} });
    },
    uploadPart: (input) => {
      parts.set(input.PartNumber ?? 0, input.Body as Uint8Array);
      return Promise.resolve({ ETag: `"p${input.PartNumber}"`, $metadata: {} });
    },
    uploadPartCopy: (input) => {
      if (fail.copy503Once && !failedOnce) {
        failedOnce = true;
        const busy = Object.assign(new Error('Slow Down'), {
          name: 'SlowDown',
          $metadata: { httpStatusCode: 503 },
        });
        return Promise.reject(busy);
      }
      calls.copies.push(input);
      const [first, last] = (input.CopySourceRange ?? '').replace('bytes=', '').split('-');
      parts.set(input.PartNumber ?? 0, stored.slice(Number(first), Number(last) + 1));
      return Promise.resolve({
        CopyPartResult: { ETag: `"c${input.PartNumber}"`, ChecksumCRC32: 'AAAAAA==' },
        $metadata: {},
      });
    },
    completeMultipartUpload: (input) => {
      calls.completes.push(input);
      const numbers = (input.MultipartUpload?.Parts ?? []).map((part) => part.PartNumber ?? 0);
      written = Buffer.concat(numbers.map((n) => parts.get(n) ?? new Uint8Array(0)));
      return Promise.resolve({ ETag: '"new"', $metadata: {} });
    },
    abortMultipartUpload: () => {
      calls.aborts++;
      return Promise.resolve({ $metadata: {} });
    },
    putObject: (input) => {
      calls.puts.push(input);
      written = input.Body as Uint8Array;
      return Promise.resolve({ ETag: '"new"', $metadata: {} });
    },
  };
  return { s3, calls, written: () => written };
}

async function oldObject(plaintextBytes: number) {
  const plaintext = patternBytes(plaintextBytes, 3);
  const message = await encryptBytes(plaintext, { keyring: await keyring(OLD_KEY, 'old') });
  return { plaintext, message };
}

async function setup(s3: RewrapS3) {
  return {
    s3,
    bucket: 'b',
    key: 'dir/file.veil',
    openWith: await keyring(OLD_KEY, 'old'),
    addWith: await keyring(NEW_KEY, 'new'),
    remove: [{ keyName: 'old' }],
    model: 'B' as const,
    copyPartBytes: 5 * MIB,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
  };
}

const KEPT = {
  ContentType: 'application/octet-stream',
  CacheControl: 'no-store',
  ContentDisposition: 'attachment',
  ContentLanguage: 'en',
  Metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'B', owner: 'kept' },
  ServerSideEncryption: 'aws:kms',
  SSEKMSKeyId: 'arn:aws:kms:us-east-1:111122223333:key/at-rest',
  BucketKeyEnabled: true,
  StorageClass: 'STANDARD_IA',
};

describe('the requests of a rewrap', () => {
  it('multipart: conditions on the old ETag and version, kept settings, a retried copy', async () => {
    const { plaintext, message } = await oldObject(12 * MIB);
    const fake = fakeS3(message, { copy503Once: true });
    const result = await rewrapObject(await setup(fake.s3));
    expect(result.method).toBe('multipart');
    expect(fake.calls.ranges.every((range) => range.ifMatch === ETAG)).toBe(true);
    expect(fake.calls.creates).toEqual([
      expect.objectContaining({ ...KEPT, ChecksumAlgorithm: 'CRC32' }),
    ]);
    expect(fake.calls.copies.length).toBe(result.partCount - 1);
    for (const copy of fake.calls.copies) {
      expect(copy.CopySourceIfMatch).toBe(ETAG);
      expect(copy.CopySource).toBe(`b/dir/file.veil?versionId=${VERSION}`);
    }
    const [complete] = fake.calls.completes;
    expect(complete?.IfMatch).toBe(ETAG);
    expect(complete?.MultipartUpload?.Parts?.map((part) => part.PartNumber)).toEqual([1, 2, 3]);
    expect(complete?.MultipartUpload?.Parts?.[1]?.ChecksumCRC32).toBe('AAAAAA==');
    expect(fake.calls.aborts).toBe(0);
    const opened = await decryptBytes(fake.written()!, { keyring: await keyring(NEW_KEY, 'new') });
    expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('put: one GET of the whole small object and a PutObject with If-Match', async () => {
    const { plaintext, message } = await oldObject(1000);
    const fake = fakeS3(message);
    const result = await rewrapObject(await setup(fake.s3));
    expect(result.method).toBe('put');
    expect(fake.calls.ranges).toEqual([
      { bucket: 'b', key: 'dir/file.veil', startBytes: 0, endBytes: message.length, ifMatch: ETAG },
    ]);
    expect(fake.calls.puts).toEqual([
      expect.objectContaining({ ...KEPT, IfMatch: ETAG, ChecksumAlgorithm: 'CRC32' }),
    ]);
    expect(fake.calls.puts[0]?.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const opened = await decryptBytes(fake.written()!, { keyring: await keyring(NEW_KEY, 'new') });
    expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('a permanent failure aborts the upload; a cancel before the start sends nothing', async () => {
    const { message } = await oldObject(12 * MIB);
    const fake = fakeS3(message);
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const s3: RewrapS3 = { ...fake.s3, uploadPartCopy: () => Promise.reject(denied) };
    const error = await expectCode(rewrapObject(await setup(s3)), 'S3_REJECTED');
    expect(error.detail).toBe('rewrap UploadPartCopy: AccessDenied');
    expect(fake.calls.aborts).toBe(1);
    expect(fake.calls.completes).toEqual([]);

    const cancelled = new AbortController();
    cancelled.abort();
    const idle = fakeS3(message);
    await expectCode(
      rewrapObject({ ...(await setup(idle.s3)), signal: cancelled.signal }),
      'REWRAP_CANCELLED',
    );
    expect(idle.calls.ranges).toEqual([]);
  });

  it('refuses SSE-C objects and a bad setup', async () => {
    const { message } = await oldObject(10);
    const fake = fakeS3(message);
    const s3: RewrapS3 = {
      ...fake.s3,
      headObject: () =>
        Promise.resolve({ ...HEAD, contentLength: message.length, sseCustomerAlgorithm: 'AES256' }),
    };
    await expectCode(rewrapObject(await setup(s3)), 'REWRAP_UNSUPPORTED_OBJECT');
    await expectCode(rewrapObject({ ...(await setup(fake.s3)), key: '' }), 'BAD_ARGUMENT');
    await expectCode(
      rewrapObject({ ...(await setup(fake.s3)), copiesInFlight: 0 }),
      'OUT_OF_RANGE',
    );
    await expectCode(
      rewrapObject({ ...(await setup(fake.s3)), model: 'D' as never }),
      'BAD_ARGUMENT',
    );
  });
});
