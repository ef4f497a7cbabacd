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
 * The advice S3_UNREACHABLE carries: the CORS rule for `origin`, or for the page's origin when
 * none is given; undefined outside a page without an origin (no CORS applies there).
 */
export function corsAdvice(origin?: string): string | undefined {
  const shownOrigin = origin ?? (typeof location === 'undefined' ? undefined : location.origin);
  return shownOrigin === undefined
    ? undefined
    : `the CORS rule: ${JSON.stringify(corsRuleFor(shownOrigin))}`;
}
