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
 * message says the request has expired is SHARE_LINK_EXPIRED. The link names its host, so no
 * body is trusted to end: a range answer must be a 206 of at most the range's bytes
 * (SHARE_LINK_BAD_ANSWER otherwise), and an error body is read up to 4 KiB.
 */
import { VeilError } from '../core';
import type { DownloadS3, ObjectHead, RangeBytes } from './download-s3';

/** What S3's error XML says: its Code and Message, if readable. */
function errorParts(xml: string): { code: string | undefined; message: string | undefined } {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(xml)?.[1];
  return { code, message };
}

/** The most of an error body read (S3's error XML is a few hundred bytes). */
const ERROR_BODY_BYTES = 4096;

/**
 * At most `maxBytes` of a body; the rest is cancelled unread. A link's URL names any host, so a
 * body is never trusted to end: one that runs past `maxBytes` is `onLong`'s (undefined: cut).
 */
async function readAtMost(
  response: Response,
  maxBytes: number,
  onLong?: () => Error,
): Promise<Uint8Array> {
  const out = new Uint8Array(maxBytes);
  let filled = 0;
  const reader = response.body?.getReader();
  if (!reader) return out.subarray(0, 0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, filled);
      if (filled + value.byteLength > maxBytes) {
        if (onLong) throw onLong();
        out.set(value.subarray(0, maxBytes - filled), filled);
        return out;
      }
      out.set(value, filled);
      filled += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The range answer is not the range asked for: the link's host is not S3 as Veil uses it. */
function badAnswer(detail: string): VeilError {
  return new VeilError('SHARE_LINK_BAD_ANSWER', detail);
}

/** An S3-shaped error for an HTTP answer that is not a success. */
async function failure(response: Response): Promise<Error> {
  const xml = new TextDecoder().decode(
    await readAtMost(response, ERROR_BODY_BYTES).catch(() => new Uint8Array(0)),
  );
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
  if (response.status !== 206) {
    await response.body?.cancel().catch(() => undefined);
    throw badAnswer(`HTTP ${response.status} to a range read, not 206 Partial Content`);
  }
  return response;
}

/** The body of a range answer: exactly the range's bytes, never more (readAtMost). */
async function rangeBody(response: Response, lengthBytes: number): Promise<Uint8Array> {
  const bytes = await readAtMost(response, lengthBytes, () =>
    badAnswer(`more than the ${lengthBytes} bytes asked for`),
  );
  return bytes;
}

/**
 * The object's size from the Content-Length of a GET without Range, whose body is dropped
 * unread: a bucket's CORS rule may not expose Content-Range (Veil's stacks do), while
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
      await rangeBody(response, 1);
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
      const bytes = await rangeBody(response, request.endBytes - request.startBytes);
      return {
        bytes,
        etag: response.headers.get('etag') ?? undefined,
        metadata: metadataOf(response),
        totalBytes: totalOf(response),
      };
    },
  };
}
