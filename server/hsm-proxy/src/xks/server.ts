/**
 * The XKS API listener: AWS KMS's external key store proxy API, version 1, over HTTPS (TLS 1.2 or
 * later with the spec's cipher suites; mutual TLS when configured), POST only, under `<prefix>/kms/xks/v1`, on the same HSM
 * and session pool as Model B's API. Each request is routed, its body read (bounded), its SigV4
 * signature verified ([Note: SigV4 by recomputation]), rate-limited, run, and audited with KMS's
 * requestMetadata before it is answered: as in Model B, no answer leaves unaudited.
 *
 * Rate limits: requests whose signature fails draw on their address's bucket and past it are
 * answered ThrottlingException without an audit line; signed requests draw on one bucket for the
 * path prefix (the spec allows a quota per prefix), so unsigned traffic cannot starve KMS.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { AuditLog, AuditOperation } from '../audit';
import { BodyError, RateLimiter } from '../limits';
import type { XksSettings, XksTls } from './config';
import { EXTERNAL_KEY_ID_PATTERN } from './config';
import { errorBody, toXksError, XksError } from './errors';
import { runXksCall, type XksApi, type XksBackend, type XksCall } from './operations';
import { verifySigV4 } from './sigv4';

/** The spec's suites: TLS 1.3 AES-256-GCM and ChaCha20, TLS 1.2 ECDHE with AES-256-GCM. */
export const XKS_TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
].join(':');

/** Large enough for every field at the spec's limits with 2,048-character ARNs. */
export const XKS_MAX_BODY_BYTES = 64 * 1024;

const AUDIT_OPERATION: Record<XksApi, AuditOperation> = {
  GetKeyMetadata: 'xks-get-key-metadata',
  Encrypt: 'xks-encrypt',
  Decrypt: 'xks-decrypt',
  GetHealthStatus: 'xks-get-health-status',
};

export interface XksServerDeps {
  backend: XksBackend;
  audit: AuditLog;
  /** The settings now in force (they change on SIGHUP). */
  settings: () => XksSettings;
  tls: XksTls;
}

/** The route of a path, or an InvalidUriPathException. */
function routeOf(path: string, uriPath: string): { api: XksApi; externalKeyId: string | null } {
  const rest = path.startsWith(`${uriPath}/`) ? path.slice(uriPath.length) : undefined;
  if (rest === '/health') return { api: 'GetHealthStatus', externalKeyId: null };
  const match =
    rest === undefined ? null : /^\/keys\/([^/]+)\/(metadata|encrypt|decrypt)$/.exec(rest);
  const [, externalKeyId, action] = match ?? [];
  if (!externalKeyId || !action || !EXTERNAL_KEY_ID_PATTERN.test(externalKeyId))
    throw new XksError('InvalidUriPathException', `no XKS API at ${path.slice(0, 300)}`);
  const api =
    action === 'metadata' ? 'GetKeyMetadata' : action === 'encrypt' ? 'Encrypt' : 'Decrypt';
  return { api, externalKeyId };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = (): BodyError =>
    new BodyError('BODY_TOO_LARGE', `the body is limited to ${XKS_MAX_BODY_BYTES} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > XKS_MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > XKS_MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new XksError('ValidationException', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new XksError('ValidationException', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function queryOf(url: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  const at = url.indexOf('?');
  if (at < 0) return query;
  for (const [key, value] of new URLSearchParams(url.slice(at + 1))) {
    const before = query[key];
    query[key] =
      before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return query;
}

/** The XKS HTTPS server; listen on it to serve. */
export function createXksServer(deps: XksServerDeps): Server {
  const { backend, audit } = deps;
  let limits: { settings: XksSettings; signed: RateLimiter } | undefined;
  const unsigned = new RateLimiter(50, 100);
  const signedBucket = (settings: XksSettings): RateLimiter => {
    if (limits?.settings !== settings) {
      limits = { settings, signed: new RateLimiter(settings.ratePerSecond, settings.rateBurst) };
    }
    return limits.signed;
  };

  const handle = async (
    req: IncomingMessage,
    requestId: string,
    startedMs: number,
  ): Promise<[number, unknown]> => {
    const settings = deps.settings();
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const { api, externalKeyId } = routeOf(path, settings.uriPath);
    if (req.method !== 'POST')
      throw new XksError('MethodNotAllowed', `${req.method ?? ''} is not allowed: use POST`);
    const call: XksCall = {
      api,
      externalKeyId,
      metadata: null,
      label: null,
      ciphertextSha256: null,
      aadSha256: null,
    };
    const client = req.socket.remoteAddress ?? 'unknown';
    let accessKeyId: string | null = null;
    let answer: unknown;
    let failure: XksError | undefined;
    try {
      if (!audit.healthy)
        throw new XksError('InternalException', 'the audit log cannot be written');
      const raw = await readBody(req);
      try {
        accessKeyId = await verifySigV4(
          { method: 'POST', path, query: queryOf(url), headers: req.headers, body: raw },
          settings.credentials,
          settings.region,
        );
      } catch (error) {
        if (!unsigned.take(client)) throw new XksError('ThrottlingException');
        throw error;
      }
      if (!signedBucket(settings).take(settings.uriPath)) throw new XksError('ThrottlingException');
      answer = await runXksCall(call, parseJson(raw), settings, backend);
    } catch (error) {
      failure = toXksError(error);
    }
    const unaudited =
      (failure?.errorName === 'InternalException' && !audit.healthy) ||
      (failure?.errorName === 'ThrottlingException' && accessKeyId === null);
    if (!unaudited) {
      try {
        await audit.append({
          requestId,
          client,
          identity: null,
          operation: AUDIT_OPERATION[api],
          label: call.label,
          binding: null,
          wrappedSha256: call.ciphertextSha256,
          aadSha256: call.aadSha256,
          result: failure?.errorName ?? 'ok',
          xks: {
            accessKeyId,
            externalKeyId,
            // Unverified metadata is not recorded: without a signature anyone could write it.
            requestMetadata: accessKeyId && call.metadata ? { ...call.metadata } : null,
            durationMs: Math.round((performance.now() - startedMs) * 10) / 10,
          },
        });
      } catch (error) {
        throw new XksError('InternalException', 'the audit line could not be written', {
          cause: error,
        });
      }
    }
    if (failure) throw failure;
    return [200, answer];
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const startedMs = performance.now();
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    res.setHeader('cache-control', 'no-store');
    handle(req, requestId, startedMs).then(
      ([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (error: unknown) => {
        const refusal = toXksError(error);
        if (refusal.status >= 500 && refusal.errorName !== 'UnsupportedOperationException') {
          const cause = refusal.cause instanceof Error ? refusal.cause.name : refusal.name;
          console.error(`${requestId} XKS ${refusal.errorName}: ${cause}`);
        }
        if (refusal.errorName === 'MethodNotAllowed') res.setHeader('allow', 'POST');
        // As in ../server.ts: a refusal before the body was read closes the connection.
        if (!req.readableEnded) {
          res.setHeader('connection', 'close');
          req.resume();
        }
        if (res.headersSent) return;
        res.writeHead(refusal.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errorBody(refusal)));
      },
    );
  };

  const client = deps.tls.client;
  const server = createServer(
    {
      cert: deps.tls.cert,
      key: deps.tls.key,
      minVersion: 'TLSv1.2',
      ciphers: XKS_TLS_CIPHERS,
      honorCipherOrder: true,
      // Mutual TLS: the handshake fails without a certificate chained to the configured CA.
      ...(client ? { requestCert: true, rejectUnauthorized: true, ca: client.ca } : {}),
    },
    handler,
  );
  if (client) {
    // Node checks the chain; the subject is checked here, before any request is read.
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.getPeerCertificate().subject?.CN !== client.subject) socket.destroy();
    });
  }
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // KMS keeps connections open; a new TLS handshake would spend the 250 ms budget on round trips.
  server.keepAliveTimeout = 60_000;
  return server;
}
