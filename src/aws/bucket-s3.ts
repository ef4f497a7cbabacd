/**
 * The app's one S3 adapter outside the transfer engines ([Note: one S3 adapter]).
 *
 * [Note: one S3 adapter] State never builds an S3 command: the Files view (list, head, first
 * bytes, delete), the connection checks (probe put/get/multipart/delete), the Model C self test
 * (put, get, delete) and the upload queue (does this key exist?) all call `bucketS3For`, each
 * through the narrow `Pick<BucketS3, ...>` it needs, so unit tests pass a small fake; a
 * location's names key is read and created through `namesKeyStorageFor`, and a file's versions
 * (list, pinned reads, restore, delete) through `versionsS3For` in object-versions.ts. The upload
 * and download engines have their own seams (`UploadS3`, `DownloadS3` in transfer/), whose SDK
 * adapters live beside them. Lint keeps `@aws-sdk/client-s3` out of state/ and views/.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { VeilError } from '../core/errors';
import type { NamesKeyStorage } from '../transfer/names-key';
import type { PeopleStorage } from '../transfer/people-directory';
import { getCapped } from './capped-read';
import { s3Commands } from '../transfer/s3-commands';

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

/** What PutObject answered. */
export interface PutAnswer {
  readonly etag: string | undefined;
  /** x-amz-checksum-crc32, when the put asked for one. */
  readonly checksumCrc32: string | undefined;
}

/** A small PutObject: the body in memory. */
export interface PutRequest {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Ask S3 to check a CRC32 of the body (the SDK computes it). */
  readonly crc32?: boolean;
}

/** The S3 calls the app makes on its bucket, besides the transfer engines'. */
export interface BucketS3 {
  /** One page under `prefix`; with `delimiter` '/', one folder level. */
  list(
    request: { prefix: string; delimiter?: string; token?: string; maxKeys?: number },
    signal?: AbortSignal,
  ): Promise<ListPage>;
  head(key: string, signal?: AbortSignal): Promise<ObjectFacts>;
  /** Bytes [0, countBytes) of a non-empty object. */
  firstBytes(key: string, countBytes: number, signal?: AbortSignal): Promise<FirstBytes>;
  /** The whole body of a (small) object, with what the GET exposed. */
  getAll(key: string, signal?: AbortSignal): Promise<FirstBytes>;
  /** Whether an object has exactly this key (a one-key listing, so no 404 in the console). */
  exists(key: string, signal?: AbortSignal): Promise<boolean>;
  put(key: string, request: PutRequest, signal?: AbortSignal): Promise<PutAnswer>;
  deleteKey(key: string, signal?: AbortSignal): Promise<void>;
  /** Deletes up to 1000 keys in one request; returns the keys that failed. */
  deleteKeys(keys: readonly string[], signal?: AbortSignal): Promise<DeleteFailure[]>;
  /** CreateMultipartUpload (CRC32 checksums); resolves to the upload id. */
  startMultipart(key: string, contentType: string): Promise<string>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

/** The Files view's calls. */
export type FilesS3 = Pick<BucketS3, 'list' | 'head' | 'firstBytes' | 'deleteKeys'>;

/** The SDK's body type mixes Node and browser streams; both have transformToByteArray. */
type ByteBody = { transformToByteArray(): Promise<Uint8Array> } | undefined;

const options = (signal?: AbortSignal): { abortSignal?: AbortSignal } =>
  signal ? { abortSignal: signal } : {};

/**
 * Adapts an SDK S3Client for `bucket` (the commands' code is fetched by the first call, [Note:
 * lazy seams] in sdk-loader.ts).
 */
export function bucketS3For(client: S3Client, bucket: string): BucketS3 {
  return {
    async list(request, signal) {
      const { ListObjectsV2Command } = await s3Commands();
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
      const { HeadObjectCommand } = await s3Commands();
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
      const { GetObjectCommand } = await s3Commands();
      const reply = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${countBytes - 1}` }),
        options(signal),
      );
      const body = reply.Body as ByteBody;
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
    async getAll(key, signal) {
      const { GetObjectCommand } = await s3Commands();
      const reply = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
        options(signal),
      );
      const body = reply.Body as ByteBody;
      if (!body) throw new VeilError('S3_REJECTED', 'GetObject returned no body');
      return {
        bytes: await body.transformToByteArray(),
        metadata: reply.Metadata ?? {},
        serverSideEncryption: reply.ServerSideEncryption,
        etag: reply.ETag,
        contentType: reply.ContentType,
        sizeBytes: reply.ContentLength,
      };
    },
    async exists(key, signal) {
      const { ListObjectsV2Command } = await s3Commands();
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }),
        options(signal),
      );
      return listed.Contents?.[0]?.Key === key;
    },
    async put(key, request, signal) {
      const { PutObjectCommand } = await s3Commands();
      const out = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: request.body,
          ContentType: request.contentType,
          ...(request.crc32 ? { ChecksumAlgorithm: 'CRC32' } : {}),
          ...(request.metadata ? { Metadata: { ...request.metadata } } : {}),
        }),
        options(signal),
      );
      return { etag: out.ETag, checksumCrc32: out.ChecksumCRC32 };
    },
    async deleteKey(key, signal) {
      const { DeleteObjectCommand } = await s3Commands();
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), options(signal));
    },
    async startMultipart(key, contentType) {
      const { CreateMultipartUploadCommand } = await s3Commands();
      const out = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: contentType,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      if (!out.UploadId) throw new VeilError('S3_REJECTED', 'CreateMultipartUpload: no upload id');
      return out.UploadId;
    },
    async abortMultipart(key, uploadId) {
      const { AbortMultipartUploadCommand } = await s3Commands();
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
    },
    async deleteKeys(keys, signal) {
      const { DeleteObjectsCommand } = await s3Commands();
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

/**
 * The people directory's and inboxes' calls on `bucket` ([Note: the people directory is
 * untrusted] in transfer/people-directory.ts): the names key's GetObject and PutObject
 * If-None-Match, reads capped by a Range and a body that stops at the cap ([Note: capped reads]
 * in capped-read.ts), and the keys under a prefix, every page, newest first.
 */
export function peopleStorageOver(client: S3Client, bucket: string): PeopleStorage {
  const names = namesKeyStorageFor(client, bucket);
  const s3 = bucketS3For(client, bucket);
  return {
    read: (key, signal) => names.read(key, signal),
    createOnly: (key, body, signal) => names.createOnly(key, body, signal),
    readCapped: async (key, capBytes, signal) =>
      (await getCapped(client, bucket, key, capBytes, signal))?.bytes,
    async list(prefix, signal) {
      const objects: ListedObject[] = [];
      let token: string | undefined;
      do {
        const page = await s3.list({ prefix, ...(token ? { token } : {}) }, signal);
        objects.push(...page.objects);
        token = page.nextToken;
      } while (token);
      objects.sort((a, b) => (b.lastModifiedMs ?? 0) - (a.lastModifiedMs ?? 0));
      return objects.map((o) => o.key);
    },
  };
}

/** The HTTP status of an SDK failure, if it has one. */
function httpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

/**
 * The names key's calls on `bucket` ([Note: names key object] in transfer/names-key.ts):
 * GetObject (404 means no names key), PutObject with If-None-Match: * (412 means another
 * writer created it first), and for a rotation's last step ([Note: names key rotation] in
 * transfer/names-rotate.ts) DeleteObject. Other failures are thrown as the SDK gave them.
 */
export function namesKeyStorageFor(
  client: S3Client,
  bucket: string,
): NamesKeyStorage & { remove(key: string, signal?: AbortSignal): Promise<void> } {
  return {
    async remove(key, signal) {
      const { DeleteObjectCommand } = await s3Commands();
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), options(signal));
    },
    async read(key, signal) {
      const { GetObjectCommand } = await s3Commands();
      let reply;
      try {
        reply = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key }),
          options(signal),
        );
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
      const body = reply.Body as ByteBody;
      if (!body) throw new VeilError('S3_REJECTED', 'GetObject returned no body');
      return body.transformToByteArray();
    },
    async createOnly(key, body, signal) {
      const { PutObjectCommand } = await s3Commands();
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/octet-stream',
            IfNoneMatch: '*',
          }),
          options(signal),
        );
        return true;
      } catch (error) {
        if (httpStatus(error) === 412) return false;
        throw error;
      }
    },
  };
}
