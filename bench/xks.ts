/**
 * `npm run bench:xks`: requests per second and latency of the HSM proxy's XKS API (Encrypt as KMS
 * sends it for GenerateDataKey, with a CDIV, and Decrypt) on loopback over TLS, SoftHSM2 behind
 * it, against the spec's 250 ms budget and Veil's target of p99 under 35 ms at 50 concurrent
 * requests. The proxy is the real one (main.ts, with its audit log fdatasync'ed); requests are
 * signed with @smithy/signature-v4 as KMS signs them, and the proxy verifies every signature (a
 * signature is valid for 5 minutes, so autocannon replays one per case). Keep-alive connections,
 * as KMS keeps them. BENCH_SECONDS (default 10) per run, BENCH_RUNS (default 3) runs per case,
 * BENCH_CONNECTIONS (default 50), BENCH_AUDIT_DIR (default: a temporary folder; /dev/shm takes
 * the disk's fdatasync out of the figures); the medians are printed, with the proxy's CPU time per request
 * (from /proc) and the machine's load average, since the bench and the proxy share its cores.
 */
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import {
  createHash,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  type Hash,
  type Hmac,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { freePort, startProcess, waitUntil } from '../scripts/stack/process';
import { ensureSoftHsmToken } from '../scripts/stack/softhsm';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BUDGET_MS = 250;
const TARGET_P99_MS = 35;
const LABEL = 'bench-key';
const REGION = 'us-east-1';
const PREFIX = '/bench/kms/xks/v1';
const MAIN = fileURLToPath(new URL('../server/hsm-proxy/src/main.ts', import.meta.url));
const TSX_LOADER = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const CREDENTIAL = {
  accessKeyId: 'BENCHXKSACCESSKEY2345',
  secretAccessKey: randomBytes(32).toString('base64'),
};

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto. */
class Sha256 {
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

async function signed(port: number, path: string, body: string): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 'kms-xks-proxy',
    region: REGION,
    credentials: CREDENTIAL,
    sha256: Sha256,
    applyChecksum: false,
  });
  const request = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: '127.0.0.1',
    port,
    path,
    query: {},
    headers: { host: `127.0.0.1:${port}` },
    body,
  });
  return { ...request.headers, 'content-type': 'application/json' };
}

function metadata(kmsOperation: string) {
  return {
    awsPrincipalArn: 'arn:aws:iam::111122223333:role/bench',
    kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000',
    kmsOperation,
    kmsRequestId: '4112f4d6-db54-4af4-ae30-c55a22a8dfae',
  };
}

interface Row {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The proxy process's CPU time (user + system) per request. */
  cpuMsPerRequest: number;
  /** Answers other than 200 (DependencyTimeoutException past the HSM's budget) and errors. */
  failed: number;
}

/** CPU time of a process so far, in ms (Linux /proc; 0 elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime, fields 14 and 15 of stat, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function load(
  port: number,
  pid: number | undefined,
  path: string,
  body: string,
): Promise<Row> {
  const cpuBeforeMs = cpuMs(pid);
  const result = await autocannon({
    url: `https://127.0.0.1:${port}${path}`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: await signed(port, path, body),
    body,
  });
  return {
    perSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    cpuMsPerRequest: (cpuMs(pid) - cpuBeforeMs) / Math.max(result['2xx'], 1),
    failed: result.non2xx + result.errors,
  };
}

/** One signed POST over TLS, trusting the certificate made for this run. */
async function post(
  port: number,
  ca: Buffer,
  path: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const headers = await signed(port, path, body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers, ca },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-bench-xks-'));
  let stop: (() => Promise<void>) | undefined;
  try {
    const token = await ensureSoftHsmToken({
      dir: join(dir, 'softhsm'),
      tokenLabel: 'bench',
      pin: '1234-bench',
      soPin: '5678-bench',
      keyLabel: LABEL,
    });
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
        .concat(['-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
        .concat(['-keyout', keyFile, '-out', certFile]),
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwksFile = join(dir, 'jwks.json');
    await writeFile(
      jwksFile,
      JSON.stringify({
        keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256' }],
      }),
    );
    const policyFile = join(dir, 'policy.json');
    await writeFile(policyFile, JSON.stringify({ groups: {}, labels: {} }));
    const settingsFile = join(dir, 'xks.json');
    await writeFile(
      settingsFile,
      JSON.stringify({
        pathPrefix: '/bench',
        region: REGION,
        credentials: [CREDENTIAL],
        keys: { 'bench-xks': { label: LABEL, operations: ['ENCRYPT', 'DECRYPT'] } },
        ratePerSecond: 1_000_000,
        rateBurst: 1_000_000,
      }),
    );
    const port = await freePort();
    const proxy = startProcess('hsm-proxy', process.execPath, ['--import', TSX_LOADER, MAIN], {
      ...process.env,
      SOFTHSM2_CONF: token.conf,
      VEIL_HSM_PORT: String(await freePort()),
      VEIL_HSM_LIBRARY: token.libraryPath,
      VEIL_HSM_TOKEN_LABEL: token.tokenLabel,
      VEIL_HSM_PIN: token.pin,
      VEIL_HSM_KEY_LABEL: LABEL,
      VEIL_HSM_USER_POOL_ID: 'us-east-1_bench',
      VEIL_HSM_CLIENT_ID: 'bench',
      VEIL_HSM_JWKS_FILE: jwksFile,
      VEIL_HSM_POLICY_FILE: policyFile,
      VEIL_HSM_AUDIT_LOG: join(
        process.env.BENCH_AUDIT_DIR ?? dir,
        `xks-bench-audit-${process.pid}.log`,
      ),
      VEIL_XKS_PORT: String(port),
      VEIL_XKS_SETTINGS_FILE: settingsFile,
      VEIL_XKS_TLS_CERT: certFile,
      VEIL_XKS_TLS_KEY: keyFile,
    });
    stop = () => proxy.stop();
    const encryptPath = `${PREFIX}/keys/bench-xks/encrypt`;
    const aad = randomBytes(100).toString('base64');
    const encryptBody = JSON.stringify({
      requestMetadata: metadata('GenerateDataKey'),
      plaintext: randomBytes(32).toString('base64'),
      additionalAuthenticatedData: aad,
      encryptionAlgorithm: 'AES_GCM',
      ciphertextDataIntegrityValueAlgorithm: 'SHA_256',
    });
    const ca = await readFile(certFile);
    let sealed: Record<string, string> | undefined;
    await waitUntil(proxy, 'the HSM proxy', async () => {
      const reply = await post(port, ca, encryptPath, encryptBody).catch(() => undefined);
      if (reply?.status !== 200) return false;
      sealed = JSON.parse(reply.text) as Record<string, string>;
      return true;
    });
    if (!sealed) throw new Error('no ciphertext to decrypt');
    const decryptPath = `${PREFIX}/keys/bench-xks/decrypt`;
    const decryptBody = JSON.stringify({
      requestMetadata: metadata('Decrypt'),
      ciphertext: sealed.ciphertext,
      ciphertextMetadata: sealed.ciphertextMetadata,
      initializationVector: sealed.initializationVector,
      authenticationTag: sealed.authenticationTag,
      additionalAuthenticatedData: aad,
      encryptionAlgorithm: 'AES_GCM',
    });
    const rows: Record<'Encrypt' | 'Decrypt', Row[]> = { Encrypt: [], Decrypt: [] };
    const loadAverage = loadavg()[0] ?? 0;
    console.error('warm-up, 2 s…');
    await autocannon({
      url: `https://127.0.0.1:${port}${encryptPath}`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: 2,
      headers: await signed(port, encryptPath, encryptBody),
      body: encryptBody,
    });
    for (let run = 1; run <= RUNS; run++) {
      for (const [op, path, body] of [
        ['Encrypt', encryptPath, encryptBody],
        ['Decrypt', decryptPath, decryptBody],
      ] as const) {
        console.error(`${op}: run ${run} of ${RUNS}, ${SECONDS} s…`);
        rows[op].push(await load(port, proxy.child.pid, path, body));
      }
    }
    console.log(
      `\nXKS API on loopback over TLS, SoftHSM2, ${CONNECTIONS} concurrent connections, ${SECONDS} s per run, medians of ${RUNS} runs, ${availableParallelism()} cores, load average ${loadAverage.toFixed(1)} before\n`,
    );
    console.log(
      'operation     req/s   p50 ms   p99 ms   max ms   proxy CPU ms/req   failed   p99 within 250 ms / 35 ms',
    );
    for (const op of ['Encrypt', 'Decrypt'] as const) {
      const pick = (key: keyof Row) => median(rows[op].map((row) => row[key]));
      const p99 = pick('p99Ms');
      const fmt = (n: number) => n.toFixed(0).padStart(8);
      console.log(
        `${op.padEnd(10)}${fmt(pick('perSecond'))} ${fmt(pick('p50Ms'))} ${fmt(p99)} ${fmt(pick('maxMs'))}   ${pick('cpuMsPerRequest').toFixed(2).padStart(16)} ${fmt(pick('failed'))}   ${p99 < BUDGET_MS ? 'yes' : 'NO'} / ${p99 < TARGET_P99_MS ? 'yes' : 'NO'}`,
      );
    }
  } finally {
    await stop?.();
    await rm(dir, { recursive: true, force: true });
    if (process.env.BENCH_AUDIT_DIR)
      await rm(join(process.env.BENCH_AUDIT_DIR, `xks-bench-audit-${process.pid}.log`), {
        force: true,
      });
  }
}

await main();
