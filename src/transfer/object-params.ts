/**
 * What an uploaded object carries besides its bytes: the content type, the user metadata that
 * names its format and key model (x-amz-meta-veil-format, x-amz-meta-veil-model), and the
 * server-side encryption requested at rest.
 */
import type { ServerSideEncryption } from '@aws-sdk/client-s3';

/** User metadata naming the object's format (x-amz-meta-veil-format). */
export const FORMAT_METADATA = { encrypted: 'esdk-v2-0478-framed', plain: 'plain' } as const;

/** Server-side encryption at rest, on top of (or, for comparison, instead of) Veil's. */
export type AtRest = { readonly type: 'SSE-S3' } | { readonly type: 'SSE-KMS'; kmsKeyId?: string };

/** Content type, user metadata and server-side encryption of the object. */
export function objectParams(
  encrypted: boolean,
  model: 'A' | 'B' | 'C' | undefined,
  atRest: AtRest | undefined,
): {
  ContentType: string;
  Metadata: Record<string, string>;
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
} {
  return {
    ContentType: 'application/octet-stream',
    Metadata: {
      'veil-format': encrypted ? FORMAT_METADATA.encrypted : FORMAT_METADATA.plain,
      ...(encrypted && model ? { 'veil-model': model } : {}),
    },
    ...(atRest?.type === 'SSE-S3' ? { ServerSideEncryption: 'AES256' as const } : {}),
    ...(atRest?.type === 'SSE-KMS'
      ? {
          ServerSideEncryption: 'aws:kms' as const,
          ...(atRest.kmsKeyId ? { SSEKMSKeyId: atRest.kmsKeyId } : {}),
        }
      : {}),
  };
}
