/**
 * The HSM proxy's HTTP API, version 1 (documented in ../README.md). JSON in and out; every
 * route but the health check needs a verified ID token and, for key use, a label the policy
 * grants; each wrap is bound to its owner or the label's group ([Note: owner-bound wrapped
 * keys]). Failures are JSON `{ error, message }` with a code from api-errors.ts; no response or
 * log line ever holds key material, AAD or tokens. A key operation answers only once its audit
 * line is on disk.
 *
 * Rate limits: unauthenticated requests draw on a bucket per client address (from
 * X-Forwarded-For only through trusted proxies); authenticated ones on a bucket per identity,
 * taken after the token check; the health check has buckets of its own, so neither kind of
 * traffic can starve it.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { ApiError, toApiError } from './api-errors';
import type { Authenticator, Identity } from './auth';
import type { AuditLog, AuditOperation, AuditRecord } from './audit';
import { clientAddress } from './client-address';
import type { ProxyConfig } from './config';
import type { KeyService } from './keys';
import { RateLimiter, readJson } from './limits';
import { auditBinding, bindingForWrap, describeWrap, planUnwrap } from './ownership';
import type { Policy } from './policy';
import { auditDigest, boundAad, boundWrap } from './wrapped-key';

export const API_VERSION = 1;
export const SERVICE_NAME = 'veil-hsm-proxy';

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_AAD_BYTES = 65_535;
const HEALTH_CACHE_MS = 2000;

export interface ProxyDeps {
  /** The token's label and its key operations (an Hsm in production). */
  hsm: { tokenLabel: string; keys: KeyService };
  auth: Authenticator;
  policy: Policy;
  audit: AuditLog;
  config: ProxyConfig;
}

/** One key operation as the audit log sees it, filled in as the request is understood. */
type Call = Pick<AuditRecord, 'identity' | 'label' | 'binding' | 'wrappedSha256' | 'aadSha256'> & {
  caller: Identity | null;
};

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function label(body: Record<string, unknown>, field = 'keyLabel'): string {
  const value = body[field];
  if (typeof value !== 'string' || !LABEL.test(value)) {
    throw new ApiError('BAD_REQUEST', `${field} must be 1 to 64 letters, digits, ".", "_" or "-"`);
  }
  return value;
}

function base64(body: Record<string, unknown>, field: string, maxBytes: number): Buffer {
  const value = body[field];
  if (
    typeof value !== 'string' ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(value) ||
    value.length % 4 !== 0
  ) {
    throw new ApiError('BAD_REQUEST', `${field} must be base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > maxBytes)
    throw new ApiError('BAD_REQUEST', `${field} is limited to ${maxBytes} bytes`);
  return bytes;
}

/** The health answer: the token, and whether the default key is there and non-extractable. */
export async function health(hsm: ProxyDeps['hsm'], config: ProxyConfig) {
  const key = await hsm.keys.describeKey(config.defaultKeyLabel);
  return {
    service: SERVICE_NAME,
    apiVersion: API_VERSION,
    status: key && !key.extractable ? ('ok' as const) : ('degraded' as const),
    token: hsm.tokenLabel,
    defaultKey: key
      ? { label: key.label, found: true, bits: key.bits, extractable: key.extractable }
      : { label: config.defaultKeyLabel, found: false },
  };
}

/** The proxy's HTTP(S) server; listen on it to serve. */
export function createProxyServer(deps: ProxyDeps): HttpServer | HttpsServer {
  const { hsm, auth, policy, audit, config } = deps;
  const limit = (): RateLimiter => new RateLimiter(config.ratePerSecond, config.rateBurst);
  const limits = { anonymous: limit(), identities: limit(), health: limit() };
  let cachedHealth: { atMs: number; body: Awaited<ReturnType<typeof health>> } | undefined;

  const allowOrigin = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = req.headers.origin;
    if (origin && config.allowedOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-methods', 'GET, POST');
      res.setHeader('access-control-allow-headers', 'authorization, content-type');
      res.setHeader('access-control-expose-headers', 'x-request-id');
      res.setHeader('access-control-max-age', '600');
    }
    res.setHeader('vary', 'origin');
  };

  /**
   * Authenticates, rate-limits and audits one key operation. The answer (a data key, perhaps)
   * is released only once its audit line is on disk; if that fails, the caller gets
   * AUDIT_FAILED and nothing else.
   */
  const keyOperation = async (
    req: IncomingMessage,
    requestId: string,
    client: string,
    operation: AuditOperation,
    run: (
      call: Call,
      caller: Identity,
      body: Record<string, unknown>,
    ) => Promise<[number, unknown]>,
  ): Promise<[number, unknown]> => {
    const call: Call = {
      caller: null,
      identity: null,
      label: null,
      binding: null,
      wrappedSha256: null,
      aadSha256: null,
    };
    let answer: [number, unknown] | undefined;
    let failure: ApiError | undefined;
    try {
      if (!audit.healthy) throw new ApiError('AUDIT_UNAVAILABLE');
      let caller: Identity;
      try {
        caller = await auth.authenticate(req.headers.authorization);
      } catch (error) {
        // Failed sign-ins cost their address's bucket; past it they are not even audited.
        if (!limits.anonymous.take(client)) throw new ApiError('RATE_LIMITED');
        throw error;
      }
      call.caller = caller;
      call.identity = { sub: caller.sub, username: caller.username };
      if (!limits.identities.take(caller.sub)) throw new ApiError('RATE_LIMITED');
      const body = req.method === 'POST' ? await readJson(req, config.maxBodyBytes) : {};
      answer = await run(call, caller, body);
    } catch (error) {
      failure = toApiError(error);
    }
    const unaudited =
      failure?.code === 'AUDIT_UNAVAILABLE' || (failure?.code === 'RATE_LIMITED' && !call.caller);
    if (!unaudited) {
      try {
        await audit.append({
          requestId,
          client,
          identity: call.identity,
          operation,
          label: call.label,
          binding: call.binding,
          wrappedSha256: call.wrappedSha256,
          aadSha256: call.aadSha256,
          result: failure?.code ?? 'ok',
        });
      } catch (error) {
        throw new ApiError('AUDIT_FAILED', undefined, { cause: error });
      }
    }
    if (failure) throw failure;
    if (!answer) throw new ApiError('INTERNAL');
    return answer;
  };

  /** Reads the label field, records it for the audit, and checks the policy grants it. */
  const grantedLabel = (call: Call, caller: Identity, body: Record<string, unknown>): string => {
    const keyLabel = label(body);
    call.label = keyLabel;
    if (!policy.mayUse(caller, keyLabel)) {
      throw new ApiError('FORBIDDEN_LABEL', `you may not use the key "${keyLabel}"`);
    }
    return keyLabel;
  };

  /** Reads the AAD field and records its digest for the audit. */
  const clientAad = (call: Call, body: Record<string, unknown>): Buffer => {
    const aad = base64(body, 'aad', MAX_AAD_BYTES);
    call.aadSha256 = auditDigest(aad);
    return aad;
  };

  const route = async (
    req: IncomingMessage,
    requestId: string,
    client: string,
  ): Promise<[number, unknown]> => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const method = req.method ?? 'GET';
    if (path === '/v1/health' && method === 'GET') {
      if (!limits.health.take(client)) throw new ApiError('RATE_LIMITED');
      // Cached briefly: an unauthenticated route must not keep HSM sessions busy.
      const now = Date.now();
      if (!cachedHealth || now - cachedHealth.atMs > HEALTH_CACHE_MS) {
        cachedHealth = { atMs: now, body: await health(hsm, config) };
      }
      const body = audit.healthy
        ? cachedHealth.body
        : { ...cachedHealth.body, status: 'degraded' as const };
      return [body.status === 'ok' ? 200 : 503, body];
    }
    const operate = keyOperation.bind(null, req, requestId, client);
    if (path === '/v1/data-keys' && method === 'POST') {
      return operate('generate-data-key', async (call, caller, body) => {
        const keyLabel = grantedLabel(call, caller, body);
        const aad = clientAad(call, body);
        const binding = bindingForWrap(policy, caller, keyLabel);
        call.binding = auditBinding(binding);
        const made = await hsm.keys.generateDataKey(keyLabel, boundAad(binding, aad));
        const wrapped = boundWrap(binding, made.wrapped);
        call.wrappedSha256 = auditDigest(wrapped);
        const response = {
          keyLabel,
          plaintext: made.plaintext.toString('base64'),
          wrapped: wrapped.toString('base64'),
        };
        made.plaintext.fill(0);
        return [200, response];
      });
    }
    if (path === '/v1/data-keys/encrypt' && method === 'POST') {
      return operate('encrypt', async (call, caller, body) => {
        const keyLabel = grantedLabel(call, caller, body);
        const plaintext = base64(body, 'plaintext', 64);
        try {
          const aad = clientAad(call, body);
          if (plaintext.length !== 32)
            throw new ApiError('BAD_REQUEST', 'plaintext must be a 32-byte data key');
          const binding = bindingForWrap(policy, caller, keyLabel);
          call.binding = auditBinding(binding);
          const sealed = await hsm.keys.encryptDataKey(keyLabel, plaintext, boundAad(binding, aad));
          const wrapped = boundWrap(binding, sealed);
          call.wrappedSha256 = auditDigest(wrapped);
          return [200, { keyLabel, wrapped: wrapped.toString('base64') }];
        } finally {
          plaintext.fill(0);
        }
      });
    }
    if (path === '/v1/data-keys/decrypt' && method === 'POST') {
      return operate('decrypt', async (call, caller, body) => {
        const keyLabel = grantedLabel(call, caller, body);
        const wrapped = base64(body, 'wrapped', 1024);
        call.wrappedSha256 = auditDigest(wrapped);
        const aad = clientAad(call, body);
        call.binding = describeWrap(wrapped);
        const plan = planUnwrap(policy, caller, keyLabel, wrapped, aad);
        call.binding = auditBinding(plan.binding);
        const plaintext = await hsm.keys.decryptDataKey(keyLabel, plan.sealed, plan.hsmAad);
        const response = { keyLabel, plaintext: plaintext.toString('base64') };
        plaintext.fill(0);
        return [200, response];
      });
    }
    if (path === '/v1/keys' && method === 'GET') {
      return operate('list-keys', async (_call, caller) => {
        const labels = await hsm.keys.listLabels();
        const allowed = labels.filter((keyLabel) => policy.mayUse(caller, keyLabel));
        return [200, { keys: allowed.map((keyLabel) => ({ label: keyLabel })) }];
      });
    }
    if (path === '/v1/keys' && method === 'POST') {
      return operate('create-key', async (call, caller, body) => {
        const keyLabel = label(body, 'label');
        call.label = keyLabel;
        if (!policy.isAdmin(caller)) throw new ApiError('NOT_ADMIN');
        await hsm.keys.createKey(keyLabel);
        return [201, { label: keyLabel }];
      });
    }
    // Anything else is unauthenticated traffic: it costs its address's bucket.
    if (!limits.anonymous.take(client)) throw new ApiError('RATE_LIMITED');
    const known = [
      '/v1/health',
      '/v1/data-keys',
      '/v1/data-keys/encrypt',
      '/v1/data-keys/decrypt',
      '/v1/keys',
    ].includes(path);
    throw known
      ? new ApiError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`)
      : new ApiError('NOT_FOUND', `no route ${path}`);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    allowOrigin(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const client = clientAddress(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      config.trustedProxies,
    );
    route(req, requestId, client).then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        const apiError = toApiError(error);
        if (apiError.status >= 500) {
          const cause = apiError.cause instanceof Error ? apiError.cause.name : apiError.name;
          console.error(`${requestId} ${apiError.code}: ${cause}`);
        }
        // A body over the limit is answered 413 at once, and Node then reads and discards what
        // the client still sends (bounded by requestTimeout). Closing or resetting the
        // connection instead would often lose the 413 before the client reads it.
        if (!res.headersSent)
          send(res, apiError.status, { error: apiError.code, message: apiError.message });
      },
    );
  };

  const server = config.tls
    ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, handler)
    : createHttpServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
