/**
 * The proxy's real HTTP server in process, with honest stand-ins for what it talks to: AES-256-GCM
 * from node:crypto in place of the HSM (the same wrap layout and AAD rules), a token table in
 * place of Cognito, and a real audit log file. For the rules the server itself enforces; the
 * SoftHSM2 and moto path is covered by tests/integration/hsm-proxy*.test.ts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditLog, type AuditLog } from '../../../server/hsm-proxy/src/audit';
import { AuthError, type Authenticator, type Identity } from '../../../server/hsm-proxy/src/auth';
import { parseTrustedProxies } from '../../../server/hsm-proxy/src/client-address';
import type { ProxyConfig } from '../../../server/hsm-proxy/src/config';
import type { HsmKeyInfo, KeyService } from '../../../server/hsm-proxy/src/keys';
import { HsmError } from '../../../server/hsm-proxy/src/pkcs11';
import { createPolicy, type PolicyDocument } from '../../../server/hsm-proxy/src/policy';
import { createProxyServer } from '../../../server/hsm-proxy/src/server';

/** AES-256-GCM keys by label in memory: `iv (12) || ciphertext (32) || tag (16)` like the HSM. */
export class MemoryKeys implements KeyService {
  readonly #keys = new Map<string, Buffer>();
  constructor(labels: readonly string[]) {
    for (const label of labels) this.#keys.set(label, randomBytes(32));
  }
  #key(label: string): Buffer {
    const key = this.#keys.get(label);
    if (!key) throw new HsmError('HSM_KEY_NOT_FOUND', `no key labelled "${label}"`);
    return key;
  }
  encryptDataKey(label: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key(label), iv).setAAD(aad);
    return Promise.resolve(
      Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
    );
  }
  async generateDataKey(label: string, aad: Buffer) {
    const plaintext = randomBytes(32);
    return { plaintext, wrapped: await this.encryptDataKey(label, plaintext, aad) };
  }
  decryptDataKey(label: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key(label), wrapped.subarray(0, 12));
      decipher.setAAD(aad).setAuthTag(wrapped.subarray(44));
      return Promise.resolve(
        Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]),
      );
    } catch (cause) {
      return Promise.reject(new HsmError('HSM_UNWRAP_FAILED', 'does not open', { cause }));
    }
  }
  listLabels() {
    return Promise.resolve([...this.#keys.keys()].sort());
  }
  describeKey(label: string): Promise<HsmKeyInfo | undefined> {
    const info = { bits: 256, extractable: false, sensitive: true, canEncrypt: true };
    return Promise.resolve(
      this.#keys.has(label) ? { label, ...info, canDecrypt: true } : undefined,
    );
  }
  createKey(label: string) {
    this.#keys.set(label, randomBytes(32));
    return Promise.resolve();
  }
}

/** Bearer tokens that are simply a user's name, for the identities given. */
export function tableAuthenticator(identities: Record<string, Identity>): Authenticator {
  return {
    authenticate(authorization) {
      const name = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      const identity = name === undefined ? undefined : identities[name];
      if (!name) return Promise.reject(new AuthError('UNAUTHENTICATED', 'no token'));
      if (!identity) return Promise.reject(new AuthError('TOKEN_INVALID', 'unknown token'));
      return Promise.resolve(identity);
    },
  };
}

export interface FakeProxy {
  url: string;
  keys: MemoryKeys;
  audit: AuditLog;
  auditPath: string;
  post(
    path: string,
    token: string | undefined,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply>;
  get(path: string, token?: string, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** Starts the server on a free loopback port. */
export async function startFakeProxy(options: {
  identities: Record<string, Identity>;
  policy: PolicyDocument;
  labels?: string[];
  auditPath?: string;
  ratePerSecond?: number;
  rateBurst?: number;
  trustedProxies?: string;
}): Promise<FakeProxy> {
  const labels = options.labels ?? ['k'];
  const keys = new MemoryKeys(labels);
  const auditPath =
    options.auditPath ?? join(mkdtempSync(join(tmpdir(), 'veil-proxy-unit-')), 'audit.log');
  const audit = await openAuditLog(auditPath);
  const config: ProxyConfig = {
    host: '127.0.0.1',
    port: 0,
    hsm: { libraryPath: '', pin: '' },
    sessions: 1,
    defaultKeyLabel: labels[0] ?? 'k',
    allowedOrigins: [],
    auth: { userPoolId: 'us-east-1_unit', clientId: 'unit', maxTokenAgeSeconds: 3600 },
    policy: options.policy,
    auditLogPath: auditPath,
    maxBodyBytes: 96 * 1024,
    ratePerSecond: options.ratePerSecond ?? 100_000,
    rateBurst: options.rateBurst ?? 100_000,
    trustedProxies: parseTrustedProxies(options.trustedProxies ?? ''),
  };
  const server = createProxyServer({
    hsm: { tokenLabel: 'memory', keys },
    auth: tableAuthenticator(options.identities),
    policy: createPolicy(options.policy),
    audit,
    config,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (
    method: string,
    path: string,
    token: string | undefined,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  return {
    url,
    keys,
    audit,
    auditPath,
    post: (path, token, body, headers) => call('POST', path, token, body, headers),
    get: (path, token, headers) => call('GET', path, token, undefined, headers),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await audit.close();
    },
  };
}
