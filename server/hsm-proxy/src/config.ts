/**
 * The HSM proxy's settings, from its environment (see ../README.md for the full list).
 * The PIN is read here and kept out of logs.
 */
import { readFileSync } from 'node:fs';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { AuthConfig } from './auth';
import { parseTrustedProxies, type TrustedProxies } from './client-address';
import type { HsmOptions } from './pkcs11';
import { parsePolicy, type PolicyDocument } from './policy';

export interface ProxyConfig {
  host: string;
  port: number;
  hsm: HsmOptions;
  sessions: number;
  /** The key label the health check looks for (the default wrapping key). */
  defaultKeyLabel: string;
  /** Origins allowed to call the proxy from a browser (CORS): the app's own origins. */
  allowedOrigins: string[];
  auth: AuthConfig;
  policy: PolicyDocument;
  auditLogPath: string;
  /** TLS certificate and key (PEM); required unless the proxy listens on loopback only. */
  tls?: { cert: Buffer; key: Buffer };
  maxBodyBytes: number;
  ratePerSecond: number;
  rateBurst: number;
  /** Peers whose X-Forwarded-For is believed (load balancers); none by default. */
  trustedProxies: TrustedProxies;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set (see server/hsm-proxy/README.md)`);
  return value;
}

function int(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = env[name] === undefined ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Reads and checks the settings.
 * @throws Error naming the variable that is missing or malformed.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const host = env.VEIL_HSM_HOST ?? '127.0.0.1';
  const ivSource = env.VEIL_HSM_IV_SOURCE ?? 'caller';
  if (ivSource !== 'caller' && ivSource !== 'hsm')
    throw new Error('VEIL_HSM_IV_SOURCE must be "caller" or "hsm"');
  const tlsCert = env.VEIL_HSM_TLS_CERT;
  const tlsKey = env.VEIL_HSM_TLS_KEY;
  if (Boolean(tlsCert) !== Boolean(tlsKey))
    throw new Error('set both VEIL_HSM_TLS_CERT and VEIL_HSM_TLS_KEY');
  if (!tlsCert && !isLoopback(host)) {
    throw new Error(
      `the proxy serves data keys: it listens on ${host} only with TLS (VEIL_HSM_TLS_CERT, VEIL_HSM_TLS_KEY)`,
    );
  }
  const jwksFile = env.VEIL_HSM_JWKS_FILE;
  return {
    host,
    port: int(env, 'VEIL_HSM_PORT', 8787, 0, 65535),
    hsm: {
      libraryPath: required(env, 'VEIL_HSM_LIBRARY'),
      ...(env.VEIL_HSM_TOKEN_LABEL ? { tokenLabel: env.VEIL_HSM_TOKEN_LABEL } : {}),
      pin: required(env, 'VEIL_HSM_PIN'),
      ivSource,
    },
    sessions: int(env, 'VEIL_HSM_SESSIONS', 8, 1, 256),
    defaultKeyLabel: required(env, 'VEIL_HSM_KEY_LABEL'),
    allowedOrigins: (env.VEIL_HSM_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    auth: {
      userPoolId: required(env, 'VEIL_HSM_USER_POOL_ID'),
      clientId: required(env, 'VEIL_HSM_CLIENT_ID'),
      ...(jwksFile ? { jwks: JSON.parse(readFileSync(jwksFile, 'utf8')) as Jwks } : {}),
      maxTokenAgeSeconds: int(env, 'VEIL_HSM_TOKEN_MAX_AGE_SECONDS', 3600, 60, 86_400),
    },
    policy: parsePolicy(JSON.parse(readFileSync(required(env, 'VEIL_HSM_POLICY_FILE'), 'utf8'))),
    auditLogPath: required(env, 'VEIL_HSM_AUDIT_LOG'),
    ...(tlsCert && tlsKey
      ? { tls: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } }
      : {}),
    maxBodyBytes: int(env, 'VEIL_HSM_MAX_BODY_BYTES', 96 * 1024, 1024, 1024 * 1024),
    ratePerSecond: int(env, 'VEIL_HSM_RATE_PER_SECOND', 200, 1, 1_000_000),
    rateBurst: int(env, 'VEIL_HSM_RATE_BURST', 400, 1, 1_000_000),
    trustedProxies: parseTrustedProxies(env.VEIL_HSM_TRUSTED_PROXIES ?? ''),
  };
}
