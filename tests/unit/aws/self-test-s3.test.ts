/**
 * The S3 leg of the Settings self test with a fake S3 client: S3 and credential failures become
 * catalogue codes, and a failing DeleteObject never hides the failure before it.
 */
import { describe, expect, test } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients';
import { storeAndFetch } from '../../../src/aws/self-test-s3';
import { s3Failure } from '../../../src/core';

/** An S3 service error as the SDK raises it: name = the S3 code, with response metadata. */
function s3ServiceError(name: string): Error {
  return Object.assign(new Error(''), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });
}

function fakeS3(failures: Partial<Record<'PutObject' | 'GetObject' | 'DeleteObject', Error>>) {
  const sent: string[] = [];
  const client = {
    send: (command: { constructor: { name: string } }) => {
      const operation = command.constructor.name.replace(/Command$/, '') as keyof typeof failures;
      sent.push(operation);
      const failure = failures[operation];
      if (failure) return Promise.reject(failure);
      if (operation === 'GetObject') {
        return Promise.resolve({
          Body: { transformToByteArray: () => Promise.resolve(Uint8Array.of(7)) },
        });
      }
      return Promise.resolve({});
    },
  };
  const aws = { s3: () => client } as unknown as Pick<AwsClients, 's3'>;
  return { aws, sent };
}

describe('storeAndFetch', () => {
  test('stores, reads back and deletes', async () => {
    const { aws, sent } = fakeS3({});
    expect(await storeAndFetch(aws, 'b', 'k', Uint8Array.of(7))).toEqual(Uint8Array.of(7));
    expect(sent).toEqual(['PutObject', 'GetObject', 'DeleteObject']);
  });

  test('a failed read is reported even when the clean-up delete fails too', async () => {
    const { aws, sent } = fakeS3({
      GetObject: s3ServiceError('NoSuchKey'),
      DeleteObject: s3ServiceError('AccessDenied'),
    });
    await expect(storeAndFetch(aws, 'b', 'k', Uint8Array.of(7))).rejects.toMatchObject({
      code: 'S3_REJECTED',
      detail: 'GetObject: NoSuchKey',
    });
    expect(sent).toEqual(['PutObject', 'GetObject', 'DeleteObject']);
  });

  test('a refused upload is S3_REJECTED; a failed delete after a good read is reported', async () => {
    await expect(
      storeAndFetch(
        fakeS3({ PutObject: s3ServiceError('AccessDenied') }).aws,
        'b',
        'k',
        Uint8Array.of(1),
      ),
    ).rejects.toMatchObject({ code: 'S3_REJECTED', detail: 'PutObject: AccessDenied' });
    await expect(
      storeAndFetch(
        fakeS3({ DeleteObject: s3ServiceError('AccessDenied') }).aws,
        'b',
        'k',
        Uint8Array.of(1),
      ),
    ).rejects.toMatchObject({ code: 'S3_REJECTED', detail: 'DeleteObject: AccessDenied' });
  });
});

describe('s3Failure', () => {
  test.each([
    [s3ServiceError('InvalidAccessKeyId'), 'CREDENTIALS_INVALID'],
    [s3ServiceError('ExpiredToken'), 'CREDENTIALS_EXPIRED'],
    [s3ServiceError('AccessDenied'), 'S3_REJECTED'],
    [new TypeError('Failed to fetch'), 'S3_UNREACHABLE'],
  ])('%s becomes %s', (error, code) => {
    expect(s3Failure(error, { operation: 'PutObject' }).code).toBe(code);
  });
});
