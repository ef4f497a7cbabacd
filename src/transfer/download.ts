/**
 * The download engine: one S3 object to a save target, decrypted in the browser.
 *
 * [Note: download pipeline] HeadObject gives the size, the metadata and the ETag; every later GET
 * carries If-Match with that ETag, so an object replaced mid-download stops it with
 * DOWNLOAD_OBJECT_CHANGED. A ranged GET of the first bytes (grown until the header parses) tells
 * what the object is:
 * - not an ESDK v2 message (no veil-format metadata and no 02 04 78 / 02 05 78 start): written as
 *   it is, labelled 'plain';
 * - suite 0x0478, framed, with a body whose size and last frame agree with the header ([Note:
 *   body layout from the object size] in download-plan.ts): the header is opened with the keyring
 *   once, then frame-aligned ranged GETs (`rangeBytes` each, `rangesInFlight` at once) are
 *   decrypted in the worker pool and written strictly in order. A batch is written only after
 *   every tag in it verified, and memory holds at most `rangesInFlight` batches in flight plus
 *   the one being written, whatever the object size;
 * - anything else (0x0578, whose signature covers the whole message; non-framed bodies; a body
 *   that does not fit its header): sequential ranged GETs through the core's createDecryptStream,
 *   which checks the signature, holds back what must be held back, and names exactly what is
 *   wrong with a truncated, extended or reordered message.
 * On any failure or cancel the sink is aborted, so no partial output is kept.
 */
import { VeilError, needs } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import { createDecryptStream } from '../core/decrypt-stream';
import type { MessageHeader } from '../core/header';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  tryParseHeader,
} from '../core/header';
import type { Keyring } from '../core/keyring';
import { openMessageHeader } from '../core/message';
import { SUITE_COMMIT_KEY } from '../core/suites';
import { corsRuleFor, pageOrigin } from './cors';
import {
  SNIFF_BYTES,
  bodyLayout,
  classifyObject,
  finalFrameMatches,
  frameOffsetBytes,
  framesForRange,
  nextHeaderRange,
  planBatches,
  type BodyLayout,
  type FrameBatch,
} from './download-plan';
import { DownloadMeter, type DownloadProgress, type DownloadState } from './download-progress';
import type { DownloadS3, ObjectHead, RangeBytes } from './download-s3';
import type { DownloadSink } from './download-sink';
import { inProcessDecryptor, type FrameDecryptor } from './download-workers';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryHooks, type RetryPolicy } from './retry';

/** Object bytes per ranged GET by default (16 frames of 512 KiB). */
export const DEFAULT_RANGE_BYTES = 8 * 1024 * 1024;
/** Ranged GETs fetched or decrypted at once by default. */
export const DEFAULT_RANGES_IN_FLIGHT = 4;
/** First header range fetched; grown until the header parses. */
export const FIRST_HEADER_BYTES = 4096;

/** Which object to read and how. */
export interface DownloadSetup {
  readonly s3: DownloadS3;
  readonly bucket: string;
  readonly key: string;
  /**
   * Opens the data key: Model A raw AES, B HSM proxy, C KMS, or a multi-keyring of several
   * (createMultiKeyring({ children }) tries each). Not needed for plain objects.
   */
  readonly keyring?: Keyring;
  /** Decrypts frame batches: a WorkerPool in the browser; default in process. */
  readonly decryptor?: FrameDecryptor;
  /** Object bytes per ranged GET (rounded to whole frames), 64 KiB..64 MiB; default 8 MiB. */
  readonly rangeBytes?: number;
  /** Ranged GETs in flight (memory bound), 1..32; default 4. */
  readonly rangesInFlight?: number;
  readonly retry?: RetryPolicy;
  readonly retryHooks?: RetryHooks;
  /** Cancels the download: requests stop, the sink is aborted, DOWNLOAD_CANCELLED. */
  readonly signal?: AbortSignal;
  /**
   * Continue an interrupted download ([Note: download resume] in download-resume.ts): the sink
   * already holds the first `writtenBytes` of the output, from an object whose ETag was `etag`.
   * Only 'plain' and 'esdk-framed' objects can continue; the ETag is checked again (If-Match).
   */
  readonly resumeFrom?: ResumePoint;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** The page origin, for the CORS rule in errors; default location.origin. */
  readonly origin?: string;
  /** Clock for progress, in milliseconds. */
  readonly nowMs?: () => number;
}

/** Where an interrupted download stopped: output bytes written in order, and the object's ETag. */
export interface ResumePoint {
  readonly writtenBytes: number;
  readonly etag: string;
}

/** How an object is read. */
export type ObjectKind = 'plain' | 'esdk-framed' | 'esdk-stream';

/** What openObject learned. */
export interface OpenedObject {
  readonly kind: ObjectKind;
  readonly objectBytes: number;
  readonly etag: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** The parsed header (authenticated for 'esdk-framed'); absent for plain objects. */
  readonly header?: MessageHeader;
  /** The frame layout ('esdk-framed' only). */
  readonly layout?: BodyLayout;
  /** Plaintext size when known before decrypting (plain and 'esdk-framed'). */
  readonly plaintextBytes: number | undefined;
  /** The derived content key ('esdk-framed' only; non-extractable). */
  readonly contentKey?: CryptoKey;
}

/** A finished download. */
export interface DownloadResult {
  readonly kind: ObjectKind;
  /** 'plain' objects were saved as they are: they were not encrypted by Veil or an ESDK. */
  readonly label: 'decrypted' | 'plain';
  readonly objectBytes: number;
  /** Bytes the save target holds at the end (with a resume: including those written before). */
  readonly writtenBytes: number;
  /** With a resume: the bytes that were already written, which this run skipped. */
  readonly resumedFromBytes?: number;
  readonly etag: string;
  /** The algorithm suite of an ESDK object. */
  readonly suiteId?: number;
}

/** One key an object's header names, for asking the user for the right one. */
export interface NeededKey {
  readonly providerId: string;
  /** Raw AES key name, HSM key label or KMS key ARN, as the header spells it (unauthenticated). */
  readonly keyName: string;
}

/** The keys an ESDK header names (raw AES: key name; HSM proxy: label; KMS: key ARN). */
export function keysNeeded(header: MessageHeader): NeededKey[] {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return header.encryptedDataKeys.map((edk) => {
    const info = edk.providerInfo;
    // Raw AES: key name || u32 128 || u32 12 || IV(12).
    const rawAes =
      info.length >= 20 &&
      info[info.length - 20] === 0 &&
      info[info.length - 17] === 0x80 &&
      info[info.length - 13] === 0x0c;
    return {
      providerId: edk.providerId,
      keyName: decoder.decode(rawAes ? info.subarray(0, info.length - 20) : info),
    };
  });
}

/** Runs one download; see [Note: download pipeline]. */
class Download {
  readonly #setup: DownloadSetup;
  readonly #meter: DownloadMeter;
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  readonly #origin: string;
  #state: DownloadState = 'opening';

  constructor(setup: DownloadSetup) {
    // Precondition: an S3 adapter, a bucket and a key; bounded ranges.
    needs(typeof setup?.s3?.getRange === 'function', 'BAD_ARGUMENT', 's3');
    needs(typeof setup.bucket === 'string' && setup.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
    needs(typeof setup.key === 'string' && setup.key.length > 0, 'BAD_ARGUMENT', 'key');
    const rangeBytes = setup.rangeBytes ?? DEFAULT_RANGE_BYTES;
    needs(
      Number.isSafeInteger(rangeBytes) && rangeBytes >= 1 && rangeBytes <= 64 * 1024 * 1024,
      'OUT_OF_RANGE',
      'rangeBytes',
    );
    const inFlight = setup.rangesInFlight ?? DEFAULT_RANGES_IN_FLIGHT;
    needs(
      Number.isInteger(inFlight) && inFlight >= 1 && inFlight <= 32,
      'OUT_OF_RANGE',
      'rangesInFlight',
    );
    // Precondition: a resume point names a non-negative byte count and an ETag.
    needs(
      setup.resumeFrom === undefined ||
        (Number.isSafeInteger(setup.resumeFrom.writtenBytes) &&
          setup.resumeFrom.writtenBytes >= 0 &&
          typeof setup.resumeFrom.etag === 'string' &&
          setup.resumeFrom.etag.length > 0),
      'BAD_ARGUMENT',
      'resumeFrom',
    );
    this.#setup = setup;
    this.#meter = new DownloadMeter(setup.nowMs);
    this.#origin = setup.origin ?? pageOrigin();
    this.#signal = setup.signal
      ? AbortSignal.any([setup.signal, this.#controller.signal])
      : this.#controller.signal;
  }

  get rangeBytes(): number {
    return this.#setup.rangeBytes ?? DEFAULT_RANGE_BYTES;
  }

  report(state?: DownloadState): void {
    if (state) this.#state = state;
    this.#setup.onProgress?.(this.#meter.snapshot(this.#state));
  }

  /** Stops requests in flight (after a failure). */
  stop(): void {
    this.#controller.abort(new DOMException('stopped', 'AbortError'));
  }

  /**
   * [Note: cancel while the sink waits] A sink's write can wait without end: the service-worker
   * sink waits for the browser to pull the next chunk, which it does not while its download is
   * paused or its Save As dialog is open. So each sink call is raced against the cancel signal;
   * on cancel this rejects with DOWNLOAD_CANCELLED at once and `run` aborts the sink with it,
   * which also ends the sink's own wait.
   */
  #untilCancelled(pending: Promise<void>): Promise<void> {
    const signal = this.#setup.signal;
    if (!signal) return pending;
    return new Promise<void>((resolve, reject) => {
      const onCancel = (): void => reject(new VeilError('DOWNLOAD_CANCELLED'));
      if (signal.aborted) onCancel();
      signal.addEventListener('abort', onCancel, { once: true });
      void pending
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onCancel));
    });
  }

  /** Maps retry.ts's upload codes, S3 error names and aborts to download codes. */
  #explain(error: unknown): unknown {
    if (this.#setup.signal?.aborted) {
      return error instanceof VeilError && error.code === 'DOWNLOAD_CANCELLED'
        ? error
        : new VeilError('DOWNLOAD_CANCELLED', undefined, { cause: error });
    }
    if (!(error instanceof VeilError)) return error;
    const cause = error.cause;
    const map = (code: ErrorCode, detail = error.detail): VeilError =>
      new VeilError(code, detail, { cause });
    if (error.code === 'UPLOAD_S3_REJECTED') {
      return error.detail === 'PreconditionFailed'
        ? map('DOWNLOAD_OBJECT_CHANGED', 'S3 answered 412 to If-Match')
        : map('DOWNLOAD_S3_REJECTED');
    }
    if (error.code === 'UPLOAD_RETRIES_EXHAUSTED') {
      return cause instanceof TypeError
        ? map(
            'DOWNLOAD_UNREACHABLE',
            `${error.detail ?? ''}; the CORS rule: ${JSON.stringify(corsRuleFor(this.#origin))}`,
          )
        : map('DOWNLOAD_RETRIES_EXHAUSTED');
    }
    return error;
  }

  /** Runs one S3 call with retries under the download's signal; errors in download codes. */
  async #send<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withRetry(
        () => call(this.#signal),
        this.#setup.retry ?? DEFAULT_RETRY_POLICY,
        this.#signal,
        this.#setup.retryHooks,
      );
    } catch (error) {
      throw this.#explain(error);
    }
  }

  /**
   * Bytes [startBytes, endBytes) of the object, as a whole ArrayBuffer (transferable), with
   * If-Match on `etag`; without an ETag yet (see #open), the reply's is returned for later ones.
   */
  async range(
    etag: string | undefined,
    startBytes: number,
    endBytes: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    return (await this.#rangeReply(etag, startBytes, endBytes)).bytes;
  }

  async #rangeReply(
    etag: string | undefined,
    startBytes: number,
    endBytes: number,
  ): Promise<RangeBytes & { bytes: Uint8Array<ArrayBuffer> }> {
    const { bucket, key } = this.#setup;
    const reply = await this.#send((signal) =>
      this.#setup.s3.getRange({ bucket, key, startBytes, endBytes, ifMatch: etag }, signal),
    );
    if (etag !== undefined && reply.etag !== undefined && !sameEtag(reply.etag, etag)) {
      throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs between requests');
    }
    if (reply.bytes.length !== endBytes - startBytes) {
      throw new VeilError(
        'TRUNCATED',
        `bytes ${startBytes}..${endBytes} came back as ${reply.bytes.length} bytes`,
      );
    }
    this.#meter.addFetched(reply.bytes.length);
    const bytes = reply.bytes;
    const whole =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes as Uint8Array<ArrayBuffer>)
        : new Uint8Array(bytes);
    return { ...reply, bytes: whole };
  }

  /** HeadObject, the header, the keyring: everything before the body. */
  async open(): Promise<OpenedObject> {
    try {
      return await this.#open();
    } catch (error) {
      throw this.#explain(error);
    }
  }

  async #open(): Promise<OpenedObject> {
    const { bucket, key } = this.#setup;
    const head: ObjectHead = await this.#send((signal) =>
      this.#setup.s3.headObject(bucket, key, signal),
    );
    const objectBytes = head.contentLength;
    const corsError = (): VeilError =>
      new VeilError(
        'DOWNLOAD_CORS_HEADERS',
        `cannot read ETag; add this rule: ${JSON.stringify(corsRuleFor(this.#origin))}`,
      );
    if (objectBytes === 0) {
      // An empty object whose metadata names an encrypted message was cut, not uploaded empty
      // (an empty file's message still has a header and a final frame).
      if (head.metadata?.['veil-format']?.startsWith('esdk')) {
        throw new VeilError('TRUNCATED', 'the object is empty but its metadata names a message');
      }
      if (!head.etag) throw corsError();
      if (this.#setup.resumeFrom && !sameEtag(head.etag, this.#setup.resumeFrom.etag)) {
        throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs from the interrupted one');
      }
      return {
        objectBytes,
        etag: head.etag,
        metadata: head.metadata,
        kind: 'plain',
        plaintextBytes: 0,
      };
    }
    // The first GET carries If-Match when HEAD exposed the ETag. Some S3 stand-ins (moto) apply
    // CORS to GET but not HEAD; then the first GET's ETag and metadata are used, and its
    // Content-Range total must match the HEAD size (the object did not change in between).
    const resumeEtag = this.#setup.resumeFrom?.etag;
    if (resumeEtag !== undefined && head.etag !== undefined && !sameEtag(head.etag, resumeEtag)) {
      throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the ETag differs from the interrupted one');
    }
    const firstEtag = head.etag ?? resumeEtag;
    const first = await this.#rangeReply(firstEtag, 0, Math.min(objectBytes, FIRST_HEADER_BYTES));
    const etag = firstEtag ?? first.etag;
    if (!etag) throw corsError();
    if (first.totalBytes !== undefined && first.totalBytes !== objectBytes) {
      throw new VeilError('DOWNLOAD_OBJECT_CHANGED', 'the size differs between requests');
    }
    const metadata =
      head.metadata && Object.keys(head.metadata).length > 0 ? head.metadata : first.metadata;
    const base = { objectBytes, etag, metadata };
    let fetched = first.bytes;
    if (classifyObject(metadata, fetched.subarray(0, SNIFF_BYTES)) === 'plain') {
      return { ...base, kind: 'plain', plaintextBytes: objectBytes };
    }
    let header: MessageHeader | undefined;
    for (;;) {
      const parsed = tryParseHeader(fetched, {
        maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      });
      if ('header' in parsed) {
        header = parsed.header;
        break;
      }
      const next = nextHeaderRange(fetched.length, parsed.needBytes, objectBytes);
      const more = await this.range(etag, fetched.length, next);
      const grown = new Uint8Array(next);
      grown.set(fetched, 0);
      grown.set(more, fetched.length);
      fetched = grown;
    }
    if (header.suiteId !== SUITE_COMMIT_KEY || header.contentType !== 'framed') {
      return { ...base, kind: 'esdk-stream', header, plaintextBytes: undefined };
    }
    if (!this.#setup.keyring) {
      // inspectObject without a key: the header only (nothing in it is authenticated yet).
      return { ...base, kind: 'esdk-framed', header, plaintextBytes: undefined };
    }
    const contentKey = await openMessageHeader(header, { keyring: this.#setup.keyring });
    const layout = bodyLayout(objectBytes, header.headerBytes, header.frameBytes);
    if (layout) {
      const finalStart = frameOffsetBytes(layout, layout.frameCount);
      const finalFrame = await this.range(etag, finalStart, objectBytes);
      if (finalFrameMatches(layout, finalFrame)) {
        return {
          ...base,
          kind: 'esdk-framed',
          header,
          layout,
          contentKey,
          plaintextBytes: layout.plaintextBytes,
        };
      }
    }
    return { ...base, kind: 'esdk-stream', header, plaintextBytes: undefined };
  }

  /** Fetches and decrypts one batch (in a worker). */
  async batch(opened: OpenedObject, batch: FrameBatch): Promise<Uint8Array> {
    const { layout, contentKey, header } = opened;
    needs(layout && contentKey && header, 'INTERNAL_ERROR', 'not a framed object');
    const frames = await this.range(opened.etag, batch.startBytes, batch.endBytes);
    const decryptor = this.#setup.decryptor ?? inProcessDecryptor;
    const { plaintext } = await decryptor.decryptFrames({
      contentKey,
      messageId: header.messageId,
      frameBytes: layout.frameBytes,
      firstSeq: batch.firstSeq,
      lastSeq: batch.lastSeq,
      finalSeq: layout.frameCount,
      frames,
    });
    return plaintext;
  }

  /**
   * Yields the plaintext of `batches` strictly in order, at most rangesInFlight fetched or
   * decrypted at once; the first failure in order is thrown and the rest are dropped.
   */
  async *batchesInOrder(
    opened: OpenedObject,
    batches: FrameBatch[],
  ): AsyncGenerator<Uint8Array, void, undefined> {
    const inFlight = this.#setup.rangesInFlight ?? DEFAULT_RANGES_IN_FLIGHT;
    const pending: Promise<Uint8Array>[] = [];
    let next = 0;
    const startNext = (): void => {
      const batch = batches[next++];
      if (!batch) return;
      const started = this.batch(opened, batch);
      started.catch(() => undefined); // rethrown in order below
      pending.push(started);
    };
    try {
      while (next < batches.length && pending.length < inFlight) startNext();
      while (pending.length > 0) {
        const plaintext = await pending.shift();
        startNext();
        if (plaintext) yield plaintext;
      }
    } finally {
      if (pending.length > 0) this.stop();
    }
  }

  /** Sequential chunks of the object from `startBytes`, the next one fetched ahead. */
  async *chunks(opened: OpenedObject, startBytes = 0): AsyncGenerator<Uint8Array, void, undefined> {
    const step = this.rangeBytes;
    let at = startBytes;
    let ahead: Promise<Uint8Array> | undefined;
    const fetchAt = (from: number): Promise<Uint8Array> | undefined => {
      if (from >= opened.objectBytes) return undefined;
      const started = this.range(opened.etag, from, Math.min(opened.objectBytes, from + step));
      started.catch(() => undefined);
      return started;
    };
    ahead = fetchAt(at);
    try {
      while (ahead) {
        const chunk = await ahead;
        at += chunk.length;
        ahead = fetchAt(at);
        yield chunk;
      }
    } finally {
      if (ahead) this.stop();
    }
  }

  /** The object's plaintext through the core's decrypt stream, chunk by chunk. */
  async *streamed(opened: OpenedObject): AsyncGenerator<Uint8Array, void, undefined> {
    needs(this.#setup.keyring, 'BAD_ARGUMENT', 'keyring: the object is encrypted');
    const source = this.chunks(opened);
    const input = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const next = await source.next();
          if (next.done === true) controller.close();
          else controller.enqueue(next.value);
        },
        async cancel() {
          await source.return(undefined);
        },
      },
      { highWaterMark: 1 },
    );
    const reader = input
      .pipeThrough(createDecryptStream({ keyring: this.#setup.keyring }))
      .getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }

  /** The bytes to write from output offset `fromBytes` on (0, or a resume point). */
  output(opened: OpenedObject, fromBytes = 0): AsyncGenerator<Uint8Array, void, undefined> {
    if (opened.kind === 'plain') return this.chunks(opened, fromBytes);
    if (opened.kind === 'esdk-framed' && opened.layout && opened.contentKey) {
      return this.framedFrom(opened, opened.layout, fromBytes);
    }
    // Precondition: only the whole-message stream authenticates signed or non-framed messages.
    needs(fromBytes === 0, 'BAD_ARGUMENT', 'resumeFrom: this object can only be read whole');
    return this.streamed(opened);
  }

  /** A framed object's plaintext from `fromBytes` on: whole batches, the first one trimmed. */
  async *framedFrom(
    opened: OpenedObject,
    layout: BodyLayout,
    fromBytes: number,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    if (fromBytes >= layout.plaintextBytes) return;
    const firstSeq = Math.floor(fromBytes / layout.frameBytes) + 1;
    const batches = planBatches(layout, this.rangeBytes, firstSeq, layout.frameCount);
    let skipBytes = fromBytes - (firstSeq - 1) * layout.frameBytes;
    for await (const plaintext of this.batchesInOrder(opened, batches)) {
      yield skipBytes > 0 ? plaintext.subarray(skipBytes) : plaintext;
      skipBytes = 0;
    }
  }

  /** Writes everything to `sink`; aborts it on any failure. */
  async run(sink: DownloadSink): Promise<DownloadResult> {
    const resumedFromBytes = this.#setup.resumeFrom?.writtenBytes ?? 0;
    let writtenBytes = resumedFromBytes;
    try {
      const opened = await this.open();
      // Precondition: a resume point inside the output.
      needs(
        opened.plaintextBytes === undefined || resumedFromBytes <= opened.plaintextBytes,
        'OUT_OF_RANGE',
        'resumeFrom: more bytes than the object holds',
      );
      // Counted before the rate starts, so they do not show as speed.
      this.#meter.addWritten(resumedFromBytes);
      this.#meter.start(
        opened.objectBytes,
        opened.plaintextBytes ?? opened.objectBytes,
        opened.etag,
      );
      this.report('downloading');
      for await (const chunk of this.output(opened, resumedFromBytes)) {
        if (this.#setup.signal?.aborted) throw new VeilError('DOWNLOAD_CANCELLED');
        // Read before the write: a sink may take the chunk's buffer (download-sw-sink.ts).
        const chunkBytes = chunk.length;
        if (chunkBytes === 0) continue;
        await this.#untilCancelled(sink.write(chunk));
        writtenBytes += chunkBytes;
        this.#meter.addWritten(chunkBytes);
        this.report();
      }
      if (this.#setup.signal?.aborted) throw new VeilError('DOWNLOAD_CANCELLED');
      await this.#untilCancelled(sink.close());
      this.report('done');
      return {
        kind: opened.kind,
        label: opened.kind === 'plain' ? 'plain' : 'decrypted',
        objectBytes: opened.objectBytes,
        writtenBytes,
        ...(this.#setup.resumeFrom ? { resumedFromBytes } : {}),
        etag: opened.etag,
        ...(opened.header ? { suiteId: opened.header.suiteId } : {}),
      };
    } catch (error) {
      this.stop();
      const explained = this.#explain(error);
      // The sink learns why (in download codes): a resumable one keeps verified output on a
      // network failure (download-resume.ts).
      await sink.abort(explained);
      this.report(
        explained instanceof VeilError && explained.code === 'DOWNLOAD_CANCELLED'
          ? 'cancelled'
          : 'failed',
      );
      throw explained;
    }
  }

  /** Plaintext bytes [startBytes, endBytes), fetching only the frames that hold them. */
  async readRange(startBytes: number, endBytes: number): Promise<Uint8Array> {
    try {
      const opened = await this.open();
      const total = opened.plaintextBytes;
      if (total !== undefined) {
        // Precondition: a range within the plaintext.
        needs(
          Number.isSafeInteger(startBytes) && Number.isSafeInteger(endBytes),
          'BAD_ARGUMENT',
          'range',
        );
        needs(0 <= startBytes && startBytes <= endBytes, 'OUT_OF_RANGE', 'range start');
        needs(endBytes <= total, 'OUT_OF_RANGE', 'range end beyond the plaintext');
      }
      if (opened.kind === 'plain') {
        return startBytes === endBytes
          ? new Uint8Array(0)
          : await this.range(opened.etag, startBytes, endBytes);
      }
      if (opened.kind === 'esdk-framed' && opened.layout && opened.contentKey) {
        const { firstSeq, lastSeq } = framesForRange(opened.layout, startBytes, endBytes);
        const batches = planBatches(opened.layout, this.rangeBytes, firstSeq, lastSeq);
        const out = new Uint8Array(endBytes - startBytes);
        for await (const [index, plaintext] of indexed(this.batchesInOrder(opened, batches))) {
          const batch = batches[index];
          if (!batch) break;
          copyOverlap(out, startBytes, plaintext, batch.plaintextOffsetBytes);
        }
        return out;
      }
      // Signed or non-framed: only the whole-message stream authenticates it.
      const parts: Uint8Array[] = [];
      let offset = 0;
      for await (const plaintext of this.streamed(opened)) {
        const from = Math.max(startBytes, offset);
        const to = Math.min(endBytes, offset + plaintext.length);
        if (from < to) parts.push(plaintext.slice(from - offset, to - offset));
        offset += plaintext.length;
      }
      needs(endBytes <= offset, 'OUT_OF_RANGE', 'range end beyond the plaintext');
      const out = new Uint8Array(endBytes - startBytes);
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    } catch (error) {
      this.stop();
      throw this.#explain(error);
    }
  }
}

const unquote = (etag: string): string => etag.replace(/^W\//, '').replace(/^"|"$/g, '');
const sameEtag = (a: string, b: string): boolean => unquote(a) === unquote(b);

async function* indexed<T>(source: AsyncGenerator<T>): AsyncGenerator<[number, T]> {
  let index = 0;
  for await (const value of source) yield [index++, value];
}

/** Copies the part of `plaintext` (at plaintext offset `offsetBytes`) that falls inside `out`. */
function copyOverlap(
  out: Uint8Array,
  outStartBytes: number,
  plaintext: Uint8Array,
  offsetBytes: number,
): void {
  const from = Math.max(outStartBytes, offsetBytes);
  const to = Math.min(outStartBytes + out.length, offsetBytes + plaintext.length);
  if (from < to)
    out.set(plaintext.subarray(from - offsetBytes, to - offsetBytes), from - outStartBytes);
}

/**
 * Downloads `setup.key` into `sink` (see [Note: download pipeline]); the sink is closed on success
 * and aborted on any failure, so nothing partial is kept.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options (synchronously, as a rejection),
 *   DOWNLOAD_OBJECT_CHANGED, DOWNLOAD_S3_REJECTED, DOWNLOAD_RETRIES_EXHAUSTED,
 *   DOWNLOAD_UNREACHABLE, DOWNLOAD_CORS_HEADERS, DOWNLOAD_CANCELLED, DOWNLOAD_SAVE_FAILED, the
 *   keyring's (NO_MATCHING_EDK, WRONG_KEY, ...) and the format's (COMMITMENT_MISMATCH,
 *   HEADER_TAMPERED, FRAME_TAMPERED, TRUNCATED, TRAILING_BYTES, OUT_OF_ORDER, SIGNATURE_INVALID, ...).
 */
export async function downloadObject(
  setup: DownloadSetup & { readonly sink: DownloadSink },
): Promise<DownloadResult> {
  // Precondition: a sink.
  needs(typeof setup?.sink?.write === 'function', 'BAD_ARGUMENT', 'sink');
  return new Download(setup).run(setup.sink);
}

/**
 * Reads plaintext bytes [startBytes, endBytes) of `setup.key`. For Veil's 0x0478 framed objects
 * only the frames that hold the range are fetched, each authenticated on its own; plain objects
 * are read as they are; signed (0x0578) and non-framed messages are read whole through the decrypt
 * stream, which alone can authenticate them.
 * @throws VeilError OUT_OF_RANGE for a range outside the plaintext, and the errors of
 *   downloadObject.
 */
export function readPlaintextRange(
  setup: DownloadSetup,
  startBytes: number,
  endBytes: number,
): Promise<Uint8Array> {
  return new Download(setup).readRange(startBytes, endBytes);
}

/**
 * HeadObject and the header only: what kind of object this is, its size and, for ESDK objects,
 * the header (to name the keys it needs). Opens the data key when a keyring is given and the
 * object is 0x0478 framed.
 * @throws the errors of downloadObject before the body.
 */
export function inspectObject(setup: DownloadSetup): Promise<OpenedObject> {
  return new Download(setup).open();
}
