/**
 * The S3 operations the rewrap engine needs, as a narrow interface (CONVENTIONS 3): HeadObject
 * with what a replacement must keep (size, ETag, version, metadata, content headers, SSE and
 * storage class), a ranged GET (the download seam's), and the multipart calls, UploadPartCopy
 * among them, plus PutObject for small objects. The app and the command line adapt an SDK
 * S3Client with rewrapS3For; tests wrap it to inject a concurrent change, or pass a fake.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type {
  AbortMultipartUploadCommandInput,
  AbortMultipartUploadCommandOutput,
  CompleteMultipartUploadCommandInput,
  CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommandInput,
  CreateMultipartUploadCommandOutput,
  CopyObjectCommandOutput,
  DeleteObjectCommandOutput,
  ListMultipartUploadsCommandInput,
  ListMultipartUploadsCommandOutput,
  ListPartsCommandInput,
  ListPartsCommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  S3Client,
  ServerSideEncryption,
  StorageClass,
  UploadPartCommandInput,
  UploadPartCommandOutput,
  UploadPartCopyCommandInput,
  UploadPartCopyCommandOutput,
} from '@aws-sdk/client-s3';
import { downloadS3For, type DownloadS3 } from './download-s3';
import { withBlobBody } from './s3-api';

/** What HeadObject tells the rewrap: the object's identity and what its replacement keeps. */
export interface RewrapHead {
  readonly contentLength: number;
  readonly etag: string | undefined;
  /** The version HEAD saw, on a versioned bucket; copies read that version. */
  readonly versionId: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  readonly contentType: string | undefined;
  readonly cacheControl: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentLanguage: string | undefined;
  readonly serverSideEncryption: ServerSideEncryption | undefined;
  readonly sseKmsKeyId: string | undefined;
  readonly bucketKeyEnabled: boolean | undefined;
  /** Set when the object is stored under a customer-provided key (SSE-C). */
  readonly sseCustomerAlgorithm: string | undefined;
  readonly storageClass: StorageClass | undefined;
}

/** What the rewrap engine calls on S3. Every call takes an AbortSignal. */
export interface RewrapS3 extends Pick<DownloadS3, 'getRange'> {
  headObject(bucket: string, key: string, signal?: AbortSignal): Promise<RewrapHead>;
  createMultipartUpload(
    input: CreateMultipartUploadCommandInput,
    signal?: AbortSignal,
  ): Promise<CreateMultipartUploadCommandOutput>;
  uploadPart(input: UploadPartCommandInput, signal?: AbortSignal): Promise<UploadPartCommandOutput>;
  uploadPartCopy(
    input: UploadPartCopyCommandInput,
    signal?: AbortSignal,
  ): Promise<UploadPartCopyCommandOutput>;
  completeMultipartUpload(
    input: CompleteMultipartUploadCommandInput,
    signal?: AbortSignal,
  ): Promise<CompleteMultipartUploadCommandOutput>;
  abortMultipartUpload(
    input: AbortMultipartUploadCommandInput,
    signal?: AbortSignal,
  ): Promise<AbortMultipartUploadCommandOutput>;
  putObject(input: PutObjectCommandInput, signal?: AbortSignal): Promise<PutObjectCommandOutput>;
  /**
   * Optional: deletes one version of an object (DeleteObject with VersionId), for
   * deletePreviousVersion ([Note: rewrap and versions] in rewrap-versions.ts).
   */
  deleteObjectVersion?(
    input: { Bucket: string; Key: string; VersionId: string },
    signal?: AbortSignal,
  ): Promise<DeleteObjectCommandOutput>;
  /**
   * Optional: copies an object inside S3 (CopyObject, If-None-Match on the destination and
   * CopySourceIfMatch on the source), for the move of an unencrypted object ([Note: move by
   * rewrap] in rewrap-move.ts).
   */
  copyObject?(
    input: {
      Bucket: string;
      Key: string;
      CopySource: string;
      CopySourceIfMatch: string;
      IfNoneMatch: '*';
      MetadataDirective: 'COPY';
    },
    signal?: AbortSignal,
  ): Promise<CopyObjectCommandOutput>;
  /**
   * Optional: deletes the current object if it is still the version read (If-Match), for a
   * move ([Note: move by rewrap] in rewrap-move.ts).
   */
  deleteObject?(
    input: { Bucket: string; Key: string; IfMatch: string },
    signal?: AbortSignal,
  ): Promise<DeleteObjectCommandOutput>;
  /**
   * Optional: the parts S3 holds of an upload, for resumeRewrap ([Note: rewrap resume] in
   * rewrap-resume.ts); without it a resume trusts its record's parts.
   */
  listParts?(input: ListPartsCommandInput, signal?: AbortSignal): Promise<ListPartsCommandOutput>;
  /** Optional: finds uploads a retried Create left behind ([Note: a retried Create]). */
  listMultipartUploads?(
    input: ListMultipartUploadsCommandInput,
    signal?: AbortSignal,
  ): Promise<ListMultipartUploadsCommandOutput>;
}

const options = (signal?: AbortSignal): { abortSignal?: AbortSignal } =>
  signal ? { abortSignal: signal } : {};

/** Options of rewrapS3For. */
export interface RewrapS3Options {
  /**
   * Send a first part or a put that carries a CRC-32 as a Blob ([Note: Blob request bodies] in
   * s3-api.ts); default true. Node's HTTP handler takes no Blob body: the command line passes false.
   */
  readonly blobBodies?: boolean;
}

/** Adapts an SDK S3Client (one command per operation). */
export function rewrapS3For(client: S3Client, settings: RewrapS3Options = {}): RewrapS3 {
  const body = settings.blobBodies === false ? <T>(input: T): T => input : withBlobBody;
  const download = downloadS3For(client);
  return {
    async headObject(bucket, key, signal) {
      const head = await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key }),
        options(signal),
      );
      return {
        contentLength: head.ContentLength ?? 0,
        etag: head.ETag,
        versionId: head.VersionId,
        metadata: head.Metadata,
        contentType: head.ContentType,
        cacheControl: head.CacheControl,
        contentDisposition: head.ContentDisposition,
        contentEncoding: head.ContentEncoding,
        contentLanguage: head.ContentLanguage,
        serverSideEncryption: head.ServerSideEncryption,
        sseKmsKeyId: head.SSEKMSKeyId,
        bucketKeyEnabled: head.BucketKeyEnabled,
        sseCustomerAlgorithm: head.SSECustomerAlgorithm,
        storageClass: head.StorageClass,
      };
    },
    getRange: (request, signal) => download.getRange(request, signal),
    createMultipartUpload: (input, signal) =>
      client.send(new CreateMultipartUploadCommand(input), options(signal)),
    uploadPart: (input, signal) => client.send(new UploadPartCommand(body(input)), options(signal)),
    uploadPartCopy: (input, signal) =>
      client.send(new UploadPartCopyCommand(input), options(signal)),
    completeMultipartUpload: (input, signal) =>
      client.send(new CompleteMultipartUploadCommand(input), options(signal)),
    abortMultipartUpload: (input, signal) =>
      client.send(new AbortMultipartUploadCommand(input), options(signal)),
    putObject: (input, signal) => client.send(new PutObjectCommand(body(input)), options(signal)),
    deleteObjectVersion: (input, signal) =>
      client.send(new DeleteObjectCommand(input), options(signal)),
    deleteObject: (input, signal) => client.send(new DeleteObjectCommand(input), options(signal)),
    copyObject: (input, signal) => client.send(new CopyObjectCommand(input), options(signal)),
    listParts: (input, signal) => client.send(new ListPartsCommand(input), options(signal)),
    listMultipartUploads: (input, signal) =>
      client.send(new ListMultipartUploadsCommand(input), options(signal)),
  };
}
