/**
 * The fault proxy (scripts/stack/fault-proxy.ts) in front of a loopback echo server: forwarding is
 * transparent, made-up answers carry CORS, resets drop the connection mid-body, down/up refuses
 * and then accepts connections on the same port, and every request is recorded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  PASS,
  accessKeyIdOf,
  isUploadPart,
  jsonError,
  partNumberOf,
  s3Error,
  startFaultProxy,
  type FaultProxy,
} from '../../../scripts/stack/fault-proxy';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let upstream: Server;
let upstreamUrl: string;
const seen: Seen[] = [];
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      response.writeHead(201, { 'x-upstream': 'yes', etag: '"abc"' });
      response.end(`got ${body.length}`);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  seen.length = 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function bytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

describe('fault proxy', () => {
  test('forwards method, target, headers and body unchanged and records them', async () => {
    proxy = await startFaultProxy({ upstream: upstreamUrl });
    const body = bytes(100_000);
    const reply = await fetch(`${proxy.url}/bucket/key?partNumber=2&uploadId=u`, {
      method: 'PUT',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDX/20260101/us-east-1/s3/aws4' },
      body,
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('x-upstream')).toBe('yes');
    expect(await reply.text()).toBe('got 100000');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/bucket/key?partNumber=2&uploadId=u' });
    expect(Buffer.compare(seen[0]!.body, body)).toBe(0);
    const record = proxy.records[0]!;
    expect(record).toMatchObject({ seq: 1, method: 'PUT', action: 'pass', status: 201 });
    expect(Buffer.compare(record.body, body)).toBe(0);
    expect(record.rawHeaders).toContain('Credential=AKIDX/');
    expect(isUploadPart(record)).toBe(true);
    expect(accessKeyIdOf(record.headers)).toBe('AKIDX');
  });

  test('a paced and delayed pass still delivers every byte', async () => {
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      decide: () => ({ kind: 'pass', delayMs: 20, bodyBytesPerSecond: 4_000_000 }),
    });
    const body = bytes(300_000);
    const reply = await fetch(`${proxy.url}/x`, { method: 'POST', body });
    expect(await reply.text()).toBe('got 300000');
    expect(Buffer.compare(seen[0]!.body, body)).toBe(0);
  });

  test('a made-up S3 error answers with CORS for the origin and never reaches the upstream', async () => {
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      decide: (head) => (head.method === 'PUT' ? s3Error(503, 'SlowDown') : PASS),
    });
    const reply = await fetch(`${proxy.url}/b/k`, {
      method: 'PUT',
      headers: { origin: 'http://127.0.0.1:1234' },
      body: bytes(10),
    });
    expect(reply.status).toBe(503);
    expect(reply.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:1234');
    expect(await reply.text()).toContain('<Code>SlowDown</Code>');
    expect(seen).toHaveLength(0);
    expect(proxy.records[0]).toMatchObject({ action: 'respond', status: 503 });
    expect(proxy.records[0]!.body.length).toBe(10);

    const json = jsonError(503, { error: 'HSM_UNAVAILABLE' });
    expect(json).toMatchObject({ status: 503, contentType: 'application/json' });
  });

  test('a reset drops the connection after part of the body', async () => {
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      decide: () => ({ kind: 'reset', afterBodyBytes: 64 * 1024 }),
    });
    const body = bytes(4 * 1024 * 1024);
    await expect(fetch(`${proxy.url}/b/k`, { method: 'PUT', body })).rejects.toThrow(TypeError);
    expect(seen).toHaveLength(0);
    const record = proxy.records[0]!;
    expect(record.action).toBe('reset');
    expect(record.status).toBeUndefined();
    expect(record.body.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(record.body.length).toBeLessThan(body.length);
  });

  test('a dropped answer reaches the upstream but never the client', async () => {
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      decide: () => ({ kind: 'pass', dropResponse: true }),
    });
    await expect(fetch(`${proxy.url}/create`, { method: 'POST', body: 'x' })).rejects.toThrow(
      TypeError,
    );
    expect(seen.map((entry) => entry.url)).toEqual(['/create']);
    expect(proxy.records[0]).toMatchObject({ action: 'pass', status: undefined });
  });

  test('down refuses connections and up accepts them again on the same port', async () => {
    proxy = await startFaultProxy({ upstream: upstreamUrl });
    expect((await fetch(`${proxy.url}/one`)).status).toBe(201);
    await proxy.down();
    await expect(fetch(`${proxy.url}/two`)).rejects.toThrow(TypeError);
    await proxy.up();
    await proxy.up();
    expect((await fetch(`${proxy.url}/three`)).status).toBe(201);
    expect(seen.map((entry) => entry.url)).toEqual(['/one', '/three']);
  });

  test('a held request whose client goes away is dropped, never forwarded', async () => {
    proxy = await startFaultProxy({
      upstream: upstreamUrl,
      decide: () => ({ kind: 'pass', delayMs: 60_000 }),
    });
    const controller = new AbortController();
    const sent = fetch(`${proxy.url}/held`, { signal: controller.signal });
    while (proxy.records.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(sent).rejects.toThrow();
    proxy.setDecide(() => PASS);
    expect((await fetch(`${proxy.url}/after`)).status).toBe(201);
    expect(seen.map((entry) => entry.url)).toEqual(['/after']);
  });

  test('the policy can be replaced while running and sees requests in order', async () => {
    proxy = await startFaultProxy({ upstream: upstreamUrl });
    const sequence: number[] = [];
    proxy.setDecide((head) => {
      sequence.push(head.seq);
      return head.seq % 2 === 0 ? s3Error(500, 'InternalError') : PASS;
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${proxy.url}/r${i}`)).status);
    expect(statuses).toEqual([201, 500, 201, 500]);
    expect(sequence).toEqual([1, 2, 3, 4]);
    expect(isUploadPart({ method: 'PUT', target: '/b/k?uploadId=x' })).toBe(false);
    expect(accessKeyIdOf({})).toBeUndefined();
    expect(partNumberOf('/b/k?partNumber=12&uploadId=x')).toBe(12);
    expect(partNumberOf('/b/k?uploadId=x&partNumber=3')).toBe(3);
    expect(partNumberOf('/b/k?uploads')).toBeUndefined();
  });
});
