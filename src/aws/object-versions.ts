/**
 * A file's versions in a versioned bucket, as the Files view's Versions dialog reads and changes
 * them ([Note: a file's versions] in state/files/versions-core.ts). Part of the one S3 adapter
 * ([Note: one S3 adapter] in bucket-s3.ts): state calls these through `versionsS3For`, never an
 * SDK command. Every call names the object by its stored key (for private names, the encrypted
 * one), so no clear name reaches S3.
 *
 * - GetBucketVersioning: whether the bucket keeps versions at all.
 * - ListObjectVersions (Prefix = the key): one page of versions and delete markers.
 * - HeadObject, ranged GetObject with VersionId: a version pinned for the download engine
 *   (`DownloadS3`, If-Match and all) and for the size probe.
 * - CopyObject from `key?versionId=…` onto the same key: a restore (S3 keeps the version that
 *   was current as a previous one); the source's SSE is carried over.
 * - DeleteObject with VersionId: deletes that version for good (no delete marker).
 * Failures are thrown as the SDK gave them; the caller turns them into catalogue codes.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import type { DownloadS3 } from '../transfer/download-s3';
import { copySource } from '../transfer/rewrap-multipart';
import type { FilesS3, FirstBytes, ObjectFacts } from './bucket-s3';

/** Whether the bucket keeps versions: on, suspended (old versions kept, new writes replace), off. */
export type VersioningState = 'enabled' | 'suspended' | 'off';

/** One version (or delete marker) of a listing. */
export interface ListedVersion {
  readonly key: string;
  /** S3's id; 'null' for the version written while versioning was off or suspended. */
  readonly versionId: string;
  /** True for the current version of the key. */
  readonly isLatest: boolean;
  /** True for a delete marker: the key was deleted then, and there is nothing to read. */
  readonly deleteMarker: boolean;
  /** Milliseconds since the epoch; undefined when S3 did not say. */
  readonly lastModifiedMs: number | undefined;
  /** The stored object's size (0 for a delete marker). */
  readonly sizeBytes: number;
  readonly etag: string | undefined;
}

/** Where the next page of a version listing starts. */
export interface VersionsMarker {
  readonly keyMarker: string;
  readonly versionIdMarker: string | undefined;
}

/** One page of ListObjectVersions, versions and delete markers together, in S3's order. */
export interface VersionsPage {
  readonly versions: readonly ListedVersion[];
  /** Pass back for the next page; undefined on the last page. */
  readonly next: VersionsMarker | undefined;
}

/** What HeadObject tells of one version, with what a copy of it must carry. */
export interface VersionFacts extends ObjectFacts {
  readonly sseKmsKeyId: string | undefined;
  readonly bucketKeyEnabled: boolean | undefined;
  /** Set when the version is stored under a customer-provided key (SSE-C). */
  readonly sseCustomerAlgorithm: string | undefined;
  readonly storageClass: StorageClass | undefined;
}

/** What the size probe (badges.ts probeBadge) reads of one version. */
export type VersionProbeS3 = Pick<FilesS3, 'head' | 'firstBytes'> & {
  range(
    key: string,
    startBytes: number,
    endBytes: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
};

/** The S3 calls of the Versions dialog on one bucket. */
export interface VersionsS3 {
  /** GetBucketVersioning. */
  versioning(signal?: AbortSignal): Promise<VersioningState>;
  /** One page of ListObjectVersions under `prefix`. */
  listVersions(
    request: { prefix: string; marker?: VersionsMarker; maxKeys?: number },
    signal?: AbortSignal,
  ): Promise<VersionsPage>;
  /** HeadObject of one version. */
  headVersion(key: string, versionId: string, signal?: AbortSignal): Promise<VersionFacts>;
  /**
   * Copies version `versionId` of `key` onto `key` (CopySourceIfMatch `facts.etag`, metadata
   * and SSE carried over); resolves to the new current version's id.
   */
  restoreVersion(
    key: string,
    versionId: string,
    facts: VersionFacts,
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  /** DeleteObject with VersionId: that version is gone for good. */
  deleteVersion(key: string, versionId: string, signal?: AbortSignal): Promise<void>;
  /** The download engine's seam, reading version `versionId` whatever key it is asked for. */
  downloadS3(versionId: string): DownloadS3;
  /** The size probe's seam, pinned to version `versionId`. */
  probeS3(versionId: string): VersionProbeS3;
}

const options = (signal?: AbortSignal): { abortSignal?: AbortSignal } =>
  signal ? { abortSignal: signal } : {};

/** The SDK's body type mixes Node and browser streams; both have transformToByteArray. */
type ByteBody = { transformToByteArray(): Promise<Uint8Array> } | undefined;

const bytesOf = async (body: unknown): Promise<Uint8Array> =>
  body ? await (body as NonNullable<ByteBody>).transformToByteArray() : new Uint8Array(0);

/** Adapts an SDK S3Client for the versions of objects in `bucket`. */
export function versionsS3For(client: S3Client, bucket: string): VersionsS3 {
  const get = (key: string, versionId: string, range: string, ifMatch?: string) =>
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      VersionId: versionId,
      Range: range,
      ...(ifMatch ? { IfMatch: ifMatch } : {}),
    });
  const totalOf = (contentRange: string | undefined): number | undefined => {
    const total = /\/(\d+)$/.exec(contentRange ?? '')?.[1];
    return total === undefined ? undefined : Number(total);
  };
  const headVersion: VersionsS3['headVersion'] = async (key, versionId, signal) => {
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
      options(signal),
    );
    return {
      metadata: head.Metadata ?? {},
      serverSideEncryption: head.ServerSideEncryption,
      etag: head.ETag,
      contentType: head.ContentType,
      sizeBytes: head.ContentLength,
      sseKmsKeyId: head.SSEKMSKeyId,
      bucketKeyEnabled: head.BucketKeyEnabled,
      sseCustomerAlgorithm: head.SSECustomerAlgorithm,
      storageClass: head.StorageClass,
    };
  };
  return {
    async versioning(signal) {
      const reply = await client.send(
        new GetBucketVersioningCommand({ Bucket: bucket }),
        options(signal),
      );
      if (reply.Status === 'Enabled') return 'enabled';
      return reply.Status === 'Suspended' ? 'suspended' : 'off';
    },
    async listVersions(request, signal) {
      const reply = await client.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: request.prefix,
          ...(request.marker ? { KeyMarker: request.marker.keyMarker } : {}),
          ...(request.marker?.versionIdMarker
            ? { VersionIdMarker: request.marker.versionIdMarker }
            : {}),
          ...(request.maxKeys ? { MaxKeys: request.maxKeys } : {}),
        }),
        options(signal),
      );
      const versions: ListedVersion[] = [];
      for (const version of reply.Versions ?? []) {
        if (version.Key === undefined) continue;
        versions.push({
          key: version.Key,
          versionId: version.VersionId ?? 'null',
          isLatest: version.IsLatest === true,
          deleteMarker: false,
          lastModifiedMs: version.LastModified?.getTime(),
          sizeBytes: version.Size ?? 0,
          etag: version.ETag,
        });
      }
      for (const marker of reply.DeleteMarkers ?? []) {
        if (marker.Key === undefined) continue;
        versions.push({
          key: marker.Key,
          versionId: marker.VersionId ?? 'null',
          isLatest: marker.IsLatest === true,
          deleteMarker: true,
          lastModifiedMs: marker.LastModified?.getTime(),
          sizeBytes: 0,
          etag: undefined,
        });
      }
      const next =
        reply.IsTruncated && reply.NextKeyMarker !== undefined
          ? { keyMarker: reply.NextKeyMarker, versionIdMarker: reply.NextVersionIdMarker }
          : undefined;
      return { versions, next };
    },
    headVersion,
    async restoreVersion(key, versionId, facts, signal) {
      const sse = facts.serverSideEncryption as ServerSideEncryption | undefined;
      const reply = await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource(bucket, key, versionId),
          ...(facts.etag ? { CopySourceIfMatch: facts.etag } : {}),
          MetadataDirective: 'COPY',
          ...(sse ? { ServerSideEncryption: sse } : {}),
          ...(sse === 'aws:kms' && facts.sseKmsKeyId ? { SSEKMSKeyId: facts.sseKmsKeyId } : {}),
          ...(facts.bucketKeyEnabled ? { BucketKeyEnabled: true } : {}),
          ...(facts.storageClass && facts.storageClass !== 'STANDARD'
            ? { StorageClass: facts.storageClass }
            : {}),
        }),
        options(signal),
      );
      return reply.VersionId;
    },
    async deleteVersion(key, versionId, signal) {
      await client.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
        options(signal),
      );
    },
    downloadS3(versionId) {
      return {
        async headObject(_bucket, key, signal) {
          const head = await client.send(
            new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
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
            get(
              request.key,
              versionId,
              `bytes=${request.startBytes}-${request.endBytes - 1}`,
              request.ifMatch,
            ),
            options(signal),
          );
          return {
            bytes: await bytesOf(reply.Body),
            etag: reply.ETag,
            metadata: reply.Metadata,
            totalBytes: totalOf(reply.ContentRange),
          };
        },
      };
    },
    probeS3(versionId) {
      return {
        head: (key, signal) => headVersion(key, versionId, signal),
        async firstBytes(key, countBytes, signal): Promise<FirstBytes> {
          const reply = await client.send(
            get(key, versionId, `bytes=0-${countBytes - 1}`),
            options(signal),
          );
          return {
            bytes: await bytesOf(reply.Body),
            metadata: reply.Metadata ?? {},
            serverSideEncryption: reply.ServerSideEncryption,
            etag: reply.ETag,
            contentType: reply.ContentType,
            sizeBytes: totalOf(reply.ContentRange),
          };
        },
        async range(key, startBytes, endBytes, signal) {
          const reply = await client.send(
            get(key, versionId, `bytes=${startBytes}-${endBytes - 1}`),
            options(signal),
          );
          return bytesOf(reply.Body);
        },
      };
    },
  };
}
