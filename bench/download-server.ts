/**
 * A disk-backed stand-in for the S3 calls of Veil's transfer engines, for the benchmarks only
 * (moto keeps objects in memory: about 5 GB for 1 GiB): files in one directory as
 * `/bench/<name>`, with
 * - HEAD and ranged GET, ETag, If-Match (412) and Content-Range (downloads);
 * - CreateMultipartUpload, UploadPart (each part a file; ETag and the CRC32 echoed or computed),
 *   CompleteMultipartUpload (the parts concatenated in order) and AbortMultipartUpload (uploads);
 * and CORS for any origin. It checks no signature, no checksum and no part list, and implements
 * nothing else.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';

export interface DiskS3 {
  readonly url: string;
  close(): Promise<void>;
}

type Cors = Record<string, string>;

function fail(response: ServerResponse, status: number, code: string, cors: Cors): void {
  response.writeHead(status, { ...cors, 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message></Message></Error>`);
}

function xml(response: ServerResponse, body: string, cors: Cors): void {
  response.writeHead(200, { ...cors, 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

/** Writes a request body to `path`; returns its CRC32 as S3 names it (base64, big-endian). */
async function savePart(request: IncomingMessage, path: string): Promise<string> {
  let crc = 0;
  const out = createWriteStream(path);
  await pipeline(
    request,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        yield chunk;
      }
    },
    out,
  );
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc >>> 0);
  return value.toString('base64');
}

async function concatenateParts(partsDir: string, path: string): Promise<void> {
  const parts = (await readdir(partsDir)).map(Number).sort((a, b) => a - b);
  await pipeline(async function* () {
    for (const part of parts) yield* createReadStream(join(partsDir, String(part)));
  }, createWriteStream(path));
}

async function handleUpload(
  request: IncomingMessage,
  response: ServerResponse,
  dir: string,
  name: string,
  query: URLSearchParams,
  cors: Cors,
): Promise<void> {
  const uploadId = query.get('uploadId');
  const partsDir = join(dir, `.uploads-${basename(uploadId ?? '')}`);
  if (request.method === 'POST' && query.has('uploads')) {
    const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
    await mkdir(join(dir, `.uploads-${id}`));
    xml(
      response,
      `<InitiateMultipartUploadResult><Bucket>bench</Bucket><Key>${name}</Key>` +
        `<UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      cors,
    );
    return;
  }
  if (!uploadId) {
    fail(response, 400, 'InvalidRequest', cors);
    return;
  }
  if (request.method === 'PUT') {
    const partNumber = Number(query.get('partNumber'));
    const checksum = await savePart(request, join(partsDir, String(partNumber)));
    const echoed = request.headers['x-amz-checksum-crc32'];
    response.writeHead(200, {
      ...cors,
      etag: `"${uploadId}-${partNumber}"`,
      'x-amz-checksum-crc32': typeof echoed === 'string' ? echoed : checksum,
    });
    response.end();
    return;
  }
  if (request.method === 'POST') {
    request.resume();
    await concatenateParts(partsDir, join(dir, name));
    await rm(partsDir, { recursive: true, force: true });
    xml(
      response,
      `<CompleteMultipartUploadResult><Bucket>bench</Bucket><Key>${name}</Key>` +
        `<ETag>"${uploadId}-done"</ETag></CompleteMultipartUploadResult>`,
      cors,
    );
    return;
  }
  if (request.method === 'DELETE') {
    await rm(partsDir, { recursive: true, force: true });
    response.writeHead(204, cors);
    response.end();
    return;
  }
  fail(response, 405, 'MethodNotAllowed', cors);
}

/** Serves the files of `dir` on 127.0.0.1 (a free port). */
export async function startDiskS3(dir: string): Promise<DiskS3> {
  const server = createServer((request, response) => {
    const cors = {
      'access-control-allow-origin': request.headers.origin ?? '*',
      'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE',
      'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '*',
      'access-control-expose-headers':
        'ETag, Content-Range, x-amz-meta-veil-format, x-amz-checksum-crc32',
      'access-control-max-age': '3000',
    };
    if (request.method === 'OPTIONS') {
      response.writeHead(200, cors);
      response.end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://x');
    const name = basename(url.pathname);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      handleUpload(request, response, dir, name, url.searchParams, cors).catch(() => {
        if (!response.headersSent) fail(response, 500, 'InternalError', cors);
        else response.destroy();
      });
      return;
    }
    const path = join(dir, name);
    stat(path).then(
      (info) => {
        const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
        const ifMatch = request.headers['if-match'];
        if (ifMatch !== undefined && ifMatch !== etag) {
          fail(response, 412, 'PreconditionFailed', cors);
          return;
        }
        const headers = {
          ...cors,
          etag,
          'accept-ranges': 'bytes',
          'content-type': 'application/octet-stream',
          ...(name.startsWith('plain-') ? { 'x-amz-meta-veil-format': 'plain' } : {}),
        };
        if (request.method === 'HEAD') {
          response.writeHead(200, { ...headers, 'content-length': String(info.size) });
          response.end();
          return;
        }
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
        const start = range ? Number(range[1]) : 0;
        const end = range?.[2] ? Math.min(info.size - 1, Number(range[2])) : info.size - 1;
        if (start > end) {
          fail(response, 416, 'InvalidRange', cors);
          return;
        }
        response.writeHead(range ? 206 : 200, {
          ...headers,
          'content-length': String(end - start + 1),
          ...(range ? { 'content-range': `bytes ${start}-${end}/${info.size}` } : {}),
        });
        createReadStream(path, { start, end }).pipe(response);
      },
      () => fail(response, 404, 'NoSuchKey', cors),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
