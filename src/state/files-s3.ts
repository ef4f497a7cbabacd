/**
 * The S3 calls the Files view makes besides downloads (CONVENTIONS 3): list one folder level
 * (ListObjectsV2 with a delimiter) or everything under a prefix, read an object's metadata
 * (HeadObject), read its first bytes (a ranged GET, to sniff objects written without Veil's
 * metadata) and delete keys in batches (DeleteObjects). `filesS3For` adapts an SDK S3Client;
 * unit tests pass a fake.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';

/** One object of a listing. */
export interface ListedObject {
  readonly key: string;
  readonly sizeBytes: number;
  /** Milliseconds since the epoch; undefined when S3 did not say. */
  readonly lastModifiedMs: number | undefined;
  readonly etag: string | undefined;
}

/** One page of ListObjectsV2. */
export interface ListPage {
  readonly objects: readonly ListedObject[];
  /** Sub-folders (common prefixes, ending in the delimiter); empty without a delimiter. */
  readonly folders: readonly string[];
  /** Pass back for the next page; undefined on the last page. */
  readonly nextToken: string | undefined;
}

/** What HeadObject (or a ranged GET) lets the page read of an object. */
export interface ObjectFacts {
  /** User metadata; empty when the bucket's CORS rules do not expose it on this response. */
  readonly metadata: Readonly<Record<string, string>>;
  /** x-amz-server-side-encryption ('AES256', 'aws:kms', ...), when exposed and set. */
  readonly serverSideEncryption: string | undefined;
  readonly etag: string | undefined;
  readonly contentType: string | undefined;
  readonly sizeBytes: number | undefined;
}

/** The first bytes of an object with what the GET exposed. */
export interface FirstBytes extends ObjectFacts {
  readonly bytes: Uint8Array;
}

/** A key S3 could not delete, with its error code. */
export interface DeleteFailure {
  readonly key: string;
  readonly code: string;
}

/** The S3 calls of the Files view. */
export interface FilesS3 {
  /** One page under `prefix`; with `delimiter` '/', one folder level. */
  list(
    request: { prefix: string; delimiter?: string; token?: string; maxKeys?: number },
    signal?: AbortSignal,
  ): Promise<ListPage>;
  head(key: string, signal?: AbortSignal): Promise<ObjectFacts>;
  /** Bytes [0, countBytes) of a non-empty object. */
  firstBytes(key: string, countBytes: number, signal?: AbortSignal): Promise<FirstBytes>;
  /** Deletes up to 1000 keys in one request; returns the keys that failed. */
  deleteKeys(keys: readonly string[], signal?: AbortSignal): Promise<DeleteFailure[]>;
}

const options = (signal?: AbortSignal): { abortSignal?: AbortSignal } =>
  signal ? { abortSignal: signal } : {};

/** Adapts an SDK S3Client for `bucket`. */
export function filesS3For(client: S3Client, bucket: string): FilesS3 {
  return {
    async list(request, signal) {
      const reply = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: request.prefix,
          ...(request.delimiter ? { Delimiter: request.delimiter } : {}),
          ...(request.token ? { ContinuationToken: request.token } : {}),
          ...(request.maxKeys ? { MaxKeys: request.maxKeys } : {}),
        }),
        options(signal),
      );
      return {
        objects: (reply.Contents ?? []).flatMap((object) =>
          object.Key === undefined
            ? []
            : [
                {
                  key: object.Key,
                  sizeBytes: object.Size ?? 0,
                  lastModifiedMs: object.LastModified?.getTime(),
                  etag: object.ETag,
                },
              ],
        ),
        folders: (reply.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
        nextToken: reply.IsTruncated ? reply.NextContinuationToken : undefined,
      };
    },
    async head(key, signal) {
      const head = await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key }),
        options(signal),
      );
      return {
        metadata: head.Metadata ?? {},
        serverSideEncryption: head.ServerSideEncryption,
        etag: head.ETag,
        contentType: head.ContentType,
        sizeBytes: head.ContentLength,
      };
    },
    async firstBytes(key, countBytes, signal) {
      const reply = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${countBytes - 1}` }),
        options(signal),
      );
      // The SDK's body type mixes Node and browser streams; both have transformToByteArray.
      const body = reply.Body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
      const total = /\/(\d+)$/.exec(reply.ContentRange ?? '')?.[1];
      return {
        bytes: body ? await body.transformToByteArray() : new Uint8Array(0),
        metadata: reply.Metadata ?? {},
        serverSideEncryption: reply.ServerSideEncryption,
        etag: reply.ETag,
        contentType: reply.ContentType,
        sizeBytes: total === undefined ? undefined : Number(total),
      };
    },
    async deleteKeys(keys, signal) {
      if (keys.length === 0) return [];
      const reply = await client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
        options(signal),
      );
      return (reply.Errors ?? []).map((error) => ({
        key: error.Key ?? '',
        code: error.Code ?? 'UnknownError',
      }));
    },
  };
}
