/**
 * A loopback HTTP proxy that sits in front of one upstream (moto or the HSM proxy) and, per
 * request, forwards it, answers it with an error of the test's choosing, resets the connection
 * after part of the body, slows it down, or refuses connections altogether (down/up). It records
 * every request it receives (method, target, raw headers, body bytes) and what it did with it,
 * so a test can both break the network and audit what crossed it.
 *
 * [Note: fault proxy] The browser talks to the proxy as if it were the service: the page's
 * endpoint URL is the proxy's. Requests are forwarded with their headers unchanged (SigV4
 * signatures still name the proxy's host, which moto does not check). Answers the proxy makes up
 * carry `Access-Control-Allow-Origin` for the request's origin, as S3 does on errors, so the page
 * reads their status and body instead of seeing a network error. Resets and refusals look to the
 * page like a dropped connection (a fetch TypeError).
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy knows of a request before its body arrives. */
export interface RequestHead {
  /** 1, 2, ... in arrival order. */
  readonly seq: number;
  readonly method: string;
  /** Path and query, as received. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

/** What to do with one request. */
export type FaultAction =
  /**
   * Forward it, after `delayMs` (dropped if the client disconnects meanwhile), pacing the
   * request body at `bodyBytesPerSecond` if given.
   */
  | {
      readonly kind: 'pass';
      readonly delayMs?: number;
      readonly bodyBytesPerSecond?: number;
      /** The upstream acts on it, then the answer is lost: the connection drops instead. */
      readonly dropResponse?: boolean;
    }
  /** Answer without forwarding (after the whole body was read and `delayMs`). */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: string;
      readonly contentType: string;
      readonly delayMs?: number;
    }
  /** Read `afterBodyBytes` of the body (or all of a shorter one), then destroy the socket. */
  | { readonly kind: 'reset'; readonly afterBodyBytes: number };

/** One request as the proxy saw it. */
export interface ProxiedRecord extends RequestHead {
  /** Raw header lines, `name: value` joined by CRLF, as on the wire. */
  readonly rawHeaders: string;
  /** The body bytes received (all of them unless the action was a reset). */
  body: Buffer;
  readonly action: FaultAction['kind'];
  /** The status sent back (upstream's or made up); undefined after a reset or a failure. */
  status: number | undefined;
}

export type Decide = (head: RequestHead) => FaultAction | Promise<FaultAction>;

export interface FaultProxyOptions {
  /** The service behind the proxy, e.g. `http://127.0.0.1:5000`. */
  readonly upstream: string;
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** The policy; default forwards everything. Replace it later with `setDecide`. */
  readonly decide?: Decide;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, the URL to give the page instead of the upstream's. */
  readonly url: string;
  readonly port: number;
  /** Every request received so far, in order. */
  readonly records: ProxiedRecord[];
  setDecide(decide: Decide): void;
  /** Stops accepting connections and drops open ones: clients get connection refused. */
  down(): Promise<void>;
  /** Accepts connections again on the same port (nothing to do when it is up). */
  up(): Promise<void>;
  close(): Promise<void>;
}

export const PASS: FaultAction = { kind: 'pass' };

/** An S3-style XML error answer, e.g. s3Error(503, 'SlowDown'). */
export function s3Error(status: number, code: string, message = code): FaultAction {
  return {
    kind: 'respond',
    status,
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`,
  };
}

/** A JSON error answer, e.g. jsonError(503, { error: 'HSM_UNAVAILABLE' }). */
export function jsonError(status: number, body: Record<string, string>): FaultAction {
  return { kind: 'respond', status, contentType: 'application/json', body: JSON.stringify(body) };
}

/** True for an S3 UploadPart request (PUT with partNumber and uploadId). */
export function isUploadPart(head: Pick<RequestHead, 'method' | 'target'>): boolean {
  return head.method === 'PUT' && /[?&]partNumber=\d+/.test(head.target);
}

/** The part number of an UploadPart target, or undefined. */
export function partNumberOf(target: string): number | undefined {
  const match = /[?&]partNumber=(\d+)/.exec(target);
  return match ? Number(match[1]) : undefined;
}

/** The access key id of a SigV4 Authorization header, or undefined. */
export function accessKeyIdOf(headers: IncomingHttpHeaders): string | undefined {
  const match = /Credential=([^/]+)\//.exec(headers.authorization ?? '');
  return match?.[1];
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function rawHeaderText(request: IncomingMessage): string {
  const lines: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
  }
  return lines.join('\r\n');
}

/** Reads the whole body into `record.body`. */
async function readBody(request: IncomingMessage, record: ProxiedRecord): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  record.body = Buffer.concat(chunks);
}

function corsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const origin = headers.origin;
  return origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}

/** Starts a fault proxy in front of `options.upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  let decide: Decide = options.decide ?? (() => PASS);
  const records: ProxiedRecord[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  async function forward(
    request: IncomingMessage,
    response: ServerResponse,
    record: ProxiedRecord,
    action: Extract<FaultAction, { kind: 'pass' }>,
  ): Promise<void> {
    if (action.delayMs) {
      // Held requests whose client goes away (a reload, a reset) are dropped, never forwarded.
      const gone = new Promise<void>((resolve) => response.once('close', resolve));
      await Promise.race([sleep(action.delayMs), gone]);
      if (response.destroyed || request.socket.destroyed) throw new Error('client went away');
    }
    const outgoing = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    });
    const answered = new Promise<void>((resolve, reject) => {
      outgoing.on('response', (reply) => {
        if (action.dropResponse) {
          reply.resume();
          reply.on('end', () => reject(new Error('answer dropped')));
          return;
        }
        record.status = reply.statusCode;
        response.writeHead(reply.statusCode ?? 502, reply.rawHeaders);
        reply.pipe(response);
        reply.on('end', resolve);
        reply.on('error', reject);
      });
      outgoing.on('error', reject);
    });
    // Awaited below; until then a failure must not surface as an unhandled rejection.
    answered.catch(() => undefined);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of request) {
        const bytes = chunk as Buffer;
        chunks.push(bytes);
        if (!outgoing.write(bytes)) {
          await new Promise((resolve) => outgoing.once('drain', resolve));
        }
        if (action.bodyBytesPerSecond) {
          await sleep((bytes.length / action.bodyBytesPerSecond) * 1000);
        }
      }
    } catch (error) {
      // The client went away mid-body: the upstream gets a broken request too, not a hung one.
      outgoing.destroy();
      throw error;
    } finally {
      record.body = Buffer.concat(chunks);
    }
    outgoing.end();
    await answered;
  }

  async function reset(
    request: IncomingMessage,
    record: ProxiedRecord,
    afterBodyBytes: number,
  ): Promise<void> {
    // Breaking out of the loop destroys the request stream and detaches its socket: keep it.
    const socket = request.socket;
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
      received += (chunk as Buffer).length;
      if (received >= afterBodyBytes) break;
    }
    record.body = Buffer.concat(chunks);
    socket.destroy();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const head: RequestHead = {
      seq: ++seq,
      method: request.method ?? 'GET',
      target: request.url ?? '/',
      headers: request.headers,
    };
    const action = await decide(head);
    const record: ProxiedRecord = {
      ...head,
      rawHeaders: rawHeaderText(request),
      body: Buffer.alloc(0),
      action: action.kind,
      status: undefined,
    };
    records.push(record);
    switch (action.kind) {
      case 'pass':
        await forward(request, response, record, action);
        return;
      case 'reset':
        await reset(request, record, action.afterBodyBytes);
        return;
      case 'respond':
        await readBody(request, record);
        await sleep(action.delayMs ?? 0);
        record.status = action.status;
        response.writeHead(action.status, {
          'content-type': action.contentType,
          'content-length': Buffer.byteLength(action.body),
          ...corsHeaders(request.headers),
        });
        response.end(action.body);
        return;
    }
  }

  const server = createServer((request, response) => {
    const socket = request.socket;
    handle(request, response).catch(() => {
      // The client or the upstream went away: drop the exchange, as a broken network would.
      socket.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    setDecide(next) {
      decide = next;
    },
    down: stop,
    up: () => (server.listening ? Promise.resolve() : listen(port)),
    close: async () => {
      if (server.listening) await stop();
    },
  };
}
