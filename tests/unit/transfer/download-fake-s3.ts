/**
 * An in-memory stand-in for the S3 calls of the download engine, honest about what it checks:
 * ranged GETs return exactly the bytes asked for, If-Match is enforced (412 PreconditionFailed
 * when the object changed), and chosen calls can fail or be delayed.
 */
import { createHash } from 'node:crypto';
import type { DownloadS3, RangeRequest } from '../../../src/transfer/download-s3';
import type { DownloadSink } from '../../../src/transfer/download-setup';
import { s3Error } from './fake-s3';

interface StoredObject {
  body: Uint8Array;
  etag: string;
  metadata?: Record<string, string>;
}

export class FakeDownloadS3 implements DownloadS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly ranges: [number, number][] = [];
  /** Most GETs in flight at once. */
  maxInFlight = 0;
  hideEtag = false;
  /** Hide ETag and metadata from HEAD only (moto applies CORS to GET, not HEAD). */
  hideHead = false;
  /** Delay of a GET in milliseconds, by its start byte. */
  delayMs: (request: RangeRequest) => number = () => 0;
  failWith: (call: 'head' | 'get', request?: RangeRequest) => Error | undefined = () => undefined;
  /** Called after each GET answered (e.g. to replace the object mid-download). */
  afterGet: (count: number) => void = () => undefined;
  #inFlight = 0;

  put(key: string, body: Uint8Array, metadata?: Record<string, string>): void {
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.objects.set(key, { body: body.slice(), etag, ...(metadata ? { metadata } : {}) });
  }

  headObject: DownloadS3['headObject'] = (_bucket, key) => {
    const error = this.failWith('head');
    if (error) return Promise.reject(error);
    const stored = this.objects.get(key);
    if (!stored) return Promise.reject(s3Error('NotFound', 404));
    return Promise.resolve({
      contentLength: stored.body.length,
      etag: this.hideEtag || this.hideHead ? undefined : stored.etag,
      metadata: this.hideHead ? {} : stored.metadata,
      contentType: 'application/octet-stream',
    });
  };

  getRange: DownloadS3['getRange'] = async (request, signal) => {
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    try {
      const delay = this.delayMs(request);
      if (delay > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, delay);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            },
            { once: true },
          );
        });
      }
      const error = this.failWith('get', request);
      if (error) throw error;
      const stored = this.objects.get(request.key);
      if (!stored) throw s3Error('NoSuchKey', 404);
      if (request.ifMatch !== undefined && request.ifMatch !== stored.etag) {
        throw s3Error('PreconditionFailed', 412);
      }
      if (request.startBytes >= stored.body.length) throw s3Error('InvalidRange', 416);
      this.ranges.push([request.startBytes, request.endBytes]);
      const bytes = stored.body.slice(
        request.startBytes,
        Math.min(stored.body.length, request.endBytes),
      );
      this.afterGet(this.ranges.length);
      return {
        bytes,
        etag: this.hideEtag ? undefined : stored.etag,
        metadata: stored.metadata,
        totalBytes: stored.body.length,
      };
    } finally {
      this.#inFlight -= 1;
    }
  };
}

/** A sink that keeps what it is given and how it ended. */
export class MemorySink implements DownloadSink {
  chunks: Uint8Array[] = [];
  closed = false;
  aborted = false;

  write(chunk: Uint8Array): Promise<void> {
    if (this.closed || this.aborted) return Promise.reject(new Error('sink already ended'));
    this.chunks.push(chunk.slice());
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  abort(): Promise<void> {
    this.aborted = true;
    this.chunks = [];
    return Promise.resolve();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
