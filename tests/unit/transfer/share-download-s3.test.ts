/**
 * The download engine's seam over a presigned URL: every read is a GET of that one URL with a
 * Range header and no credentials; the size comes from Content-Range; S3's "Request has
 * expired" 403 is SHARE_LINK_EXPIRED; other answers keep their S3 name and status, and a 412 to
 * If-Match reads as the download's DOWNLOAD_OBJECT_CHANGED through the engine's mapping.
 */
import { describe, expect, it } from 'vitest';
import { s3Failure } from '../../../src/core/aws-failure';
import { presignedDownloadS3 } from '../../../src/transfer/share-download-s3';

const URL_ = 'https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abc';
const OBJECT = Uint8Array.from({ length: 100 }, (_, i) => i);

function fakeFetch(answer?: (init: RequestInit) => Response) {
  const seen: { url: string; init: RequestInit }[] = [];
  const fetchFn = ((url: string, init: RequestInit) => {
    seen.push({ url, init });
    if (answer) return Promise.resolve(answer(init));
    const range = /bytes=(\d+)-(\d+)/.exec(new Headers(init.headers).get('range') ?? '')!;
    const [start, end] = [Number(range[1]), Number(range[2])];
    return Promise.resolve(
      new Response(OBJECT.slice(start, end + 1), {
        status: 206,
        headers: {
          'content-range': `bytes ${start}-${end}/${OBJECT.length}`,
          etag: '"e1"',
          'x-amz-meta-veil-format': 'esdk-v2-0478-framed',
        },
      }),
    );
  }) as unknown as typeof fetch;
  return { fetchFn, seen };
}

const xml = (code: string, message: string) =>
  `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

describe('presignedDownloadS3', () => {
  it('HEAD is a GET of one byte; ranges are GETs of the same URL without credentials', async () => {
    const { fetchFn, seen } = fakeFetch();
    const s3 = presignedDownloadS3(URL_, fetchFn);
    const head = await s3.headObject('ignored', 'ignored');
    expect(head).toMatchObject({ contentLength: 100, etag: '"e1"' });
    expect(head.metadata).toEqual({ 'veil-format': 'esdk-v2-0478-framed' });
    const range = await s3.getRange({
      bucket: 'b',
      key: 'k',
      startBytes: 10,
      endBytes: 20,
      ifMatch: '"e1"',
    });
    expect([...range.bytes]).toEqual([...OBJECT.slice(10, 20)]);
    expect(range.totalBytes).toBe(100);
    expect(seen.map((s) => s.url)).toEqual([URL_, URL_]);
    const headers = new Headers(seen[1]!.init.headers);
    expect(headers.get('range')).toBe('bytes=10-19');
    expect(headers.get('if-match')).toBe('"e1"');
    expect(seen.every((s) => s.init.credentials === 'omit' && s.init.method === 'GET')).toBe(true);
  });

  it('S3’s expired answer is SHARE_LINK_EXPIRED', async () => {
    const { fetchFn } = fakeFetch(
      () => new Response(xml('AccessDenied', 'Request has expired'), { status: 403 }),
    );
    await expect(presignedDownloadS3(URL_, fetchFn).headObject('b', 'k')).rejects.toMatchObject({
      code: 'SHARE_LINK_EXPIRED',
    });
  });

  it('another refusal keeps its S3 name and status', async () => {
    const { fetchFn } = fakeFetch(
      () => new Response(xml('NoSuchKey', 'The specified key does not exist.'), { status: 404 }),
    );
    const error: unknown = await presignedDownloadS3(URL_, fetchFn)
      .headObject('b', 'k')
      .catch((e: unknown) => e);
    expect(s3Failure(error, { task: 'download' })).toMatchObject({
      code: 'S3_REJECTED',
      detail: 'download: NoSuchKey',
    });
  });

  it('a 412 to If-Match maps to the download’s changed-object code', async () => {
    const { fetchFn } = fakeFetch(() => new Response('', { status: 412 }));
    const error: unknown = await presignedDownloadS3(URL_, fetchFn)
      .getRange({ bucket: 'b', key: 'k', startBytes: 0, endBytes: 1, ifMatch: '"old"' })
      .catch((e: unknown) => e);
    expect(s3Failure(error, { preconditionFailed: 'DOWNLOAD_OBJECT_CHANGED' }).code).toBe(
      'DOWNLOAD_OBJECT_CHANGED',
    );
  });

  it('no readable Content-Range (CORS): the size from an unranged GET’s Content-Length', async () => {
    const { fetchFn, seen } = fakeFetch((init) =>
      new Headers(init.headers).has('range')
        ? new Response(new Uint8Array(1), { status: 206, headers: { etag: '"e1"' } })
        : new Response(OBJECT, { status: 200, headers: { 'content-length': '100' } }),
    );
    const head = await presignedDownloadS3(URL_, fetchFn).headObject('b', 'k');
    expect(head).toMatchObject({ contentLength: 100, etag: '"e1"' });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.init.signal?.aborted).toBe(true);
  });

  it('no readable size at all: DOWNLOAD_CORS_HEADERS', async () => {
    const { fetchFn } = fakeFetch(() => new Response(new Uint8Array(1), { status: 206 }));
    await expect(presignedDownloadS3(URL_, fetchFn).headObject('b', 'k')).rejects.toMatchObject({
      code: 'DOWNLOAD_CORS_HEADERS',
    });
  });

  /** A body that never ends, counting what was pulled from it. */
  function endless(chunkBytes = 65_536) {
    const pulled = { bytes: 0, cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled.bytes += chunkBytes;
        controller.enqueue(new Uint8Array(chunkBytes));
      },
      cancel() {
        pulled.cancelled = true;
      },
    });
    return { body, pulled };
  }

  it('a host that ignores Range (200) is refused before its body is read', async () => {
    const { body, pulled } = endless();
    const { fetchFn } = fakeFetch(() => new Response(body, { status: 200 }));
    await expect(
      presignedDownloadS3(URL_, fetchFn).getRange({
        bucket: 'b',
        key: 'k',
        startBytes: 0,
        endBytes: 10,
        ifMatch: undefined,
      }),
    ).rejects.toMatchObject({ code: 'SHARE_LINK_BAD_ANSWER' });
    expect(pulled.bytes).toBeLessThanOrEqual(2 * 65_536);
  });

  it('a 206 whose body runs past the range is refused, reading no more than one chunk past it', async () => {
    const { body, pulled } = endless();
    const { fetchFn } = fakeFetch(() => new Response(body, { status: 206 }));
    await expect(
      presignedDownloadS3(URL_, fetchFn).getRange({
        bucket: 'b',
        key: 'k',
        startBytes: 0,
        endBytes: 100_000,
        ifMatch: undefined,
      }),
    ).rejects.toMatchObject({ code: 'SHARE_LINK_BAD_ANSWER' });
    expect(pulled.bytes).toBeLessThanOrEqual(100_000 + 2 * 65_536);
    expect(pulled.cancelled).toBe(true);
  });

  it('an endless error body is read up to 4 KiB, then cancelled', async () => {
    const { body, pulled } = endless(1024);
    const { fetchFn } = fakeFetch(() => new Response(body, { status: 500 }));
    const error: unknown = await presignedDownloadS3(URL_, fetchFn)
      .headObject('b', 'k')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(pulled.bytes).toBeLessThanOrEqual(4096 + 2 * 1024);
    expect(pulled.cancelled).toBe(true);
  });
});
