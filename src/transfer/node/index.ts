/**
 * The Node adapters of the transfer engines, for the command line and Node tests: a file on disk
 * as the upload source, a file as the download target, the resume store in a folder, and the
 * crypto on the calling thread. They import nothing browser-only (lint keeps it so: see
 * [Note: the layers] in eslint.config.js).
 *
 *   const s3 = new S3Client({ ... });
 *   const file = await openFileSource('report.pdf');
 *   const upload = FileUpload.start({ s3: nodeUploadS3(s3), builder: nodeBuilder,
 *     store: fileUploadStore(folder), keyring, file, bucket, key });
 *   await upload.done;
 *   await downloadObject({ s3: downloadS3For(s3), decryptor: nodeDecryptor, keyring, bucket, key,
 *     sink: await fileSink('copy.pdf') });
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { inProcessDecryptor, type FrameDecryptor } from '../download-workers';
import { inProcessBuilder, type PartBuilder } from '../part-builder';
import { rewrapS3For, type RewrapS3 } from '../rewrap-s3';
import { uploadS3For, type UploadS3 } from '../s3-api';

export { openFileSource, type FileSourceOptions } from './file-source';
export { fileSink, TEMP_SUFFIX, type FileSink, type FileSinkOptions } from './file-sink';
export { fileRewrapStore, fileUploadStore, RECORD_FILE_FORMAT } from './file-store';

/** The engine's S3 seam for uploads over an SDK client, with parts sent as bytes (not Blobs). */
export function nodeUploadS3(client: S3Client): UploadS3 {
  return uploadS3For(client, { blobBodies: false });
}

/** The rewrap engine's S3 seam over an SDK client, with bodies sent as bytes (not Blobs). */
export function nodeRewrapS3(client: S3Client): RewrapS3 {
  return rewrapS3For(client, { blobBodies: false });
}

/** Builds upload parts on the calling thread (WebCrypto in Node is native code). */
export const nodeBuilder: PartBuilder = inProcessBuilder;
/** Decrypts download frames on the calling thread. */
export const nodeDecryptor: FrameDecryptor = inProcessDecryptor;
