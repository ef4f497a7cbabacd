/**
 * An in-memory stand-in for the S3 calls of the upload engine, honest about what it checks:
 * parts assemble in part-number order, Complete requires every listed part with its ETag, and
 * aborted uploads disappear. It can drop response headers (as a hiding CORS rule would) and fail
 * chosen calls.
 */
import { createHash } from 'node:crypto';
import type { UploadS3 } from '../../../src/transfer/s3-api';

type Failure = (call: string, input: { PartNumber?: number }) => Error | undefined;

function named(name: string, status?: number): Error {
  return Object.assign(new Error(name), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });
}

/** An S3 error as the SDK shapes it: name = S3 code, $metadata.httpStatusCode. */
export const s3Error = named;

export class FakeS3 implements UploadS3 {
  readonly objects = new Map<string, { body: Uint8Array; metadata?: Record<string, string> }>();
  readonly uploads = new Map<
    string,
    { key: string; parts: Map<number, Uint8Array>; initiated: Date; initiator: string }
  >();
  /** The Initiator.ID that ListMultipartUploads reports for the uploads this client creates. */
  initiatorId = 'arn:aws:iam::111122223333:user/veil';
  /** Creates this many uploads whose answer is then lost (a network error after S3 acted). */
  loseCreateAnswers = 0;
  readonly calls: string[] = [];
  /** Most UploadPart calls in flight at once. */
  maxPartsInFlight = 0;
  hideEtag = false;
  hideChecksum = false;
  failWith: Failure = () => undefined;
  /** Resolves each UploadPart after this many milliseconds. */
  partDelayMs = 0;
  /** Stores these parts, then loses the answer (a network error after S3 acted). */
  loseAnswerOfPart: (partNumber: number) => boolean = () => false;
  /** Every UploadPart body as it was sent, in order, also when S3 then failed or never answered. */
  readonly sentParts: { uploadId: string; partNumber: number; body: Uint8Array }[] = [];
  #inFlight = 0;
  #nextId = 1;

  #check(call: string, input: { PartNumber?: number }): void {
    this.calls.push(input.PartNumber === undefined ? call : `${call}:${input.PartNumber}`);
    const error = this.failWith(call, input);
    if (error) throw error;
  }

  createMultipartUpload: UploadS3['createMultipartUpload'] = (input) => {
    this.#check('create', {});
    const uploadId = `upload-${this.#nextId++}`;
    this.uploads.set(uploadId, {
      key: input.Key ?? '',
      parts: new Map(),
      initiated: new Date(),
      initiator: this.initiatorId,
    });
    if (this.loseCreateAnswers > 0) {
      this.loseCreateAnswers -= 1;
      return Promise.reject(new TypeError('Failed to fetch'));
    }
    return Promise.resolve({ UploadId: uploadId, $metadata: {} });
  };

  listMultipartUploads: NonNullable<UploadS3['listMultipartUploads']> = (input) => {
    this.#check('list-uploads', {});
    const uploads = [...this.uploads]
      .filter(([, upload]) => upload.key.startsWith(input.Prefix ?? ''))
      .map(([id, upload]) => ({
        UploadId: id,
        Key: upload.key,
        Initiated: upload.initiated,
        Initiator: { ID: upload.initiator },
      }));
    return Promise.resolve({ Uploads: uploads, $metadata: {} });
  };

  /** Adds an upload someone else (or an earlier session) started; returns its id. */
  addUpload(key: string, initiated: Date, initiator = this.initiatorId): string {
    const uploadId = `other-${this.#nextId++}`;
    this.uploads.set(uploadId, { key, parts: new Map(), initiated, initiator });
    return uploadId;
  }

  uploadPart: UploadS3['uploadPart'] = async (input, signal) => {
    this.#inFlight += 1;
    this.maxPartsInFlight = Math.max(this.maxPartsInFlight, this.#inFlight);
    this.sentParts.push({
      uploadId: input.UploadId ?? '',
      partNumber: input.PartNumber ?? 0,
      body: (input.Body as Uint8Array).slice(),
    });
    try {
      if (this.partDelayMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.partDelayMs);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
        });
      }
      this.#check('part', input);
      const upload = this.uploads.get(input.UploadId ?? '');
      if (!upload) throw named('NoSuchUpload', 404);
      const body = (input.Body as Uint8Array).slice();
      upload.parts.set(input.PartNumber ?? 0, body);
      if (this.loseAnswerOfPart(input.PartNumber ?? 0)) throw new TypeError('Failed to fetch');
      return {
        ...(this.hideEtag ? {} : { ETag: `"${createHash('md5').update(body).digest('hex')}"` }),
        ...(this.hideChecksum ? {} : { ChecksumCRC32: 'AAAAAA==' }),
        $metadata: {},
      };
    } finally {
      this.#inFlight -= 1;
    }
  };

  completeMultipartUpload: UploadS3['completeMultipartUpload'] = (input) => {
    this.#check('complete', {});
    const upload = this.uploads.get(input.UploadId ?? '');
    if (!upload) throw named('NoSuchUpload', 404);
    const parts = input.MultipartUpload?.Parts ?? [];
    const bodies = parts.map((part, index) => {
      const body = upload.parts.get(part.PartNumber ?? 0);
      const etag = body && `"${createHash('md5').update(body).digest('hex')}"`;
      if (!body || part.ETag !== etag || part.PartNumber !== index + 1)
        throw named('InvalidPart', 400);
      if (!part.ChecksumCRC32) throw named('InvalidRequest', 400);
      return body;
    });
    const total = bodies.reduce((sum, body) => sum + body.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const body of bodies) {
      joined.set(body, at);
      at += body.length;
    }
    this.objects.set(upload.key, { body: joined });
    this.uploads.delete(input.UploadId ?? '');
    return Promise.resolve({ ETag: '"done-1"', $metadata: {} });
  };

  abortMultipartUpload: UploadS3['abortMultipartUpload'] = (input) => {
    this.#check('abort', {});
    this.uploads.delete(input.UploadId ?? '');
    return Promise.resolve({ $metadata: {} });
  };

  listParts: UploadS3['listParts'] = (input) => {
    this.#check('list', {});
    const upload = this.uploads.get(input.UploadId ?? '');
    if (!upload) return Promise.reject(named('NoSuchUpload', 404));
    return Promise.resolve({
      Parts: [...upload.parts].map(([partNumber, body]) => ({
        PartNumber: partNumber,
        ETag: `"${createHash('md5').update(body).digest('hex')}"`,
      })),
      IsTruncated: false,
      $metadata: {},
    });
  };

  putObject: UploadS3['putObject'] = (input) => {
    this.#check('put', {});
    this.objects.set(input.Key ?? '', {
      body: (input.Body as Uint8Array).slice(),
      ...(input.Metadata ? { metadata: input.Metadata } : {}),
    });
    return Promise.resolve({ ETag: '"put-1"', ChecksumCRC32: 'AAAAAA==', $metadata: {} });
  };
}
