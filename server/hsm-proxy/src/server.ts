/**
 * The HSM proxy's HTTP API, version 1 (documented in ../README.md). JSON in and out; every
 * route but the health check needs a verified ID token and, for key use, a label the policy
 * grants. Failures are JSON `{ error, message }` with a stable code and a 4xx/5xx status; no
 * response or log line ever holds key material, AAD or tokens.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { AuthError, type Authenticator, type Identity } from './auth';
import type { AuditLog, AuditOperation } from './audit';
import type { ProxyConfig } from './config';
import type { KeyService } from './keys';
import { ckr, HsmError } from './pkcs11';
import { BodyError, RateLimiter, readJson } from './limits';
import type { Policy } from './policy';

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

/** One key operation as the audit log sees it. */
interface Call {
  identity: Identity | null;
  label: string | null;
}

function who(identity: Identity | null): { sub: string; username: string } | null {
  return identity && { sub: identity.sub, username: identity.username };
}

/** A refusal with a stable code and its HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HSM_STATUS: Record<HsmError['code'], [number, string]> = {
  HSM_KEY_NOT_FOUND: [404, 'KEY_NOT_FOUND'],
  HSM_KEY_EXISTS: [409, 'KEY_EXISTS'],
  HSM_UNWRAP_FAILED: [400, 'UNWRAP_FAILED'],
  HSM_UNAVAILABLE: [503, 'HSM_UNAVAILABLE'],
  HSM_LOGIN: [503, 'HSM_UNAVAILABLE'],
  HSM_LIBRARY: [503, 'HSM_UNAVAILABLE'],
  HSM_TOKEN_NOT_FOUND: [503, 'HSM_UNAVAILABLE'],
  HSM_FAILED: [500, 'HSM_FAILED'],
};

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof AuthError) return new ApiError(401, error.code, error.message);
  if (error instanceof BodyError) {
    return new ApiError(error.code === 'BODY_TOO_LARGE' ? 413 : 400, error.code, error.message);
  }
  if (error instanceof HsmError) {
    const [status, code] = HSM_STATUS[error.code];
    return new ApiError(status, code, error.message);
  }
  if (ckr(error) !== undefined) {
    return new ApiError(
      503,
      'HSM_UNAVAILABLE',
      'the HSM failed to complete the operation: try again',
    );
  }
  return new ApiError(
    500,
    'INTERNAL',
    'the proxy failed; the request id is in the x-request-id header',
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function label(body: Record<string, unknown>, field = 'keyLabel'): string {
  const value = body[field];
  if (typeof value !== 'string' || !LABEL.test(value)) {
    throw new ApiError(
      400,
      'BAD_REQUEST',
      `${field} must be 1 to 64 letters, digits, ".", "_" or "-"`,
    );
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
    throw new ApiError(400, 'BAD_REQUEST', `${field} must be base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > maxBytes)
    throw new ApiError(400, 'BAD_REQUEST', `${field} is limited to ${maxBytes} bytes`);
  return bytes;
}

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

export function createProxyServer(deps: ProxyDeps): HttpServer | HttpsServer {
  const { hsm, auth, policy, audit, config } = deps;
  const limiter = new RateLimiter(config.ratePerSecond, config.rateBurst);
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

  /** Authenticates, rate-limits and audits one key operation. */
  const keyOperation = async (
    req: IncomingMessage,
    requestId: string,
    operation: AuditOperation,
    run: (call: Call, body: Record<string, unknown>) => Promise<[number, unknown]>,
  ): Promise<[number, unknown]> => {
    const call: Call = { identity: null, label: null };
    try {
      if (!audit.healthy) {
        throw new ApiError(
          503,
          'AUDIT_UNAVAILABLE',
          'the audit log cannot be written: key use is suspended',
        );
      }
      call.identity = await auth.authenticate(req.headers.authorization);
      if (!limiter.take(`id:${call.identity.sub}`)) {
        throw new ApiError(429, 'RATE_LIMITED', 'too many requests: slow down and retry');
      }
      const body = req.method === 'POST' ? await readJson(req, config.maxBodyBytes) : {};
      const result = await run(call, body);
      audit.write({
        requestId,
        identity: who(call.identity),
        operation,
        label: call.label,
        result: 'ok',
      });
      return result;
    } catch (error) {
      const result = toApiError(error).code;
      audit.write({
        requestId,
        identity: who(call.identity),
        operation,
        label: call.label,
        result,
      });
      throw error;
    }
  };

  /** Reads the label field, records it for the audit, and checks the policy grants it. */
  const grantedLabel = (call: Call, body: Record<string, unknown>): string => {
    const keyLabel = label(body);
    call.label = keyLabel;
    if (!call.identity || !policy.mayUse(call.identity, keyLabel)) {
      throw new ApiError(403, 'FORBIDDEN_LABEL', `you may not use the key "${keyLabel}"`);
    }
    return keyLabel;
  };

  const route = async (req: IncomingMessage, requestId: string): Promise<[number, unknown]> => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const method = req.method ?? 'GET';
    if (!limiter.take(`ip:${req.socket.remoteAddress ?? ''}`)) {
      throw new ApiError(429, 'RATE_LIMITED', 'too many requests: slow down and retry');
    }
    if (path === '/v1/health' && method === 'GET') {
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
    if (path === '/v1/data-keys' && method === 'POST') {
      return keyOperation(req, requestId, 'generate-data-key', async (call, body) => {
        const keyLabel = grantedLabel(call, body);
        const aad = base64(body, 'aad', MAX_AAD_BYTES);
        const { plaintext, wrapped } = await hsm.keys.generateDataKey(keyLabel, aad);
        const response = {
          keyLabel,
          plaintext: plaintext.toString('base64'),
          wrapped: wrapped.toString('base64'),
        };
        plaintext.fill(0);
        return [200, response];
      });
    }
    if (path === '/v1/data-keys/encrypt' && method === 'POST') {
      return keyOperation(req, requestId, 'encrypt', async (call, body) => {
        const keyLabel = grantedLabel(call, body);
        const plaintext = base64(body, 'plaintext', 64);
        const aad = base64(body, 'aad', MAX_AAD_BYTES);
        try {
          if (plaintext.length !== 32)
            throw new ApiError(400, 'BAD_REQUEST', 'plaintext must be a 32-byte data key');
          const wrapped = await hsm.keys.encryptDataKey(keyLabel, plaintext, aad);
          return [200, { keyLabel, wrapped: wrapped.toString('base64') }];
        } finally {
          plaintext.fill(0);
        }
      });
    }
    if (path === '/v1/data-keys/decrypt' && method === 'POST') {
      return keyOperation(req, requestId, 'decrypt', async (call, body) => {
        const keyLabel = grantedLabel(call, body);
        const wrapped = base64(body, 'wrapped', 1024);
        const aad = base64(body, 'aad', MAX_AAD_BYTES);
        const plaintext = await hsm.keys.decryptDataKey(keyLabel, wrapped, aad);
        const response = { keyLabel, plaintext: plaintext.toString('base64') };
        plaintext.fill(0);
        return [200, response];
      });
    }
    if (path === '/v1/keys' && method === 'GET') {
      return keyOperation(req, requestId, 'list-keys', async (call) => {
        const identity = call.identity;
        const labels = await hsm.keys.listLabels();
        const allowed = labels.filter((keyLabel) => identity && policy.mayUse(identity, keyLabel));
        return [200, { keys: allowed.map((keyLabel) => ({ label: keyLabel })) }];
      });
    }
    if (path === '/v1/keys' && method === 'POST') {
      return keyOperation(req, requestId, 'create-key', async (call, body) => {
        const keyLabel = label(body, 'label');
        call.label = keyLabel;
        if (!call.identity || !policy.isAdmin(call.identity)) {
          throw new ApiError(403, 'NOT_ADMIN', 'only administrators may create keys');
        }
        await hsm.keys.createKey(keyLabel);
        return [201, { label: keyLabel }];
      });
    }
    const known = [
      '/v1/health',
      '/v1/data-keys',
      '/v1/data-keys/encrypt',
      '/v1/data-keys/decrypt',
      '/v1/keys',
    ].includes(path);
    throw known
      ? new ApiError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`)
      : new ApiError(404, 'NOT_FOUND', `no route ${path}`);
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
    route(req, requestId).then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        const apiError = toApiError(error);
        if (apiError.status >= 500)
          console.error(
            `${requestId} ${apiError.code}: ${error instanceof Error ? error.name : 'error'}`,
          );
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
