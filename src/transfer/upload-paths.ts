/**
 * The two ways one prepared message reaches S3 ([Note: upload pipeline] in upload.ts): a file of
 * one part in one PutObject, or a multipart upload: Create (with the strays of a retried Create
 * aborted, multipart-create.ts), the resume record started, the lanes (upload-lanes.ts), and
 * Complete with every part's checksum. The lifecycle stays in FileUpload, which these see only
 * through `MessageControl`.
 */
import { VeilError } from '../core';
import { abortStrayUploads, createMultipart } from './multipart-create';
import { objectParams } from './object-params';
import { partJob, type Prepared } from './prepare';
import { DEFAULT_RETRY_POLICY } from './retry';
import { runLanes, type UploadControl } from './upload-lanes';
import { newRecord, type UploadLedger } from './upload-ledger';
import {
  CHECKSUM_ALGORITHM,
  DEFAULT_PARTS_IN_FLIGHT,
  type UploadOptions,
  type UploadResult,
  type UploadSetup,
} from './upload-options';
import { fileIdentity } from './upload-store';

/** The lanes' view of the lifecycle, and the two steps of a multipart upload it must know of. */
export interface MessageControl extends UploadControl {
  /** A multipart upload was created: from now on a cancel or a failure aborts it. */
  created(uploadId: string): void;
  /** Complete is about to be sent: from now on a cancel is too late. */
  completing(): void;
}

/** One message to send. */
export interface MessageWork {
  readonly prepared: Prepared;
  readonly file: File;
  readonly bucket: string;
  readonly key: string;
  readonly setup: UploadSetup;
  readonly ledger: UploadLedger;
  /** The message's options (object metadata and SSE); undefined when resuming a stored upload. */
  readonly options: UploadOptions | undefined;
  /** The multipart upload to continue; undefined to create one. */
  readonly uploadId: string | undefined;
}

function objectParamsOf(options: UploadOptions | undefined): ReturnType<typeof objectParams> {
  return objectParams(options?.protection !== 'none', options?.model, options?.atRest);
}

/**
 * Sends the message, which has one part, in one PutObject; a pause during the request builds and
 * sends the part again once resumed.
 * @throws VeilError UPLOAD_CANCELLED, the builder's, the ledger's (pinDigest) and S3's errors.
 */
export async function putObject(control: MessageControl, work: MessageWork): Promise<UploadResult> {
  const { prepared, setup } = work;
  for (;;) {
    const built = await setup.builder.buildPart(partJob(prepared, work.file, 1));
    control.meter.addEncrypted(built.plaintextBytes);
    control.report();
    if (!(await control.proceed())) throw new VeilError('UPLOAD_CANCELLED');
    if (prepared.cipher) await work.ledger.pinDigest(1, built.plaintextDigest);
    try {
      const reply = await control.send((signal) =>
        setup.s3.putObject(
          {
            Bucket: work.bucket,
            Key: work.key,
            Body: built.bytes,
            ContentLength: built.bytes.length,
            ChecksumAlgorithm: CHECKSUM_ALGORITHM,
            ...(built.checksumCrc32 ? { ChecksumCRC32: built.checksumCrc32 } : {}),
            ...objectParamsOf(work.options),
          },
          signal,
        ),
      );
      control.meter.addUploaded(built.bytes.length);
      return {
        bucket: work.bucket,
        key: work.key,
        objectBytes: prepared.plan.objectBytes,
        partCount: 1,
        method: 'put',
        etag: reply.ETag,
      };
    } catch (error) {
      if (control.state() !== 'paused') throw error;
      control.meter.dropEncrypted(built.plaintextBytes);
    }
  }
}

/**
 * Creates the multipart upload, aborts the strays of a retried Create ([Note: a retried Create]
 * in multipart-create.ts), lets the app take the upload's lock, and starts the resume record.
 * @throws VeilError UPLOAD_CANCELLED after a cancel, Create's errors, `onUploadCreated`'s.
 */
async function create(control: MessageControl, work: MessageWork): Promise<string> {
  const { setup } = work;
  const identity = await fileIdentity(work.file);
  const created = await createMultipart(
    setup.s3,
    {
      Bucket: work.bucket,
      Key: work.key,
      ChecksumAlgorithm: CHECKSUM_ALGORITHM,
      ...objectParamsOf(work.options),
    },
    { policy: setup.retry ?? DEFAULT_RETRY_POLICY, hooks: setup.retryHooks ?? {} },
  );
  const uploadId = created.uploadId;
  control.created(uploadId);
  if (created.attempts > 1) await abortStrayUploads(setup.s3, work, created);
  await setup.onUploadCreated?.(uploadId);
  work.ledger.begin(
    newRecord({
      uploadId,
      bucket: work.bucket,
      key: work.key,
      prepared: work.prepared,
      file: identity,
      objectOptions: work.options,
    }),
  );
  if (control.state() === 'cancelled') throw new VeilError('UPLOAD_CANCELLED');
  return uploadId;
}

/**
 * Sends the message as a multipart upload: creates it unless `work.uploadId` is given, sends the
 * parts the ledger does not hold in lanes, then Complete.
 * @throws VeilError UPLOAD_CANCELLED, the lanes' first failure, Create's and Complete's errors.
 */
export async function sendMultipart(
  control: MessageControl,
  work: MessageWork,
): Promise<UploadResult> {
  const { prepared, setup, ledger } = work;
  const uploadId = work.uploadId ?? (await create(control, work));
  await runLanes(control, {
    prepared,
    file: work.file,
    bucket: work.bucket,
    key: work.key,
    uploadId,
    s3: setup.s3,
    builder: setup.builder,
    ledger,
    partsInFlight: setup.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT,
    origin: setup.origin,
  });
  if (control.state() === 'cancelled') throw new VeilError('UPLOAD_CANCELLED');

  control.completing();
  const completed = await control.send((signal) =>
    setup.s3.completeMultipartUpload(
      {
        Bucket: work.bucket,
        Key: work.key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: ledger.doneParts().map((part) => ({
            PartNumber: part.partNumber,
            ETag: part.etag,
            ...(part.checksumCrc32 ? { ChecksumCRC32: part.checksumCrc32 } : {}),
          })),
        },
      },
      signal,
    ),
  );
  await ledger.settled();
  await setup.store?.delete(uploadId);
  return {
    bucket: work.bucket,
    key: work.key,
    objectBytes: prepared.plan.objectBytes,
    partCount: prepared.plan.partCount,
    method: 'multipart',
    etag: completed.ETag,
  };
}
