/**
 * Issue 23: the HSM proxy as an AWS KMS external key store proxy, against SoftHSM2. One proxy
 * (main.ts, as deployed) serves Model B on loopback HTTP and the XKS API over TLS; requests are
 * signed as KMS signs them, with the AWS SDK's @smithy/signature-v4 (and once with curl's own
 * SigV4), and each operation and each refusal of the spec is checked, with its audit line.
 * Model B's ID tokens are signed by a key made for this file, whose JWKS the proxy trusts.
 */
import { spawnSync } from 'node:child_process';
import {
  createHash,
  createHmac,
  generateKeyPairSync,
  type Hash,
  type Hmac,
  randomBytes,
  sign as rsaSign,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openAuditLog } from '../../server/hsm-proxy/src/audit';
import { Hsm } from '../../server/hsm-proxy/src/hsm';
import { verifyAuditLog } from '../../server/hsm-proxy/src/audit-chain';
import { createPolicy } from '../../server/hsm-proxy/src/policy';
import { parseXksSettings } from '../../server/hsm-proxy/src/xks/config';
import { integrityValue } from '../../server/hsm-proxy/src/xks/format';
import { createXksServer } from '../../server/hsm-proxy/src/xks/server';
import { startXks } from '../../server/hsm-proxy/src/xks/start';
import { decryptBytes, encryptBytes } from '../../src/core';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { freePort, startProcess, waitUntil, type Managed } from '../../scripts/stack/process';
import { ensureSoftHsmToken, type SoftHsmToken } from '../../scripts/stack/softhsm';

const MAIN = fileURLToPath(new URL('../../server/hsm-proxy/src/main.ts', import.meta.url));
const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const LABEL = 'veil-wrap-1';
/** A test key for the deep health check, used by no external key. */
const HEALTH_LABEL = 'xks-health';
const REGION = 'eu-central-1';
const PREFIX = '/veil-test/kms/xks/v1';
const KMS_KEY_ARN =
  'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ARN =
  'arn:aws:kms:eu-central-1:444455556666:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab';
const FIRST = { accessKeyId: 'AKIAXKSFIRST2345ABCDEF', secretAccessKey: b64(randomBytes(32)) };
const SECOND = { accessKeyId: 'AKIAXKSSECOND234567ABC', secretAccessKey: b64(randomBytes(32)) };

function b64(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64');
}

const KEYS = {
  'xks-both': { label: LABEL, operations: ['ENCRYPT', 'DECRYPT'] },
  'xks-encrypt-only': { label: LABEL, operations: ['ENCRYPT'] },
  'xks-decrypt-only': { label: LABEL, operations: ['DECRYPT'] },
  'xks-disabled': { label: LABEL, operations: ['ENCRYPT', 'DECRYPT'], enabled: false },
  'xks-pinned': { label: LABEL, operations: ['ENCRYPT', 'DECRYPT'], kmsKeyArns: [KMS_KEY_ARN] },
  'xks-not-on-hsm': { label: 'absent-label', operations: ['ENCRYPT', 'DECRYPT'] },
};

let dir: string;
let token: SoftHsmToken;
let proxy: Managed;
let xksPort: number;
let modelBUrl: string;
let ca: Buffer;
let settingsFile: string;
let auditLog: string;
let idToken: string;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function writeSettings(extra: Record<string, unknown> = {}): void {
  const settings = {
    pathPrefix: '/veil-test',
    region: REGION,
    credentials: [FIRST],
    keys: KEYS,
    healthKeyLabel: HEALTH_LABEL,
    ...extra,
  };
  writeFileSync(settingsFile, JSON.stringify(settings), { mode: 0o600 });
}

function makeIdToken(privateKey: KeyObject): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${part({ alg: 'RS256', kid: 'xks-test' })}.${part({
    iss: 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_xkstest',
    sub: 'xks-test-user',
    aud: 'xks-test-client',
    token_use: 'id',
    iat: now,
    exp: now + 3600,
    'cognito:username': 'xks-tester',
    'cognito:groups': ['testers'],
  })}`;
  return `${input}.${rsaSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

interface SignOptions {
  credential?: { accessKeyId: string; secretAccessKey: string };
  date?: Date;
  region?: string;
  service?: string;
}

/** Headers for `body` at `path` as KMS signs them: host and x-amz-date only. */
async function signedHeaders(
  path: string,
  body: string,
  options: SignOptions = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: options.service ?? 'kms-xks-proxy',
    region: options.region ?? REGION,
    credentials: options.credential ?? FIRST,
    sha256: TestSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: xksPort,
      path,
      query: {},
      headers: { host: `127.0.0.1:${xksPort}` },
      body,
    },
    { signingDate: options.date ?? new Date() },
  );
  return signed.headers;
}

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto. */
class TestSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) this.#hash = createHash('sha256');
    else if (typeof secret === 'string') this.#hash = createHmac('sha256', secret);
    else if (ArrayBuffer.isView(secret))
      this.#hash = createHmac(
        'sha256',
        new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength),
      );
    else this.#hash = createHmac('sha256', new Uint8Array(secret));
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }
  reset(): void {
    throw new Error('not used by the signer');
  }
}

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: xksPort, method, path, headers, ca, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs `body` signed as KMS would sign it. */
async function xks(path: string, body: unknown, options: SignOptions = {}): Promise<Reply> {
  const text = JSON.stringify(body);
  const headers = await signedHeaders(`${PREFIX}${path}`, text, options);
  return send('POST', `${PREFIX}${path}`, { ...headers, 'content-type': 'application/json' }, text);
}

let requestCount = 0;
function metadata(kmsOperation: string, kmsKeyArn: string | undefined = KMS_KEY_ARN) {
  requestCount += 1;
  return {
    awsPrincipalArn: 'arn:aws:iam::111122223333:user/Alice',
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    kmsOperation,
    kmsRequestId: `req-${requestCount}-${randomBytes(4).toString('hex')}`,
    kmsViaService: 's3',
  };
}

function encryptBody(plaintext: Buffer, aad?: Buffer, extra: Record<string, unknown> = {}) {
  return {
    requestMetadata: metadata('GenerateDataKey'),
    plaintext: b64(plaintext),
    ...(aad ? { additionalAuthenticatedData: b64(aad) } : {}),
    encryptionAlgorithm: 'AES_GCM',
    ciphertextDataIntegrityValueAlgorithm: 'SHA_256',
    ...extra,
  };
}

function decryptBody(
  sealed: Record<string, unknown>,
  aad?: Buffer,
  extra: Record<string, unknown> = {},
) {
  return {
    requestMetadata: metadata('Decrypt'),
    ciphertext: sealed.ciphertext,
    ciphertextMetadata: sealed.ciphertextMetadata,
    initializationVector: sealed.initializationVector,
    authenticationTag: sealed.authenticationTag,
    ...(aad ? { additionalAuthenticatedData: b64(aad) } : {}),
    encryptionAlgorithm: 'AES_GCM',
    ...extra,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veil-xks-'));
  token = await ensureSoftHsmToken({
    dir: join(dir, 'softhsm'),
    tokenLabel: 'xks-test',
    pin: '1234-xks',
    soPin: '5678-xks',
    keyLabel: LABEL,
  });
  const admin = await Hsm.open(
    { libraryPath: token.libraryPath, tokenLabel: token.tokenLabel, pin: token.pin },
    1,
  );
  await admin.keys.createKey(HEALTH_LABEL).finally(() => admin.close());
  const certFile = join(dir, 'xks-cert.pem');
  const keyFile = join(dir, 'xks-key.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']
      .concat(['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
      .concat(['-keyout', keyFile, '-out', certFile]),
    { encoding: 'utf8' },
  );
  expect(made.status, made.stderr).toBe(0);
  ca = readFileSync(certFile);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(
    jwksFile,
    JSON.stringify({
      keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'xks-test', alg: 'RS256', use: 'sig' }],
    }),
  );
  idToken = makeIdToken(privateKey);
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ groups: { testers: [LABEL] }, labels: {} }));
  settingsFile = join(dir, 'xks-settings.json');
  writeSettings();
  auditLog = join(dir, 'audit.log');
  const modelBPort = await freePort();
  xksPort = await freePort();
  modelBUrl = `http://127.0.0.1:${modelBPort}`;
  proxy = startProcess('hsm-proxy', process.execPath, ['--import', TSX_LOADER, MAIN], {
    ...process.env,
    SOFTHSM2_CONF: token.conf,
    VEIL_HSM_HOST: '127.0.0.1',
    VEIL_HSM_PORT: String(modelBPort),
    VEIL_HSM_LIBRARY: token.libraryPath,
    VEIL_HSM_TOKEN_LABEL: token.tokenLabel,
    VEIL_HSM_PIN: token.pin,
    VEIL_HSM_KEY_LABEL: LABEL,
    VEIL_HSM_USER_POOL_ID: 'eu-central-1_xkstest',
    VEIL_HSM_CLIENT_ID: 'xks-test-client',
    VEIL_HSM_JWKS_FILE: jwksFile,
    VEIL_HSM_POLICY_FILE: policyFile,
    VEIL_HSM_AUDIT_LOG: auditLog,
    VEIL_XKS_PORT: String(xksPort),
    VEIL_XKS_SETTINGS_FILE: settingsFile,
    VEIL_XKS_TLS_CERT: certFile,
    VEIL_XKS_TLS_KEY: keyFile,
  });
  await waitUntil(proxy, 'the HSM proxy with XKS', async () => {
    const reply = await xks('/health', { requestMetadata: metadata('KmsHealthCheck') });
    return reply.status === 200;
  });
});

afterAll(async () => {
  agent.destroy();
  await proxy?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the four operations', () => {
  test('GetHealthStatus asks the HSM and describes the proxy and the token', async () => {
    const reply = await xks('/health', { requestMetadata: metadata('KmsHealthCheck', undefined) });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      xksProxyFleetSize: 1,
      xksProxyVendor: 'Veil',
      ekmVendor: 'SoftHSM project',
      ekmFleetDetails: [{ healthStatus: 'ACTIVE' }],
    });
    expect(reply.body.ekmFleetDetails).toHaveLength(1);
    // The deep check went through the HSM with the test key: its audit line names it.
    const lines = readFileSync(auditLog, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      operation: 'xks-get-health-status',
      label: HEALTH_LABEL,
      result: 'ok',
    });
  });

  test('GetKeyMetadata: AES_256, the usage the allow-list and the key allow, and the status', async () => {
    const describe = async (keyId: string, arn: string | undefined = KMS_KEY_ARN) =>
      (await xks(`/keys/${keyId}/metadata`, { requestMetadata: metadata('DescribeKey', arn) }))
        .body;
    expect(await describe('xks-both')).toEqual({
      keySpec: 'AES_256',
      keyUsage: ['ENCRYPT', 'DECRYPT'],
      keyStatus: 'ENABLED',
    });
    // As during KMS CreateKey: no kmsKeyArn yet, also for a key pinned to one KMS key.
    expect(await describe('xks-pinned', undefined)).toMatchObject({ keyStatus: 'ENABLED' });
    expect(await describe('xks-encrypt-only')).toMatchObject({ keyUsage: ['ENCRYPT'] });
    expect(await describe('xks-decrypt-only')).toMatchObject({ keyUsage: ['DECRYPT'] });
    expect(await describe('xks-disabled')).toMatchObject({ keyStatus: 'DISABLED' });
  });

  test('Encrypt then Decrypt: a round trip with AAD, the ciphertext metadata and the CDIV', async () => {
    const plaintext = randomBytes(32);
    const aad = Buffer.from('project=nile,department=marketing');
    const sealed = await xks('/keys/xks-both/encrypt', encryptBody(plaintext, aad));
    expect(sealed.status).toBe(200);
    const field = (name: string) => Buffer.from(String(sealed.body[name]), 'base64');
    expect(field('ciphertext')).toHaveLength(32);
    expect(field('initializationVector')).toHaveLength(12);
    expect(field('authenticationTag')).toHaveLength(16);
    expect(field('ciphertextMetadata').length).toBeLessThanOrEqual(20);
    const cdiv = createHash('sha256')
      .update(Buffer.concat([aad, field('ciphertextMetadata'), field('initializationVector')]))
      .update(Buffer.concat([field('ciphertext'), field('authenticationTag')]))
      .digest('base64');
    expect(sealed.body.ciphertextDataIntegrityValue).toBe(cdiv);
    const opened = await xks('/keys/xks-both/decrypt', decryptBody(sealed.body, aad));
    expect(opened).toMatchObject({ status: 200, body: { plaintext: b64(plaintext) } });
  });

  test('without AAD or CDIV, and at the spec sizes: 4,300 bytes of plaintext, 8,192 of AAD', async () => {
    const small = randomBytes(12);
    const bare = await xks(
      '/keys/xks-both/encrypt',
      encryptBody(small, undefined, { ciphertextDataIntegrityValueAlgorithm: undefined }),
    );
    expect(bare.status).toBe(200);
    expect(bare.body).not.toHaveProperty('ciphertextDataIntegrityValue');
    expect((await xks('/keys/xks-both/decrypt', decryptBody(bare.body))).body).toEqual({
      plaintext: b64(small),
    });
    const large = randomBytes(4300);
    const aad = randomBytes(8192);
    const sealed = await xks('/keys/xks-encrypt-only/encrypt', encryptBody(large, aad));
    expect(sealed.status).toBe(200);
    expect(
      (await xks('/keys/xks-decrypt-only/decrypt', decryptBody(sealed.body, aad))).body,
    ).toEqual({ plaintext: b64(large) });
  });

  test('the CDIV of the spec’s Appendix C example', () => {
    const from = (value: string) => Buffer.from(value, 'base64');
    expect(
      integrityValue(
        Buffer.from('project=nile,department=marketing'),
        Buffer.from('key_version=1'),
        from('HMrlRw85cAJUd5Ax'),
        from('ghxkK1txeDNn3q8Y'),
        from('vBxN2ncH1oEkR8WVXpmyYQ=='),
      ),
    ).toBe('qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=');
  });
});

describe('refusals, each with the spec’s error', () => {
  const refusal = (status: number, errorName: string) => ({ status, body: { errorName } });

  test('a changed ciphertext, tag, AAD or ciphertext metadata, or a wrong IV length: InvalidCiphertextException', async () => {
    const aad = Buffer.from('context');
    const sealed = (await xks('/keys/xks-both/encrypt', encryptBody(randomBytes(32), aad))).body;
    const flip = (field: string) => {
      const bytes = Buffer.from(String(sealed[field]), 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return b64(bytes);
    };
    const cases: Record<string, unknown>[] = [
      { ciphertext: flip('ciphertext') },
      { authenticationTag: flip('authenticationTag') },
      { additionalAuthenticatedData: b64('other context') },
      { ciphertextMetadata: b64('veil-xks-2') },
      { ciphertextMetadata: undefined },
      { initializationVector: b64(randomBytes(13)) },
      { initializationVector: b64(randomBytes(11)) },
      { initializationVector: undefined },
      { authenticationTag: b64(randomBytes(15)) },
      { ciphertext: 'not base64!' },
    ];
    for (const change of cases) {
      const reply = await xks('/keys/xks-both/decrypt', decryptBody(sealed, aad, change));
      expect(reply, JSON.stringify(Object.keys(change))).toMatchObject(
        refusal(400, 'InvalidCiphertextException'),
      );
      expect(reply.body).not.toHaveProperty('plaintext');
    }
    // A 16-byte IV is allowed by the spec; this one just does not open the ciphertext.
    expect(
      await xks(
        '/keys/xks-both/decrypt',
        decryptBody(sealed, aad, { initializationVector: b64(randomBytes(16)) }),
      ),
    ).toMatchObject(refusal(400, 'InvalidCiphertextException'));
  });

  test('plaintext, AAD or ciphertext over the spec sizes: UnsupportedOperationException (501)', async () => {
    expect(await xks('/keys/xks-both/encrypt', encryptBody(randomBytes(4301)))).toMatchObject(
      refusal(501, 'UnsupportedOperationException'),
    );
    expect(
      await xks('/keys/xks-both/encrypt', encryptBody(randomBytes(32), randomBytes(8193))),
    ).toMatchObject(refusal(501, 'UnsupportedOperationException'));
    const sealed = (await xks('/keys/xks-both/encrypt', encryptBody(randomBytes(32)))).body;
    expect(
      await xks(
        '/keys/xks-both/decrypt',
        decryptBody(sealed, undefined, { ciphertext: b64(randomBytes(4301)) }),
      ),
    ).toMatchObject(refusal(501, 'UnsupportedOperationException'));
    expect(
      await xks(
        '/keys/xks-both/encrypt',
        encryptBody(randomBytes(32), undefined, { pad: 'x'.repeat(70_000) }),
      ),
    ).toMatchObject(refusal(501, 'UnsupportedOperationException'));
  });

  test('malformed input: ValidationException', async () => {
    const plaintext = randomBytes(32);
    const cases: Record<string, unknown>[] = [
      { requestMetadata: undefined },
      { requestMetadata: { kmsOperation: 'Encrypt' } },
      { requestMetadata: { ...metadata('Encrypt'), awsPrincipalArn: undefined } },
      { requestMetadata: { ...metadata('Encrypt'), kmsKeyArn: 'a'.repeat(2049) } },
      { encryptionAlgorithm: 'AES_CBC' },
      { ciphertextDataIntegrityValueAlgorithm: 'MD5' },
      { plaintext: '' },
      { plaintext: 'a-b_' },
    ];
    for (const change of cases) {
      expect(
        await xks('/keys/xks-both/encrypt', encryptBody(plaintext, undefined, change)),
        JSON.stringify(change).slice(0, 100),
      ).toMatchObject(refusal(400, 'ValidationException'));
    }
    const headers = await signedHeaders(`${PREFIX}/keys/xks-both/encrypt`, '{not json');
    expect(
      await send('POST', `${PREFIX}/keys/xks-both/encrypt`, headers, '{not json'),
    ).toMatchObject(refusal(400, 'ValidationException'));
    // An unknown kmsOperation is not a reason to refuse (the spec).
    const future = encryptBody(plaintext, undefined, {
      requestMetadata: { ...metadata('BulkEncrypt'), futureField: 'x' },
    });
    expect((await xks('/keys/xks-both/encrypt', future)).status).toBe(200);
  });

  test('keys: unknown, not on the HSM, disabled, not for this operation, not for this KMS key', async () => {
    const body = encryptBody(randomBytes(32));
    expect(await xks('/keys/no-such-key/encrypt', body)).toMatchObject(
      refusal(404, 'KeyNotFoundException'),
    );
    expect(
      await xks('/keys/no-such-key/metadata', { requestMetadata: metadata('DescribeKey') }),
    ).toMatchObject(refusal(404, 'KeyNotFoundException'));
    expect(await xks('/keys/xks-not-on-hsm/encrypt', body)).toMatchObject(
      refusal(404, 'KeyNotFoundException'),
    );
    expect(await xks('/keys/xks-disabled/encrypt', body)).toMatchObject(
      refusal(400, 'InvalidStateException'),
    );
    expect(await xks('/keys/xks-decrypt-only/encrypt', body)).toMatchObject(
      refusal(400, 'InvalidKeyUsageException'),
    );
    const sealed = (await xks('/keys/xks-both/encrypt', body)).body;
    expect(await xks('/keys/xks-encrypt-only/decrypt', decryptBody(sealed))).toMatchObject(
      refusal(400, 'InvalidKeyUsageException'),
    );
    expect(
      await xks('/keys/xks-pinned/encrypt', {
        ...body,
        requestMetadata: metadata('Encrypt', OTHER_KEY_ARN),
      }),
    ).toMatchObject(refusal(403, 'AccessDeniedException'));
    expect((await xks('/keys/xks-pinned/encrypt', body)).status).toBe(200);
  });

  test('routes: GET on each POST route is 405, an unknown path InvalidUriPathException', async () => {
    for (const path of [
      '/health',
      '/keys/xks-both/metadata',
      '/keys/xks-both/encrypt',
      '/keys/xks-both/decrypt',
    ]) {
      const reply = await send('GET', `${PREFIX}${path}`, {}, undefined);
      expect(reply.status, path).toBe(405);
      expect(reply.headers.allow).toBe('POST');
    }
    for (const path of [
      `${PREFIX}/keys/xks-both/sign`,
      '/kms/xks/v1/health',
      `${PREFIX}/keys/a b/encrypt`,
    ]) {
      expect(await send('POST', path.replace(' ', '%20'), {}, '{}'), path).toMatchObject(
        refusal(404, 'InvalidUriPathException'),
      );
    }
  });
});

describe('SigV4', () => {
  const refused = { status: 401, body: { errorName: 'AuthenticationFailedException' } };
  const path = `${PREFIX}/health`;
  const health = () => JSON.stringify({ requestMetadata: metadata('KmsHealthCheck') });

  test('unsigned, wrongly signed, altered, or for another scope: AuthenticationFailedException', async () => {
    expect(await send('POST', path, {}, health())).toMatchObject(refused);
    const wrongSecret = { ...FIRST, secretAccessKey: b64(randomBytes(32)) };
    expect(await xks('/health', JSON.parse(health()), { credential: wrongSecret })).toMatchObject(
      refused,
    );
    expect(await xks('/health', JSON.parse(health()), { credential: SECOND })).toMatchObject(
      refused,
    );
    expect(await xks('/health', JSON.parse(health()), { service: 'kms' })).toMatchObject(refused);
    expect(await xks('/health', JSON.parse(health()), { region: 'us-east-1' })).toMatchObject(
      refused,
    );
    // A signature broken by hand: the last hex digit changed.
    const body = health();
    const headers = await signedHeaders(path, body);
    const broken = headers.authorization?.replace(/.$/, (d) => (d === '0' ? '1' : '0')) ?? '';
    expect(await send('POST', path, { ...headers, authorization: broken }, body)).toMatchObject(
      refused,
    );
    // The body changed after signing.
    expect(
      await send('POST', path, headers, body.replace('KmsHealthCheck', 'KmsHealthChecl')),
    ).toMatchObject(refused);
    // The same signature is good for the body it was made for.
    expect((await send('POST', path, headers, body)).status).toBe(200);
  });

  test('dated over 5 minutes away, past or future: AuthenticationFailedException; 4 minutes pass', async () => {
    const at = (minutes: number) => ({ date: new Date(Date.now() + minutes * 60_000) });
    expect(await xks('/health', JSON.parse(health()), at(-6))).toMatchObject(refused);
    expect(await xks('/health', JSON.parse(health()), at(6))).toMatchObject(refused);
    expect((await xks('/health', JSON.parse(health()), at(-4))).status).toBe(200);
    expect((await xks('/health', JSON.parse(health()), at(4))).status).toBe(200);
  });

  test('curl signs with its own SigV4 (the spec’s Appendix D), and the proxy accepts it', () => {
    const curl = spawnSync(
      'curl',
      [
        '-s',
        '--cacert',
        join(dir, 'xks-cert.pem'),
        '--aws-sigv4',
        `aws:amz:${REGION}:kms-xks-proxy`,
      ]
        .concat(['--user', `${FIRST.accessKeyId}:${FIRST.secretAccessKey}`])
        .concat(['-X', 'POST', '-H', 'Content-Type: application/json', '--data', health()])
        .concat([`https://127.0.0.1:${xksPort}${path}`]),
      { encoding: 'utf8' },
    );
    expect(curl.status, curl.stderr).toBe(0);
    expect(JSON.parse(curl.stdout)).toMatchObject({
      ekmFleetDetails: [{ healthStatus: 'ACTIVE' }],
    });
  });
});

describe('TLS', () => {
  const handshake = (options: ConnectionOptions) =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: xksPort, ca, ...options }, () => {
        const suite = socket.getCipher().standardName;
        socket.end();
        resolve(suite);
      });
      socket.on('error', reject);
    });

  test('TLS 1.2 or later with the spec’s suites only; no plain HTTP', async () => {
    expect(await handshake({})).toBe('TLS_AES_256_GCM_SHA384');
    expect(
      await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }),
    ).toBe('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
    await expect(
      handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
    ).rejects.toThrow();
    await expect(
      handshake({ minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }),
    ).rejects.toThrow();
    await expect(
      handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    ).rejects.toThrow();
    await expect(
      fetch(`http://127.0.0.1:${xksPort}${PREFIX}/health`, { method: 'POST' }),
    ).rejects.toThrow();
  });
});

describe('the settings file', () => {
  const good = { region: REGION, credentials: [FIRST], keys: KEYS };
  test('each malformed field is refused, naming the field and never a secret', () => {
    const short = { ...FIRST, secretAccessKey: 'tooShortSecret' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, region: 'Frankfurt' }, /region/],
      [{ ...good, credentials: [] }, /credentials/],
      [{ ...good, credentials: [FIRST, SECOND, FIRST] }, /listed twice/],
      [
        { ...good, credentials: [{ ...FIRST, accessKeyId: 'akia-lower-case-0000' }] },
        /accessKeyId/,
      ],
      [{ ...good, credentials: [short] }, /secretAccessKey/],
      [{ ...good, pathPrefix: 'no-slash' }, /pathPrefix/],
      [{ ...good, pathPrefix: `/${'p'.repeat(120)}` }, /128/],
      [{ ...good, keys: { '..': { label: LABEL, operations: ['ENCRYPT'] } } }, /external key id/],
      [{ ...good, keys: { a: { label: LABEL, operations: ['SIGN'] } } }, /operations/],
      [{ ...good, keys: { a: { label: 'bad label', operations: ['ENCRYPT'] } } }, /label/],
      [
        { ...good, keys: { a: { label: LABEL, operations: ['ENCRYPT'], kmsKeyArns: ['x'] } } },
        /kmsKeyArns/,
      ],
      [{ ...good, healthKeyLabel: '' }, /healthKeyLabel/],
      [{ ...good, ratePerSecond: 0 }, /ratePerSecond/],
      [{ ...good, extra: true }, /unknown field "extra"/],
    ];
    for (const [doc, message] of cases) {
      let thrown: unknown;
      try {
        parseXksSettings(doc);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(doc).slice(0, 120)).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(FIRST.secretAccessKey);
      expect((thrown as Error).message).not.toContain(short.secretAccessKey);
    }
    expect(parseXksSettings({ ...good, pathPrefix: '/a/b_c-d' }).uriPath).toBe(
      '/a/b_c-d/kms/xks/v1',
    );
  });
});

describe('mutual TLS (VEIL_XKS_CLIENT_CA, VEIL_XKS_CLIENT_SUBJECT)', () => {
  const KMS_SUBJECT = `cks.kms.${REGION}.amazonaws.com`;
  const openssl = (args: string[]) => {
    const run = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
    expect(run.status, run.stderr).toBe(0);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  /** A CA, and a client certificate with this CN signed by it; returns the file names. */
  const issue = (name: string, cn: string, ca: string) => {
    openssl([
      'req',
      '-new',
      ...ec,
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`].concat([
        '-set_serial',
        '1',
        '-days',
        '1',
        '-out',
        `${name}.pem`,
      ]),
    );
    return {
      cert: readFileSync(join(dir, `${name}.pem`)),
      key: readFileSync(join(dir, `${name}.key`)),
    };
  };

  test('only a client certificate from the configured CA with the configured subject gets in', async () => {
    for (const ca of ['client-ca', 'other-ca']) {
      openssl([
        'req',
        '-x509',
        ...ec,
        '-days',
        '1',
        '-subj',
        `/CN=${ca}`,
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.pem`,
      ]);
    }
    const kms = issue('kms', KMS_SUBJECT, 'client-ca');
    const stranger = issue('stranger', 'someone.example.org', 'client-ca');
    const forged = issue('forged', KMS_SUBJECT, 'other-ca');
    const settings = parseXksSettings({ region: REGION, credentials: [FIRST], keys: {} });
    const server = createXksServer({
      backend: {
        gcm: {
          probe: () =>
            Promise.resolve({
              label: 't',
              manufacturer: 'm',
              model: 'x',
              serialNumber: '1',
              firmware: '1.0',
            }),
          encrypt: () => Promise.reject(new Error('not used')),
          decrypt: () => Promise.reject(new Error('not used')),
        },
        keys: { describeKey: () => Promise.resolve(undefined) },
      },
      audit: await openAuditLog(join(dir, 'mtls-audit.log')),
      settings: () => settings,
      tls: {
        cert: readFileSync(join(dir, 'xks-cert.pem')),
        key: readFileSync(join(dir, 'xks-key.pem')),
        client: { ca: readFileSync(join(dir, 'client-ca.pem')), subject: KMS_SUBJECT },
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const health = async (client?: { cert: Buffer; key: Buffer }) => {
      const body = JSON.stringify({ requestMetadata: metadata('KmsHealthCheck') });
      const path = '/kms/xks/v1/health';
      const signer = new SignatureV4({
        service: 'kms-xks-proxy',
        region: REGION,
        credentials: FIRST,
        sha256: TestSha256,
        applyChecksum: false,
      });
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'https:',
        hostname: '127.0.0.1',
        port,
        path,
        query: {},
        headers: { host: `127.0.0.1:${port}` },
        body,
      });
      return new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, method: 'POST', path, headers: signed.headers, ca, ...client },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    };
    try {
      expect(await health(kms)).toBe(200);
      await expect(health()).rejects.toThrow();
      await expect(health(stranger)).rejects.toThrow();
      await expect(health(forged)).rejects.toThrow();
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('one HSM label for Model B and for XKS', () => {
  test('a Veil Model B message and a KMS ciphertext under the same label; neither opens as the other', async () => {
    const keyring = new HsmProxyKeyring({
      proxyUrl: modelBUrl,
      keyLabel: LABEL,
      idToken: () => idToken,
    });
    const plaintext = new Uint8Array(randomBytes(5000));
    const message = await encryptBytes(plaintext, {
      keyring,
      encryptionContext: { 'veil-purpose': 'xks-test' },
      frameBytes: 4096,
    });
    const dataKey = randomBytes(32);
    const aad = Buffer.from('kms-header');
    const sealed = (await xks('/keys/xks-both/encrypt', encryptBody(dataKey, aad))).body;
    expect(await decryptBytes(message, { keyring })).toEqual(plaintext);
    expect((await xks('/keys/xks-both/decrypt', decryptBody(sealed, aad))).body).toEqual({
      plaintext: b64(dataKey),
    });
    // The XKS ciphertext, laid out as a Model B wrap (iv || ciphertext || tag), does not unwrap.
    const asWrap = Buffer.concat(
      ['initializationVector', 'ciphertext', 'authenticationTag'].map((f) =>
        Buffer.from(String(sealed[f]), 'base64'),
      ),
    );
    const unwrap = await fetch(`${modelBUrl}/v1/data-keys/decrypt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keyLabel: LABEL, wrapped: b64(asWrap), aad: b64(aad) }),
    });
    expect(unwrap.status).toBeGreaterThanOrEqual(400);
    expect(await unwrap.json()).not.toHaveProperty('plaintext');
  });

  test('the proxy refuses XKS keys on a label that opens legacy Model B wraps', () => {
    const legacy = createPolicy({
      groups: { testers: [LABEL] },
      labels: { [LABEL]: { legacyWraps: 'accept' } },
    });
    const listen = { host: '127.0.0.1', port: 0, settingsFile, tls: { cert: ca, key: ca } };
    const unused = {} as never;
    expect(() => startXks(listen, unused, unused, legacy)).toThrow(/legacyWraps/);
    expect(() => startXks(listen, unused, unused, createPolicy({ groups: {} }))).toThrow(
      /legacyWraps/,
    );
  });
});

describe('audit and rotation', () => {
  test('each call is audited with KMS’s requestMetadata, never the plaintext, in a chain that verifies', async () => {
    const plaintext = randomBytes(32);
    const meta = metadata('GenerateDataKey');
    const reply = await xks('/keys/xks-both/encrypt', {
      ...encryptBody(plaintext),
      requestMetadata: meta,
    });
    expect(reply.status).toBe(200);
    const text = readFileSync(auditLog, 'utf8');
    expect(verifyAuditLog(text)).toMatchObject({ ok: true });
    expect(text).not.toContain(b64(plaintext));
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const line = lines.find(
      (entry) =>
        (entry.xks as { requestMetadata?: { kmsRequestId?: string } } | undefined)?.requestMetadata
          ?.kmsRequestId === meta.kmsRequestId,
    );
    expect(line).toMatchObject({
      operation: 'xks-encrypt',
      label: LABEL,
      result: 'ok',
      xks: {
        accessKeyId: FIRST.accessKeyId,
        externalKeyId: 'xks-both',
        requestMetadata: {
          awsPrincipalArn: meta.awsPrincipalArn,
          kmsKeyArn: KMS_KEY_ARN,
          kmsOperation: 'GenerateDataKey',
          kmsRequestId: meta.kmsRequestId,
          kmsViaService: 's3',
        },
      },
    });
    expect((line?.xks as { durationMs: number }).durationMs).toBeGreaterThan(0);
    const refusals = lines.map((entry) => entry.result);
    expect(refusals).toEqual(
      expect.arrayContaining(['AuthenticationFailedException', 'KeyNotFoundException']),
    );
  });

  test('credentials rotate on SIGHUP without a restart: two valid at once, then the old one removed', async () => {
    const health = () => ({ requestMetadata: metadata('KmsHealthCheck') });
    const reload = async (extra: Record<string, unknown>, until: () => Promise<boolean>) => {
      writeSettings(extra);
      process.kill(proxy.child.pid ?? 0, 'SIGHUP');
      await waitUntil(proxy, 'the reloaded XKS settings', until, 10_000);
    };
    await reload(
      { credentials: [FIRST, SECOND] },
      async () => (await xks('/health', health(), { credential: SECOND })).status === 200,
    );
    expect((await xks('/health', health(), { credential: FIRST })).status).toBe(200);
    await reload(
      { credentials: [SECOND] },
      async () => (await xks('/health', health(), { credential: FIRST })).status === 401,
    );
    expect((await xks('/health', health(), { credential: SECOND })).status).toBe(200);
    // A broken file is not loaded: the settings in force stay.
    writeFileSync(settingsFile, '{ "region": ');
    process.kill(proxy.child.pid ?? 0, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await xks('/health', health(), { credential: SECOND })).status).toBe(200);
    // A health check key missing from the HSM: InternalException (GetHealthStatus has no
    // KeyNotFoundException in the spec).
    await reload(
      { credentials: [SECOND], healthKeyLabel: 'absent-health-key' },
      async () => (await xks('/health', health(), { credential: SECOND })).status === 500,
    );
    expect((await xks('/health', health(), { credential: SECOND })).body).toMatchObject({
      errorName: 'InternalException',
    });
    // Over the configured rate: ThrottlingException.
    await reload({ credentials: [SECOND], ratePerSecond: 1, rateBurst: 2 }, async () => {
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await xks('/health', health(), { credential: SECOND })).status);
      return statuses.includes(429);
    });
    expect((await xks('/health', health(), { credential: SECOND })).body).toMatchObject({
      errorName: 'ThrottlingException',
    });
  });
});
