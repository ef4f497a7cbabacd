/**
 * A disk-backed stand-in for the S3 object reads the download engine makes, for the benchmark
 * only (moto keeps objects in memory: about 5 GB for 1 GiB): HEAD and ranged GET of files in one
 * directory as `/bench/<name>`, with ETag, If-Match (412), Content-Range and CORS for any
 * origin. It checks no signature and implements nothing else.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export interface DiskS3 {
  readonly url: string;
  close(): Promise<void>;
}

function fail(response: ServerResponse, status: number, code: string, cors: object): void {
  response.writeHead(status, { ...cors, 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message></Message></Error>`);
}

/** Serves the files of `dir` on 127.0.0.1 (a free port). */
export async function startDiskS3(dir: string): Promise<DiskS3> {
  const server = createServer((request, response) => {
    const cors = {
      'access-control-allow-origin': request.headers.origin ?? '*',
      'access-control-allow-methods': 'GET, HEAD',
      'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '*',
      'access-control-expose-headers': 'ETag, Content-Range, x-amz-meta-veil-format',
      'access-control-max-age': '3000',
    };
    if (request.method === 'OPTIONS') {
      response.writeHead(200, cors);
      response.end();
      return;
    }
    const name = basename(new URL(request.url ?? '/', 'http://x').pathname);
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
