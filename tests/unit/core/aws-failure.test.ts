/**
 * [Note: AWS failures]: each shape an AWS SDK call or fetch fails with becomes one catalogue code,
 * whatever the task; the task and operation travel in the detail.
 */
import { describe, expect, test } from 'vitest';
import {
  VeilError,
  anyFailure,
  credentialErrorCode,
  errorName,
  httpStatusOf,
  isNoAnswer,
  isTransient,
  kmsFailure,
  retriesFailure,
  s3Failure,
} from '../../../src/core';

/** A service error as the SDK v3 raises it: name = the service's code, $metadata, $fault. */
function answered(name: string, status: number): Error {
  return Object.assign(new Error(''), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** An error the SDK raises itself, without an answer (a timeout, a dropped socket). */
function unanswered(name: string): Error {
  return Object.assign(new Error(''), { name });
}

describe('the shape readers', () => {
  test('errorName and httpStatusOf read the SDK shape and nothing else', () => {
    expect(errorName(answered('AccessDenied', 403))).toBe('AccessDenied');
    expect(errorName('text')).toBe('');
    expect(errorName(null)).toBe('');
    expect(httpStatusOf(answered('SlowDown', 503))).toBe(503);
    expect(httpStatusOf(new TypeError('Failed to fetch'))).toBeUndefined();
    expect(httpStatusOf({ $metadata: { httpStatusCode: '503' } })).toBeUndefined();
  });

  test('isNoAnswer: fetch TypeErrors and the SDK timeouts, never an error with a status', () => {
    expect(isNoAnswer(new TypeError('Failed to fetch'))).toBe(true);
    expect(isNoAnswer(unanswered('TimeoutError'))).toBe(true);
    expect(isNoAnswer(unanswered('NetworkingError'))).toBe(true);
    expect(isNoAnswer(answered('RequestTimeout', 400))).toBe(false);
    expect(isNoAnswer(unanswered('AccessDenied'))).toBe(false);
  });

  test('isTransient: 5xx, 429, throttling, timeouts, expired tokens, network errors', () => {
    expect(isTransient(answered('InternalError', 500))).toBe(true);
    expect(isTransient(answered('Whatever', 429))).toBe(true);
    expect(isTransient(answered('ExpiredToken', 400))).toBe(true);
    expect(isTransient(new TypeError('Failed to fetch'))).toBe(true);
    expect(isTransient(answered('AccessDenied', 403))).toBe(false);
    expect(isTransient(new DOMException('paused', 'AbortError'))).toBe(false);
    expect(isTransient(new VeilError('S3_UNREACHABLE'))).toBe(false);
    expect(isTransient('text')).toBe(false);
  });
});

describe('s3Failure: one answer, one code', () => {
  test.each([
    [answered('AccessDenied', 403), 'S3_REJECTED'],
    [answered('NoSuchKey', 404), 'S3_REJECTED'],
    [answered('NoSuchBucket', 404), 'S3_REJECTED'],
    [answered('PreconditionFailed', 412), 'S3_REJECTED'],
    [answered('InvalidAccessKeyId', 403), 'CREDENTIALS_INVALID'],
    [answered('SignatureDoesNotMatch', 403), 'CREDENTIALS_INVALID'],
    [answered('ExpiredToken', 400), 'CREDENTIALS_EXPIRED'],
    [unanswered('CredentialsProviderError'), 'CREDENTIALS_MISSING'],
    [new TypeError('Failed to fetch'), 'S3_UNREACHABLE'],
    [unanswered('TimeoutError'), 'S3_UNREACHABLE'],
    [unanswered('AccessDenied'), 'S3_REJECTED'],
  ])('%s is %s', (error, code) => {
    expect(s3Failure(error).code).toBe(code);
    expect(s3Failure(error).cause).toBe(error);
  });

  test('the detail names the task, the operation and the S3 error, in that order', () => {
    const denied = answered('AccessDenied', 403);
    expect(s3Failure(denied).detail).toBe('AccessDenied');
    expect(s3Failure(denied, { operation: 'PutObject' }).detail).toBe('PutObject: AccessDenied');
    expect(s3Failure(denied, { task: 'upload', operation: 'UploadPart' }).detail).toBe(
      'upload UploadPart: AccessDenied',
    );
    expect(s3Failure('text').detail).toBe('Error');
  });

  test('a 412 is what the caller says it means, else a refusal like any other', () => {
    const failed = answered('PreconditionFailed', 412);
    expect(s3Failure(failed, { preconditionFailed: 'DOWNLOAD_OBJECT_CHANGED' }).code).toBe(
      'DOWNLOAD_OBJECT_CHANGED',
    );
    expect(s3Failure(failed).code).toBe('S3_REJECTED');
    expect(
      s3Failure(answered('AccessDenied', 403), { preconditionFailed: 'DOWNLOAD_OBJECT_CHANGED' })
        .code,
    ).toBe('S3_REJECTED');
  });

  test('a VeilError passes as it is', () => {
    const veil = new VeilError('UPLOAD_CORS_HEADERS');
    expect(s3Failure(veil, { task: 'upload' })).toBe(veil);
    expect(kmsFailure(veil)).toBe(veil);
    expect(anyFailure(veil)).toBe(veil);
  });
});

describe('retriesFailure: the last of several transient failures', () => {
  test.each([
    [answered('InternalError', 500), 'S3_RETRIES_EXHAUSTED'],
    [answered('SlowDown', 503), 'S3_RETRIES_EXHAUSTED'],
    [answered('ExpiredToken', 400), 'CREDENTIALS_EXPIRED'],
    [new TypeError('Failed to fetch'), 'S3_UNREACHABLE'],
    [unanswered('NetworkingError'), 'S3_UNREACHABLE'],
  ])('%s is %s', (error, code) => {
    expect(retriesFailure(error, 6).code).toBe(code);
  });

  test('the detail counts the attempts; advice follows only for S3_UNREACHABLE', () => {
    const unreachable = retriesFailure(new TypeError('x'), 3, { task: 'download' }, 'add rule');
    expect(unreachable.detail).toBe('download: 3 attempts, last: TypeError; add rule');
    const exhausted = retriesFailure(answered('SlowDown', 503), 6, { task: 'upload' }, 'add rule');
    expect(exhausted.detail).toBe('upload: 6 attempts, last: SlowDown');
  });
});

describe('KMS and the rest', () => {
  test.each([
    [answered('AccessDeniedException', 400), 'KMS_ACCESS_DENIED'],
    [answered('DisabledException', 400), 'KMS_KEY_DISABLED'],
    [answered('NotFoundException', 400), 'KMS_KEY_NOT_FOUND'],
    [answered('IncorrectKeyException', 400), 'KMS_WRONG_KEY'],
    [answered('ThrottlingException', 400), 'KMS_THROTTLED'],
    [answered('LimitExceededException', 400), 'KMS_FAILED'],
    [answered('UnrecognizedClientException', 400), 'CREDENTIALS_INVALID'],
    [answered('ExpiredTokenException', 400), 'CREDENTIALS_EXPIRED'],
  ])('KMS %s is %s', (error, code) => {
    expect(kmsFailure(error, { operation: 'Decrypt alias/veil' })).toMatchObject({
      code,
      detail: `Decrypt alias/veil: ${errorName(error)}`,
    });
  });

  test('credentialErrorCode is the same table for every service', () => {
    expect(credentialErrorCode(answered('InvalidClientTokenId', 403))).toBe('CREDENTIALS_INVALID');
    expect(credentialErrorCode(answered('AccessDenied', 403))).toBeUndefined();
  });

  test('anyFailure: credentials by their code, anything else INTERNAL_ERROR naming it', () => {
    expect(anyFailure(answered('ExpiredToken', 400)).code).toBe('CREDENTIALS_EXPIRED');
    expect(anyFailure(new RangeError('x'))).toMatchObject({
      code: 'INTERNAL_ERROR',
      detail: 'RangeError',
    });
    expect(anyFailure('text')).toMatchObject({ code: 'INTERNAL_ERROR', detail: 'string' });
  });
});
