/**
 * One HSM proxy for the benchmark (bench/proxy.ts starts two): `hsm` wraps with SoftHSM2 through
 * PKCS#11; `node` is the same server with the HSM call replaced by node:crypto AES-256-GCM.
 * Prints "READY <port>" when it listens.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { openAuditLog } from '../server/hsm-proxy/src/audit';
import { cognitoAuthenticator } from '../server/hsm-proxy/src/auth';
import { parseTrustedProxies } from '../server/hsm-proxy/src/client-address';
import type { ProxyConfig } from '../server/hsm-proxy/src/config';
import { Hsm } from '../server/hsm-proxy/src/hsm';
import type { HsmKeyInfo, KeyService } from '../server/hsm-proxy/src/keys';
import { HsmError } from '../server/hsm-proxy/src/pkcs11';
import { createPolicy } from '../server/hsm-proxy/src/policy';
import { createProxyServer } from '../server/hsm-proxy/src/server';

/** The same operations in process memory: the baseline the HSM is compared with. */
class NodeCryptoKeys implements KeyService {
  readonly #keys = new Map<string, Buffer>();
  constructor(label: string) {
    this.#keys.set(label, randomBytes(32));
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
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.#key(label),
        wrapped.subarray(0, 12),
      ).setAAD(aad);
      decipher.setAuthTag(wrapped.subarray(44));
      return Promise.resolve(
        Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]),
      );
    } catch (cause) {
      return Promise.reject(new HsmError('HSM_UNWRAP_FAILED', 'does not open', { cause }));
    }
  }
  listLabels() {
    return Promise.resolve([...this.#keys.keys()]);
  }
  describeKey(label: string): Promise<HsmKeyInfo | undefined> {
    return Promise.resolve(
      this.#keys.has(label)
        ? {
            label,
            bits: 256,
            extractable: false,
            sensitive: true,
            canEncrypt: true,
            canDecrypt: true,
          }
        : undefined,
    );
  }
  createKey(label: string) {
    this.#keys.set(label, randomBytes(32));
    return Promise.resolve();
  }
}

const [mode, label = 'bench-key'] = process.argv.slice(2);
const env = process.env;
const hsm =
  mode === 'hsm'
    ? await Hsm.open(
        {
          libraryPath: env.BENCH_LIBRARY ?? '',
          tokenLabel: env.BENCH_TOKEN ?? '',
          pin: env.BENCH_PIN ?? '',
        },
        Number(env.BENCH_SESSIONS ?? 8),
      )
    : { tokenLabel: 'node:crypto', keys: new NodeCryptoKeys(label) };
const config: ProxyConfig = {
  host: '127.0.0.1',
  port: 0,
  hsm: { libraryPath: '', pin: '' },
  sessions: 8,
  defaultKeyLabel: label,
  allowedOrigins: [],
  auth: { userPoolId: 'us-east-1_bench', clientId: 'bench', maxTokenAgeSeconds: 3600 },
  policy: { groups: { bench: ['*'] } },
  auditLogPath: env.BENCH_AUDIT_LOG ?? '/dev/null',
  maxBodyBytes: 96 * 1024,
  ratePerSecond: 1_000_000,
  rateBurst: 1_000_000,
  trustedProxies: parseTrustedProxies(''),
};
const server = createProxyServer({
  hsm,
  auth: cognitoAuthenticator({
    ...config.auth,
    jwks: JSON.parse(readFileSync(env.BENCH_JWKS_FILE ?? '', 'utf8')) as Jwks,
  }),
  policy: createPolicy(config.policy),
  audit: await openAuditLog(config.auditLogPath),
  config,
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`READY ${typeof address === 'object' && address ? address.port : 0}`);
});
process.once('SIGTERM', () => {
  server.close(
    () => void (hsm instanceof Hsm ? hsm.close() : Promise.resolve()).then(() => process.exit(0)),
  );
  server.closeAllConnections();
});
