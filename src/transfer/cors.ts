/**
 * The CORS check of uploads. A browser reads a response header only when the bucket's CORS rule
 * lists it in ExposeHeaders; multipart Complete needs each part's ETag and checksum, so a bucket
 * that hides them makes the SDK return undefined. The engine checks the first part's response
 * and stops at once with the rule to add.
 */
import { VeilError } from '../core';

/** Response headers uploads and downloads read. */
export const REQUIRED_EXPOSE_HEADERS = [
  'ETag',
  'x-amz-checksum-crc32',
  'x-amz-checksum-type',
  'x-amz-version-id',
  'x-amz-meta-veil-format',
  'x-amz-meta-veil-model',
];

/** The CORS rule a bucket needs for Veil served from `origin`. */
export function corsRuleFor(origin: string): Record<string, unknown> {
  return {
    AllowedOrigins: [origin],
    AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
    AllowedHeaders: ['*'],
    ExposeHeaders: REQUIRED_EXPOSE_HEADERS,
    MaxAgeSeconds: 3000,
  };
}

/** The error to show when `missing` headers could not be read from an S3 response. */
export function corsError(origin: string, missing: readonly string[]): VeilError {
  return new VeilError(
    'UPLOAD_CORS_HEADERS',
    `cannot read ${missing.join(', ')}; add this rule: ${JSON.stringify(corsRuleFor(origin))}`,
  );
}

/** The origin the page runs at ('*' outside a page). */
export function pageOrigin(): string {
  return typeof location === 'undefined' ? '*' : location.origin;
}

/**
 * Rewrites retries that ran out on network errors (fetch's TypeError, which is also what a CORS
 * refusal looks like to a page) into UPLOAD_UNREACHABLE with the rule to add; other errors pass.
 */
export function explainUnreachable(error: unknown, origin: string): unknown {
  if (
    error instanceof VeilError &&
    error.code === 'UPLOAD_RETRIES_EXHAUSTED' &&
    error.cause instanceof TypeError
  ) {
    return new VeilError(
      'UPLOAD_UNREACHABLE',
      `${error.detail ?? ''}; the CORS rule: ${JSON.stringify(corsRuleFor(origin))}`,
      { cause: error.cause },
    );
  }
  return error;
}
