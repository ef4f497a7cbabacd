/**
 * Resuming an interrupted download ([Note: download resume]): the engine against the in-memory
 * S3 with a file handle that behaves like Chromium's FileSystemWritableFileStream (writes go to a
 * swap copy that only close() commits; keepExistingData starts the copy from the file). A network
 * failure keeps the verified prefix; the resume fetches only the rest, with If-Match on the first
 * ETag, and ends byte-identical; a changed or tampered object empties the file.
 */
import { describe, expect, test } from 'vitest';
import { encryptBytes } from '../../../src/core/one-shot';
import { downloadObject, type DownloadSetup } from '../../../src/transfer/download';
import {
  isResumableFailure,
  resumableFileSink,
  type ResumableFileHandle,
  type ResumableSink,
} from '../../../src/transfer/browser/download-resume';
import { VeilError } from '../../../src/core/errors';
import {
  PEER_SUITE_0578,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../core/helpers';
import { FakeDownloadS3 } from './download-fake-s3';
import { s3Error } from './fake-s3';

const KEY = testKeyBytes(256);
const FRAME = 1024;
const FRAME_OBJECT = FRAME + 32;
const RANGE = 2 * FRAME_OBJECT;
const NO_WAIT = { sleep: () => Promise.resolve() };

/** A file handle with Chromium's swap-file semantics, in memory. */
class SwapFileHandle implements ResumableFileHandle {
  data = new Uint8Array(0);
  commits = 0;

  getFile(): Promise<Blob> {
    return Promise.resolve(new Blob([this.data]));
  }

  createWritable(options?: { keepExistingData?: boolean }): Promise<FileSystemWritableFileStream> {
    let swap = options?.keepExistingData ? this.data.slice() : new Uint8Array(0);
    let position = 0;
    let open = true;
    const ensureOpen = (): void => {
      if (!open) throw new TypeError('closed');
    };
    const writable = {
      write: (chunk: Uint8Array) => {
        ensureOpen();
        const end = position + chunk.length;
        if (end > swap.length) {
          const grown = new Uint8Array(end);
          grown.set(swap);
          swap = grown;
        }
        swap.set(chunk, position);
        position = end;
        return Promise.resolve();
      },
      seek: (to: number) => {
        ensureOpen();
        position = to;
        return Promise.resolve();
      },
      truncate: (size: number) => {
        ensureOpen();
        const cut = new Uint8Array(size);
        cut.set(swap.subarray(0, Math.min(size, swap.length)));
        swap = cut;
        position = Math.min(position, size);
        return Promise.resolve();
      },
      close: () => {
        ensureOpen();
        open = false;
        this.data = swap;
        this.commits += 1;
        return Promise.resolve();
      },
      abort: () => {
        open = false;
        return Promise.resolve();
      },
    };
    return Promise.resolve(writable as unknown as FileSystemWritableFileStream);
  }
}

async function setup(
  s3: FakeDownloadS3,
  extra: Partial<DownloadSetup> = {},
): Promise<DownloadSetup> {
  return {
    s3,
    bucket: 'b',
    key: 'k',
    keyring: await ourKeyring(KEY),
    rangeBytes: RANGE,
    rangesInFlight: 2,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    retryHooks: NO_WAIT,
    origin: 'https://app.example',
    ...extra,
  };
}

/** A Veil object of `frames` frames plus 7 bytes, and its plaintext. */
async function veilObject(frames: number): Promise<{ plain: Uint8Array; message: Uint8Array }> {
  const plain = patternBytes(frames * FRAME + 7, 4);
  const message = await encryptBytes(plain, { keyring: await ourKeyring(KEY), frameBytes: FRAME });
  return { plain, message };
}

/**
 * Downloads with every body GET from `failFromBytes` on failing (a network drop; the final-frame
 * check that opens the object still answers); returns the error and what the sink kept.
 */
async function interrupted(
  s3: FakeDownloadS3,
  handle: SwapFileHandle,
  failFromBytes: number,
): Promise<{ error: unknown; writtenBytes: number; kept: boolean; sink: ResumableSink }> {
  const objectBytes = s3.objects.get('k')!.body.length;
  s3.failWith = (call, request) =>
    call === 'get' &&
    request &&
    request.startBytes >= failFromBytes &&
    request.endBytes < objectBytes
      ? s3Error('ServiceUnavailable', 503)
      : undefined;
  const sink = await resumableFileSink(handle);
  const error: unknown = await downloadObject({
    ...(await setup(s3, { rangesInFlight: 1 })),
    sink,
  }).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  s3.failWith = () => undefined;
  return { error, writtenBytes: sink.writtenBytes, kept: sink.kept, sink };
}

describe('download resume', () => {
  test('a network failure keeps the verified prefix; the resume fetches the rest only', async () => {
    const { plain, message } = await veilObject(9);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const etag = s3.objects.get('k')!.etag;
    const headerBytes = message.length - 9 * FRAME_OBJECT - (7 + 40);
    // The third body batch (frames 5-6) fails on every attempt.
    const handle = new SwapFileHandle();
    const first = await interrupted(s3, handle, headerBytes + 4 * FRAME_OBJECT);
    expect(first.error).toMatchObject({ code: 'S3_RETRIES_EXHAUSTED' });
    expect(isResumableFailure(first.error)).toBe(true);
    expect(first).toMatchObject({ kept: true, writtenBytes: 4 * FRAME });
    expect(Buffer.compare(handle.data, plain.subarray(0, 4 * FRAME))).toBe(0);

    s3.ranges.length = 0;
    const sink = await resumableFileSink(handle, { resumeAtBytes: first.writtenBytes });
    const progress: number[] = [];
    const result = await downloadObject({
      ...(await setup(s3)),
      sink,
      resumeFrom: { writtenBytes: first.writtenBytes, etag },
      onProgress: (p) => progress.push(p.writtenBytes),
    });
    expect(result).toMatchObject({
      kind: 'esdk-framed',
      writtenBytes: plain.length,
      resumedFromBytes: 4 * FRAME,
    });
    expect(Buffer.compare(handle.data, plain)).toBe(0);
    expect(progress[0]).toBe(4 * FRAME);
    // Header, final-frame check, then frames 5.. only: nothing before frame 5 is fetched again.
    const bodyStarts = s3.ranges.map(([start]) => start).filter((start) => start >= headerBytes);
    expect(Math.min(...bodyStarts.slice(0, -1))).toBe(headerBytes + 4 * FRAME_OBJECT);
  });

  test('a kept prefix waits for a resume; discard() empties the file when the user gives up', async () => {
    const { plain, message } = await veilObject(9);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const headerBytes = message.length - 9 * FRAME_OBJECT - (7 + 40);
    const handle = new SwapFileHandle();
    const first = await interrupted(s3, handle, headerBytes + 4 * FRAME_OBJECT);
    expect(first.sink.pendingResume).toBe(true);
    expect(handle.data.length).toBe(4 * FRAME);
    await first.sink.discard();
    expect(first.sink.pendingResume).toBe(false);
    expect(first.sink).toMatchObject({ kept: false, writtenBytes: 0 });
    expect(handle.data.length).toBe(0);
    await first.sink.discard();
    expect(handle.data.length).toBe(0);

    // A completed download is not discarded.
    const sink = await resumableFileSink(handle);
    await downloadObject({ ...(await setup(s3)), sink });
    expect(sink.pendingResume).toBe(false);
    await sink.discard();
    expect(Buffer.compare(handle.data, plain)).toBe(0);
  });

  test('discard() during writing empties the file, earlier commits included', async () => {
    const handle = new SwapFileHandle();
    handle.data = patternBytes(100, 3);
    const sink = await resumableFileSink(handle, { resumeAtBytes: 100 });
    await sink.write(patternBytes(10, 5));
    expect(sink.pendingResume).toBe(false);
    await sink.discard();
    expect(handle.data.length).toBe(0);
  });

  test('a resume point inside a frame continues byte-exactly', async () => {
    const { plain, message } = await veilObject(5);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const handle = new SwapFileHandle();
    handle.data = plain.slice(0, 2 * FRAME + 100);
    const sink = await resumableFileSink(handle, { resumeAtBytes: 2 * FRAME + 100 });
    await downloadObject({
      ...(await setup(s3)),
      sink,
      resumeFrom: { writtenBytes: 2 * FRAME + 100, etag: s3.objects.get('k')!.etag },
    });
    expect(Buffer.compare(handle.data, plain)).toBe(0);
  });

  test('a plain object continues from any byte', async () => {
    const body = patternBytes(5 * RANGE + 3, 9);
    body[0] = 0x01;
    const s3 = new FakeDownloadS3();
    s3.put('k', body);
    const handle = new SwapFileHandle();
    handle.data = body.slice(0, 777);
    const sink = await resumableFileSink(handle, { resumeAtBytes: 777 });
    const result = await downloadObject({
      ...(await setup(s3, { keyring: undefined })),
      sink,
      resumeFrom: { writtenBytes: 777, etag: s3.objects.get('k')!.etag },
    });
    expect(result).toMatchObject({ kind: 'plain', writtenBytes: body.length });
    expect(Buffer.compare(handle.data, body)).toBe(0);
  });

  test('an object changed since the interruption stops and empties the file', async () => {
    const { message } = await veilObject(6);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const handle = new SwapFileHandle();
    const first = await interrupted(s3, handle, message.length - 2 * FRAME_OBJECT - (7 + 40));
    expect(first.kept).toBe(true);
    const etag = s3.objects.get('k')!.etag;
    s3.put('k', (await veilObject(6)).message); // a new message id: another object
    for (const hideHead of [false, true]) {
      s3.hideHead = hideHead; // without HEAD's ETag, the If-Match of the first GET catches it
      const sink = await resumableFileSink(handle, { resumeAtBytes: first.writtenBytes });
      await expect(
        downloadObject({
          ...(await setup(s3)),
          sink,
          resumeFrom: { writtenBytes: first.writtenBytes, etag },
        }),
      ).rejects.toMatchObject({ code: 'DOWNLOAD_OBJECT_CHANGED' });
      expect(sink.kept).toBe(false);
      expect(handle.data.length).toBe(0);
      handle.data = new Uint8Array(first.writtenBytes);
    }
  });

  test('a tampered frame after the resume point empties the file', async () => {
    const { message } = await veilObject(6);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const handle = new SwapFileHandle();
    const first = await interrupted(s3, handle, message.length - 3 * FRAME_OBJECT);
    expect(first.writtenBytes).toBeGreaterThan(0);
    const tampered = message.slice();
    tampered[message.length - 100] = (tampered[message.length - 100] ?? 0) ^ 1;
    s3.put('k', tampered);
    const sink = await resumableFileSink(handle, { resumeAtBytes: first.writtenBytes });
    await expect(
      downloadObject({
        ...(await setup(s3)),
        sink,
        resumeFrom: { writtenBytes: first.writtenBytes, etag: s3.objects.get('k')!.etag },
      }),
    ).rejects.toMatchObject({ code: 'FRAME_TAMPERED' });
    expect(handle.data.length).toBe(0);
  });

  test('signed (0x0578) messages cannot continue: only a whole read checks the signature', async () => {
    const plain = patternBytes(4 * FRAME, 2);
    const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plain), {
      suiteId: PEER_SUITE_0578,
      frameLength: FRAME,
    });
    const s3 = new FakeDownloadS3();
    s3.put('k', new Uint8Array(result));
    const handle = new SwapFileHandle();
    handle.data = plain.slice(0, FRAME);
    const sink = await resumableFileSink(handle, { resumeAtBytes: FRAME });
    await expect(
      downloadObject({
        ...(await setup(s3)),
        sink,
        resumeFrom: { writtenBytes: FRAME, etag: s3.objects.get('k')!.etag },
      }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(handle.data.length).toBe(0);
  });

  test('guards: a bad resume point, and a file shorter than it', async () => {
    const s3 = new FakeDownloadS3();
    const handle = new SwapFileHandle();
    await expect(resumableFileSink(handle, { resumeAtBytes: -1 })).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
    });
    await expect(resumableFileSink(handle, { resumeAtBytes: 10 })).rejects.toMatchObject({
      code: 'DOWNLOAD_SAVE_FAILED',
    });
    const sink = await resumableFileSink(handle);
    await expect(
      downloadObject({ ...(await setup(s3)), sink, resumeFrom: { writtenBytes: 1, etag: '' } }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', detail: 'resumeFrom' });
    expect(isResumableFailure(new VeilError('FRAME_TAMPERED'))).toBe(false);
    expect(isResumableFailure(new VeilError('DOWNLOAD_OBJECT_CHANGED'))).toBe(false);
    // Credentials that ran out mid-download: the verified prefix waits for a new sign-in.
    expect(isResumableFailure(new VeilError('CREDENTIALS_EXPIRED'))).toBe(true);
  });
});
