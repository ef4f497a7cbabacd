/**
 * Reads of the bucket's small records (inbox notes, people directory entries, share link lists)
 * that never hold more than a cap in memory.
 *
 * [Note: capped reads] Anyone who may write to the bucket can write to anyone's inbox, by design,
 * and can replace a directory entry's or a link list's object: a "note" of several GB read whole
 * would exhaust the tab. So each such read asks for at most cap + 1 bytes (a Range request), and
 * its body is read chunk by chunk and cancelled as soon as it passes the cap, so a server that
 * ignores the Range and answers 200 with the whole object is cut off too. An answer that says the
 * object is larger (a Content-Length over the cap, a Content-Range total over it) is refused
 * before its body is read. A record over its cap is RECORD_TOO_LARGE: the lists that read many
 * records show that one as unreadable and go on with the others.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { errorName, httpStatusOf, needs, VeilError } from '../core';
import { s3Commands } from '../transfer/s3-commands';

/** The body shapes the SDK hands back: a web stream (browser), a Node stream, or its mixin. */
export type CappedBody =
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | { transformToWebStream(): ReadableStream<Uint8Array> };

const NO_OBJECT: ReadonlySet<string> = new Set(['NoSuchKey', 'NotFound']);

function webStream(body: CappedBody): ReadableStream<Uint8Array> | undefined {
  if (typeof (body as ReadableStream).getReader === 'function') {
    return body as ReadableStream<Uint8Array>;
  }
  if (Symbol.asyncIterator in (body as object)) return undefined;
  return (body as { transformToWebStream(): ReadableStream<Uint8Array> }).transformToWebStream();
}

function joined(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const out = new Uint8Array(totalBytes);
  let offsetBytes = 0;
  for (const chunk of chunks) {
    out.set(chunk, offsetBytes);
    offsetBytes += chunk.length;
  }
  return out;
}

/**
 * Reads a body up to `capBytes` ([Note: capped reads]): the bytes, or undefined as soon as the
 * body passes the cap (the rest is never read; the stream is cancelled).
 */
export async function readAtMost(
  body: CappedBody,
  capBytes: number,
): Promise<Uint8Array | undefined> {
  needs(Number.isSafeInteger(capBytes) && capBytes >= 0, 'BAD_ARGUMENT', 'capBytes');
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  const stream = webStream(body);
  if (!stream) {
    // A Node stream: leaving the loop early destroys it.
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      totalBytes += chunk.length;
      if (totalBytes > capBytes) return undefined;
      chunks.push(chunk);
    }
    return joined(chunks, totalBytes);
  }
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return joined(chunks, totalBytes);
    totalBytes += value.length;
    if (totalBytes > capBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
}

/** Drops a body unread (its connection is released). */
async function discard(body: CappedBody | undefined): Promise<void> {
  if (!body) return;
  const stream = webStream(body);
  if (stream) await stream.cancel().catch(() => undefined);
  else (body as { destroy?: () => void }).destroy?.();
}

/** A small record as read, with its ETag. */
export interface CappedObject {
  readonly bytes: Uint8Array;
  readonly etag: string;
}

/**
 * GETs at most `capBytes` of `key` ([Note: capped reads]).
 * @returns the object, or undefined when there is none (404).
 * @throws VeilError RECORD_TOO_LARGE when the object is larger than `capBytes`; the SDK's error
 *   for other failures.
 */
export async function getCapped(
  client: S3Client,
  bucket: string,
  key: string,
  capBytes: number,
  signal?: AbortSignal,
): Promise<CappedObject | undefined> {
  needs(Number.isSafeInteger(capBytes) && capBytes > 0, 'BAD_ARGUMENT', 'capBytes');
  const { GetObjectCommand } = await s3Commands();
  let reply;
  try {
    reply = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${capBytes}` }),
      signal ? { abortSignal: signal } : {},
    );
  } catch (error) {
    if (httpStatusOf(error) === 404 || NO_OBJECT.has(errorName(error))) return undefined;
    // An empty object has no byte 0: S3 answers 416 to any range of it.
    if (httpStatusOf(error) === 416 || errorName(error) === 'InvalidRange') {
      return { bytes: new Uint8Array(0), etag: '' };
    }
    throw error;
  }
  const body = reply.Body as CappedBody | undefined;
  const tooLarge = (): VeilError =>
    new VeilError('RECORD_TOO_LARGE', `${key} is larger than ${capBytes} bytes`);
  const total = /\/(\d+)$/.exec(reply.ContentRange ?? '')?.[1];
  if ((reply.ContentLength ?? 0) > capBytes || (total !== undefined && Number(total) > capBytes)) {
    await discard(body);
    throw tooLarge();
  }
  const bytes = body ? await readAtMost(body, capBytes) : new Uint8Array(0);
  if (!bytes) throw tooLarge();
  return { bytes, etag: reply.ETag ?? '' };
}
