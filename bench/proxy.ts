/**
 * `npm run bench:proxy`: wrap and unwrap requests per second and p99 latency of the HSM proxy on
 * loopback, with SoftHSM2 behind it and, side by side in the same run, with the HSM call replaced
 * by node:crypto. Bounded load: autocannon, BENCH_SECONDS (default 10) per case, 32 connections.
 * Tokens are real RS256 ID tokens verified by the proxy, signed by a key made for this run.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSoftHsmToken } from '../scripts/stack/softhsm';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 32;
const LABEL = 'bench-key';
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
const SERVER = fileURLToPath(new URL('./proxy-server.ts', import.meta.url));

function idToken(privateKey: ReturnType<typeof generateKeyPairSync>['privateKey']): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', kid: 'bench' })}.${b64({
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench',
    sub: 'bench-user',
    aud: 'bench',
    token_use: 'id',
    iat: now,
    exp: now + 3600,
    'cognito:username': 'bench',
    'cognito:groups': ['bench'],
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

async function startServer(
  mode: 'hsm' | 'node',
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [TSX, SERVER, mode, LABEL], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function load(url: string, path: string, body: string, token: string) {
  const result = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  const ok = result['2xx'];
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `${path}: ${result.non2xx} non-2xx and ${result.errors} errors out of ${ok + result.non2xx}`,
    );
  }
  return { perSecond: result.requests.average, p99Ms: result.latency.p99, total: ok };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-bench-proxy-'));
  try {
    const token = await ensureSoftHsmToken({
      dir: join(dir, 'softhsm'),
      tokenLabel: 'bench',
      pin: '1234-bench',
      soPin: '5678-bench',
      keyLabel: LABEL,
    });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwksFile = join(dir, 'jwks.json');
    await writeFile(
      jwksFile,
      JSON.stringify({
        keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' }],
      }),
    );
    const bearer = idToken(privateKey);
    const env = {
      SOFTHSM2_CONF: token.conf,
      BENCH_LIBRARY: token.libraryPath,
      BENCH_TOKEN: token.tokenLabel,
      BENCH_PIN: token.pin,
      BENCH_JWKS_FILE: jwksFile,
      BENCH_AUDIT_LOG: join(dir, 'audit.log'),
    };
    const aad = Buffer.from(
      '{"veil-purpose":"bench","veil-object":"00000000000000000000000000000000"}',
    ).toString('base64');
    const rows: Record<
      string,
      { wrap: Awaited<ReturnType<typeof load>>; unwrap: Awaited<ReturnType<typeof load>> }
    > = {};
    for (const mode of ['hsm', 'node'] as const) {
      const server = await startServer(mode, env);
      try {
        const first = await fetch(`${server.url}/v1/data-keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ keyLabel: LABEL, aad }),
        });
        const { wrapped } = (await first.json()) as { wrapped: string };
        console.error(`${mode}: wrap for ${SECONDS} s…`);
        const wrap = await load(
          server.url,
          '/v1/data-keys',
          JSON.stringify({ keyLabel: LABEL, aad }),
          bearer,
        );
        console.error(`${mode}: unwrap for ${SECONDS} s…`);
        const unwrap = await load(
          server.url,
          '/v1/data-keys/decrypt',
          JSON.stringify({ keyLabel: LABEL, wrapped, aad }),
          bearer,
        );
        rows[mode] = { wrap, unwrap };
      } finally {
        server.child.kill('SIGTERM');
      }
    }
    const hsm = rows.hsm;
    const node = rows.node;
    if (!hsm || !node) throw new Error('a case did not run');
    const fmt = (n: number) => n.toFixed(0).padStart(8);
    console.log(
      `\nHSM proxy on loopback: ${CONNECTIONS} connections, ${SECONDS} s per case, ID token verified on every request\n`,
    );
    console.log('operation   backend       req/s   p99 ms');
    for (const op of ['wrap', 'unwrap'] as const) {
      console.log(`${op.padEnd(11)} SoftHSM2   ${fmt(hsm[op].perSecond)} ${fmt(hsm[op].p99Ms)}`);
      console.log(`${op.padEnd(11)} node:crypto${fmt(node[op].perSecond)} ${fmt(node[op].p99Ms)}`);
    }
    console.log('\nratio SoftHSM2 / node:crypto (throughput; 1.00 means the HSM costs nothing)');
    for (const op of ['wrap', 'unwrap'] as const) {
      console.log(
        `${op.padEnd(11)} ${(hsm[op].perSecond / node[op].perSecond).toFixed(2)}   p99 ${(hsm[op].p99Ms / Math.max(node[op].p99Ms, 1)).toFixed(2)}x`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
