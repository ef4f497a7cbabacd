/**
 * Upload and download raise the same code for the same S3 failure ([Note: AWS failures]): the
 * task travels in the detail, never as a different code. Each case sends the same failure through
 * withRetry with the context each engine gives its S3 calls.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core';
import { downloadRetryContext } from '../../../src/transfer/download-errors';
import { withRetry } from '../../../src/transfer/retry';
import { s3Error } from './fake-s3';

const POLICY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
const noSleep = { sleep: () => Promise.resolve() };

const FAILURES: ReadonlyArray<readonly [string, () => Error, string]> = [
  ['a refusal (403 AccessDenied)', () => s3Error('AccessDenied', 403), 'S3_REJECTED'],
  ['a missing object (404 NoSuchKey)', () => s3Error('NoSuchKey', 404), 'S3_REJECTED'],
  ['an unknown key id', () => s3Error('InvalidAccessKeyId', 403), 'CREDENTIALS_INVALID'],
  ['credentials that stay expired', () => s3Error('ExpiredToken', 400), 'CREDENTIALS_EXPIRED'],
  ['a server that keeps failing (503)', () => s3Error('SlowDown', 503), 'S3_RETRIES_EXHAUSTED'],
  ['a network that stays down', () => new TypeError('Failed to fetch'), 'S3_UNREACHABLE'],
];

async function failureOf(make: () => Error, context: object): Promise<VeilError> {
  const error = await withRetry(() => Promise.reject(make()), POLICY, undefined, noSleep, context)
    .then(() => undefined)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VeilError);
  return error as VeilError;
}

describe('the same failure, the same code, on upload and download', () => {
  test.each(FAILURES)('%s', async (_what, make, code) => {
    const origin = 'https://veil.example';
    const upload = await failureOf(make, { task: 'upload', origin });
    const download = await failureOf(make, downloadRetryContext(origin));
    expect(upload.code).toBe(code);
    expect(download.code).toBe(code);
    expect(upload.detail).toMatch(/^upload: /);
    expect(download.detail).toMatch(/^download: /);
  });

  test('an unreachable S3 names the CORS rule for the origin on both', async () => {
    const make = (): Error => new TypeError('Failed to fetch');
    for (const context of [
      { task: 'upload', origin: 'https://veil.example' },
      downloadRetryContext('https://veil.example'),
    ]) {
      const error = await failureOf(make, context);
      expect(error.detail).toContain('"AllowedOrigins":["https://veil.example"]');
    }
  });

  test('only the download, which sends If-Match, reads a 412 as a changed object', async () => {
    const make = (): Error => s3Error('PreconditionFailed', 412);
    expect((await failureOf(make, downloadRetryContext(undefined))).code).toBe(
      'DOWNLOAD_OBJECT_CHANGED',
    );
    expect((await failureOf(make, { task: 'upload' })).code).toBe('S3_REJECTED');
  });
});
