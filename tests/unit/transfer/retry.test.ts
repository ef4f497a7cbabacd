import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { isTransient } from '../../../src/core';
import { backoffMs, sleep, withRetry } from '../../../src/transfer/retry';
import { s3Error } from './fake-s3';

const POLICY = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

describe('isTransient', () => {
  test.each([
    [s3Error('InternalError', 500), true],
    [s3Error('ServiceUnavailable', 503), true],
    [s3Error('SlowDown', 503), true],
    [s3Error('Whatever', 429), true],
    [s3Error('RequestTimeout', 400), true],
    [s3Error('ExpiredToken', 400), true],
    [new TypeError('Failed to fetch'), true],
    [s3Error('AccessDenied', 403), false],
    [s3Error('NoSuchUpload', 404), false],
    [s3Error('EntityTooSmall', 400), false],
    [new DOMException('paused', 'AbortError'), false],
    [new VeilError('UPLOAD_CORS_HEADERS'), false],
    ['a string', false],
  ])('%s -> %s', (error, transient) => {
    expect(isTransient(error)).toBe(transient);
  });
});

describe('backoffMs', () => {
  test('full jitter under a doubling cap', () => {
    expect(backoffMs(1, POLICY, () => 0.999)).toBe(99);
    expect(backoffMs(2, POLICY, () => 0.999)).toBe(199);
    expect(backoffMs(3, POLICY, () => 0.999)).toBe(249);
    expect(backoffMs(9, POLICY, () => 0.5)).toBe(125);
    expect(backoffMs(1, POLICY, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  const noSleep = { sleep: () => Promise.resolve(), random: () => 0.5 };

  test('retries transient failures and returns the first success', async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withRetry(
      () => (++calls < 3 ? Promise.reject(s3Error('SlowDown', 503)) : Promise.resolve('ok')),
      POLICY,
      undefined,
      { ...noSleep, onRetry: (_retry, _error, delayMs) => delays.push(delayMs) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([50, 100]);
  });

  test('stops after maxAttempts with S3_RETRIES_EXHAUSTED', async () => {
    let calls = 0;
    const error = await withRetry(
      () => (calls++, Promise.reject(s3Error('InternalError', 500))),
      POLICY,
      undefined,
      noSleep,
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(error).toMatchObject({ code: 'S3_RETRIES_EXHAUSTED' });
    expect((error as VeilError).detail).toContain('InternalError');
  });

  test('fails at once on a permanent failure', async () => {
    let calls = 0;
    await expect(
      withRetry(
        () => (calls++, Promise.reject(s3Error('AccessDenied', 403))),
        POLICY,
        undefined,
        noSleep,
      ),
    ).rejects.toMatchObject({ code: 'S3_REJECTED', detail: 'AccessDenied' });
    expect(calls).toBe(1);
  });

  test('passes VeilErrors through and stops waiting when aborted', async () => {
    await expect(
      withRetry(() => Promise.reject(new VeilError('UPLOAD_CORS_HEADERS')), POLICY),
    ).rejects.toMatchObject({ code: 'UPLOAD_CORS_HEADERS' });
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetry(
      () => Promise.reject(s3Error('SlowDown', 503)),
      { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      controller.signal,
      { random: () => 0.99 },
    );
    setTimeout(() => controller.abort(new DOMException('paused', 'AbortError')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('sleep resolves after its time and rejects on an aborted signal', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(1000, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
