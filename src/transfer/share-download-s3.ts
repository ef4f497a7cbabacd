/**
 * The download engine's S3 seam (DownloadS3, download-s3.ts) over a share link's presigned GET
 * URL ([Note: share links] in core/share-link.ts), with `fetch` and no credentials: every read
 * is a GET of that URL with a `Range` header (a SigV4 query signature covers the method, host
 * and path, not the Range or If-Match headers). A presigned URL allows GET only, so HeadObject
 * is a GET of the first byte; the object's size comes from its Content-Range when the bucket's
 * CORS rule exposes it, else from the Content-Length of a GET without Range whose body is
 * dropped unread (sizeFromLength).
 *
 * S3's answers are read as S3 errors: the code from the XML body, the HTTP status in
 * `$metadata`, so retry.ts and s3Failure treat them as they treat the SDK's. A 403 whose
 * message says the request has expired is SHARE_LINK_EXPIRED.
 */
import { VeilError } from '../core';
import type { DownloadS3, ObjectHead, RangeBytes } from './download-s3';

/** What S3's error XML says: its Code and Message, if readable. */
function errorParts(xml: string): { code: string | undefined; message: string | undefined } {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(xml)?.[1];
  return { code, message };
}

/** An S3-shaped error for an HTTP answer that is not a success. */
async function failure(response: Response): Promise<Error> {
  const xml = await response.text().catch(() => '');
  const { code, message } = errorParts(xml);
  if (response.status === 403 && /expired/i.test(message ?? '')) {
    return new VeilError('SHARE_LINK_EXPIRED', message);
  }
  const error = new Error(message ?? `HTTP ${response.status}`);
  error.name = code ?? (response.status === 412 ? 'PreconditionFailed' : `Http${response.status}`);
  Object.assign(error, { $metadata: { httpStatusCode: response.status } });
  return error;
}

/** The object's size from `Content-Range: bytes a-b/total`. */
function totalOf(response: Response): number | undefined {
  const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
  return total === undefined ? undefined : Number(total);
}

/** User metadata from x-amz-meta-* headers the bucket's CORS rule exposes. */
function metadataOf(response: Response): Record<string, string> {
  const metadata: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  });
  return metadata;
}

/** A ranged GET of the presigned URL. */
async function get(
  fetchFn: typeof fetch,
  url: string,
  startBytes: number,
  endBytes: number,
  ifMatch: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const response = await fetchFn(url, {
    method: 'GET',
    headers: {
      Range: `bytes=${startBytes}-${endBytes - 1}`,
      ...(ifMatch ? { 'If-Match': ifMatch } : {}),
    },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw await failure(response);
  return response;
}

/**
 * The object's size from the Content-Length of a GET without Range, whose body is dropped
 * unread: a bucket's CORS rule seldom exposes Content-Range (Veil's does not), while
 * Content-Length is always readable.
 * @throws VeilError DOWNLOAD_CORS_HEADERS when even that is missing.
 */
async function sizeFromLength(
  fetchFn: typeof fetch,
  url: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const response = await fetchFn(url, {
      method: 'GET',
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      signal: controller.signal,
    });
    if (!response.ok) throw await failure(response);
    const length = response.headers.get('content-length');
    await response.body?.cancel().catch(() => undefined);
    if (length === null || !/^\d+$/.test(length)) {
      throw new VeilError('DOWNLOAD_CORS_HEADERS', 'the link: the object size is not readable');
    }
    return Number(length);
  } finally {
    controller.abort();
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * A DownloadS3 that reads only the object of `url` (the bucket and key the engine passes are
 * used for the location check, not for addressing).
 */
export function presignedDownloadS3(url: string, fetchFn: typeof fetch = fetch): DownloadS3 {
  const call = fetchFn.bind(globalThis);
  return {
    async headObject(_bucket, _key, signal): Promise<ObjectHead> {
      const response = await get(call, url, 0, 1, undefined, signal);
      await response.arrayBuffer();
      const total = totalOf(response) ?? (await sizeFromLength(call, url, signal));
      return {
        contentLength: total,
        etag: response.headers.get('etag') ?? undefined,
        metadata: metadataOf(response),
        contentType: response.headers.get('content-type') ?? undefined,
      };
    },
    async getRange(request, signal): Promise<RangeBytes> {
      const response = await get(
        call,
        url,
        request.startBytes,
        request.endBytes,
        request.ifMatch,
        signal,
      );
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        bytes,
        etag: response.headers.get('etag') ?? undefined,
        metadata: metadataOf(response),
        totalBytes: totalOf(response),
      };
    },
  };
}
