/**
 * The HSM proxy's HTTP API, version 1: routes, bodies and error codes from the contract shared
 * with the browser ([Note: HSM API contract] in src/keyrings/hsm-api.ts; documented for people in
 * ../README.md). JSON in and out; every
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
import {
  HSM_API_VERSION,
  HSM_KEY_LABEL_PATTERN,
  HSM_MAX_AAD_BYTES,
  HSM_SERVICE_NAME,
  hsmRouteOf,
  isHsmPath,
  type HsmErrorReply,
  type HsmHealthReply,
  type HsmReply,
  type HsmRequestField,
} from '../../../src/keyrings/hsm-api';
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

/** The name the proxy gives itself in its health answer and its log lines. */
export const SERVICE_NAME = HSM_SERVICE_NAME;

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

function label(
  body: Record<string, unknown>,
  field: Extract<HsmRequestField, 'keyLabel' | 'label'> = 'keyLabel',
): string {
  const value = body[field];
  if (typeof value !== 'string' || !HSM_KEY_LABEL_PATTERN.test(value)) {
    throw new ApiError('BAD_REQUEST', `${field} must be 1 to 64 letters, digits, ".", "_" or "-"`);
  }
  return value;
}

function base64(body: Record<string, unknown>, field: HsmRequestField, maxBytes: number): Buffer {
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
export async function health(hsm: ProxyDeps['hsm'], config: ProxyConfig): Promise<HsmHealthReply> {
  const key = await hsm.keys.describeKey(config.defaultKeyLabel);
  return {
    service: HSM_SERVICE_NAME,
    apiVersion: HSM_API_VERSION,
    status: key && !key.extractable ? 'ok' : 'degraded',
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
  let cachedHealth: { atMs: number; body: HsmHealthReply } | undefined;

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
    const aad = base64(body, 'aad', HSM_MAX_AAD_BYTES);
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
    const routeName = hsmRouteOf(method, path);
    if (routeName === 'health') {
      if (!limits.health.take(client)) throw new ApiError('RATE_LIMITED');
      // Cached briefly: an unauthenticated route must not keep HSM sessions busy.
      const now = Date.now();
      if (!cachedHealth || now - cachedHealth.atMs > HEALTH_CACHE_MS) {
        cachedHealth = { atMs: now, body: await health(hsm, config) };
      }
      const body: HsmHealthReply = audit.healthy
        ? cachedHealth.body
        : { ...cachedHealth.body, status: 'degraded' };
      return [body.status === 'ok' ? 200 : 503, body];
    }
    const operate = keyOperation.bind(null, req, requestId, client);
    if (routeName === 'generateDataKey') {
      return operate('generate-data-key', async (call, caller, body) => {
        const keyLabel = grantedLabel(call, caller, body);
        const aad = clientAad(call, body);
        const binding = bindingForWrap(policy, caller, keyLabel);
        call.binding = auditBinding(binding);
        const made = await hsm.keys.generateDataKey(keyLabel, boundAad(binding, aad));
        const wrapped = boundWrap(binding, made.wrapped);
        call.wrappedSha256 = auditDigest(wrapped);
        const response: HsmReply<'generateDataKey'> = {
          keyLabel,
          plaintext: made.plaintext.toString('base64'),
          wrapped: wrapped.toString('base64'),
        };
        made.plaintext.fill(0);
        return [200, response];
      });
    }
    if (routeName === 'encryptDataKey') {
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
          const response: HsmReply<'encryptDataKey'> = {
            keyLabel,
            wrapped: wrapped.toString('base64'),
          };
          return [200, response];
        } finally {
          plaintext.fill(0);
        }
      });
    }
    if (routeName === 'decryptDataKey') {
      return operate('decrypt', async (call, caller, body) => {
        const keyLabel = grantedLabel(call, caller, body);
        const wrapped = base64(body, 'wrapped', 1024);
        call.wrappedSha256 = auditDigest(wrapped);
        const aad = clientAad(call, body);
        call.binding = describeWrap(wrapped);
        const plan = planUnwrap(policy, caller, keyLabel, wrapped, aad);
        call.binding = auditBinding(plan.binding);
        const plaintext = await hsm.keys.decryptDataKey(keyLabel, plan.sealed, plan.hsmAad);
        const response: HsmReply<'decryptDataKey'> = {
          keyLabel,
          plaintext: plaintext.toString('base64'),
        };
        plaintext.fill(0);
        return [200, response];
      });
    }
    if (routeName === 'listKeys') {
      return operate('list-keys', async (_call, caller) => {
        const labels = await hsm.keys.listLabels();
        const allowed = labels.filter((keyLabel) => policy.mayUse(caller, keyLabel));
        const response: HsmReply<'listKeys'> = {
          keys: allowed.map((keyLabel) => ({ label: keyLabel })),
        };
        return [200, response];
      });
    }
    if (routeName === 'createKey') {
      return operate('create-key', async (call, caller, body) => {
        const keyLabel = label(body, 'label');
        call.label = keyLabel;
        if (!policy.isAdmin(caller)) throw new ApiError('NOT_ADMIN');
        await hsm.keys.createKey(keyLabel);
        const response: HsmReply<'createKey'> = { label: keyLabel };
        return [201, response];
      });
    }
    // Anything else is unauthenticated traffic: it costs its address's bucket.
    if (!limits.anonymous.take(client)) throw new ApiError('RATE_LIMITED');
    throw isHsmPath(path)
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
        // A refusal before the body was read (no token, rate limited) leaves it unread: the
        // connection is not reused (a keep-alive client's next request would queue behind the
        // unread bytes), and what the client still sends is read and discarded. A body refused
        // for its size keeps the connection, as said above, so the client reads the 413.
        if (apiError.code !== 'BODY_TOO_LARGE' && !req.readableEnded) {
          res.setHeader('connection', 'close');
          req.resume();
        }
        const refusal: HsmErrorReply = { error: apiError.code, message: apiError.message };
        if (!res.headersSent) send(res, apiError.status, refusal);
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
