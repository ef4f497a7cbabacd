/**
 * The S3 commands `uploadS3For` (s3-api.ts) and `bucketS3For` (aws/bucket-s3.ts) send, in one
 * module that s3-commands.ts fetches on demand ([Note: lazy seams] in src/aws/sdk-loader.ts).
 */
export {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
