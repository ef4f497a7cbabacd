/**
 * The S3 operations the download engine needs, as a narrow interface (CONVENTIONS 3): HeadObject
 * and a ranged GetObject read into memory (one frame-aligned batch at a time). The app adapts the
 * S3Client from src/aws/clients.ts; unit tests pass a fake.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

/** What HeadObject tells the download. */
export interface ObjectHead {
  readonly contentLength: number;
  readonly etag: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  readonly contentType: string | undefined;
}

/** One ranged GET's answer. */
export interface RangeBytes {
  readonly bytes: Uint8Array;
  readonly etag: string | undefined;
  /** User metadata, when the bucket's CORS rule lets the page read it. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The object's size from Content-Range, when readable. */
  readonly totalBytes?: number | undefined;
}

/** A ranged GET: bytes [startBytes, endBytes) of the object whose ETag is `ifMatch`. */
export interface RangeRequest {
  readonly bucket: string;
  readonly key: string;
  readonly startBytes: number;
  readonly endBytes: number;
  /** Sent as If-Match: S3 answers 412 PreconditionFailed when the object changed. */
  readonly ifMatch: string | undefined;
}

/** What the download engine calls on S3. */
export interface DownloadS3 {
  headObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead>;
  getRange(request: RangeRequest, signal?: AbortSignal): Promise<RangeBytes>;
}

const options = (signal?: AbortSignal): { abortSignal?: AbortSignal } =>
  signal ? { abortSignal: signal } : {};

/** Adapts an SDK S3Client. */
export function downloadS3For(client: S3Client): DownloadS3 {
  return {
    async headObject(bucket, key, signal) {
      const head = await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key }),
        options(signal),
      );
      return {
        contentLength: head.ContentLength ?? 0,
        etag: head.ETag,
        metadata: head.Metadata,
        contentType: head.ContentType,
      };
    },
    async getRange(request, signal) {
      const reply = await client.send(
        new GetObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          Range: `bytes=${request.startBytes}-${request.endBytes - 1}`,
          ...(request.ifMatch ? { IfMatch: request.ifMatch } : {}),
        }),
        options(signal),
      );
      // The SDK's body type mixes Node and browser streams; both have transformToByteArray.
      const body = reply.Body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
      const bytes = body ? await body.transformToByteArray() : new Uint8Array(0);
      const total = /\/(\d+)$/.exec(reply.ContentRange ?? '')?.[1];
      return {
        bytes,
        etag: reply.ETag,
        metadata: reply.Metadata,
        totalBytes: total === undefined ? undefined : Number(total),
      };
    },
  };
}
