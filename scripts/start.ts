/**
 * `npm start`: the local demo stack and the app, on 127.0.0.1 only.
 * moto (S3, KMS, Cognito) provisioned for Veil, a SoftHSM2 token with its key, the HSM proxy, and
 * the Vite dev server with a config.json pointing at all of them. Idempotent: when a stack is
 * already running it prints its summary again; a second start after Ctrl-C reuses the token.
 * While it runs, it restarts the HSM proxy and moto when they die (stack/supervise.ts), moto with
 * its state replayed ([Note: moto state across restarts] in stack/moto.ts).
 * Ctrl-C stops everything this command started.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createServer } from 'vite';
import { checkLock, type Lock } from './stack/lock';
import { checkMoto, recordedRequests } from './stack/moto';
import { StackError } from './stack/process';
import { findSoftHsm } from './stack/softhsm';
import { DEMO, startStack, type Stack } from './stack/stack';
import { supervise, type Supervisor } from './stack/supervise';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const STATE_DIR = resolve(process.env.VEIL_STATE_DIR ?? '.veil');
const CONFIG_FILE = resolve(STATE_DIR, 'config.json');
const LOCK_FILE = resolve(STATE_DIR, 'stack.json');

const ports = {
  app: Number(process.env.VEIL_APP_PORT ?? 5173),
  moto: Number(process.env.VEIL_MOTO_PORT ?? 4566),
  hsm: Number(process.env.VEIL_HSM_PORT ?? 8787),
};

function summary(appUrl: string, config: Record<string, unknown>, extra: string[]): string {
  const c = config as {
    bucket: string;
    region: string;
    endpoints: { s3: string };
    kms: { keyId: string };
    hsm: { proxyUrl: string; keyLabel: string };
    cognito: { identityPoolId: string; userPoolId: string };
  };
  return [
    '',
    'Veil is running (local demo stack, 127.0.0.1 only)',
    '',
    `  App            ${appUrl}`,
    `  AWS (moto)     ${c.endpoints.s3}   region ${c.region}`,
    `  Bucket         ${c.bucket}`,
    `  KMS key        ${c.kms.keyId}`,
    `  Identity pool  ${c.cognito.identityPoolId} (guest access on)`,
    `  User pool      ${c.cognito.userPoolId}, demo user "${DEMO.demoUser.username}" / "${DEMO.demoUser.password}"`,
    `  HSM proxy      ${c.hsm.proxyUrl}   key label ${c.hsm.keyLabel} (SoftHSM2 token "${DEMO.tokenLabel}" in ${STATE_DIR}/softhsm)`,
    `  Demo ID token  ${STATE_DIR}/demo-id-token (valid one hour; VEIL_HSM_TOKEN for the command line)`,
    `  Config         ${CONFIG_FILE}`,
    ...extra,
    '',
  ].join('\n');
}

// A closed terminal or pipe must not turn a clean stop into a crash.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

async function main(): Promise<void> {
  let motoState: 'fresh' | 'restore' = 'fresh';
  if (existsSync(LOCK_FILE)) {
    const verdict = await checkLock(readFileSync(LOCK_FILE, 'utf8'));
    console.log(verdict.message);
    if (verdict.running) return;
    await rm(LOCK_FILE, { force: true });
    const requests = recordedRequests(STATE_DIR);
    if (verdict.unclean && requests > 0) {
      motoState = 'restore';
      console.log(`Replaying moto's ${requests} recorded requests from that run.`);
    }
  }
  // Fail at once, before starting anything, when a prerequisite is missing.
  checkMoto();
  findSoftHsm();
  await mkdir(STATE_DIR, { recursive: true });

  const appOrigins = [`http://127.0.0.1:${ports.app}`, `http://localhost:${ports.app}`];
  const started: { stack?: Stack; supervisor?: Supervisor } = {};
  let vite: Awaited<ReturnType<typeof createServer>> | undefined;
  let stopping = false;
  // Installed before anything starts: a Ctrl-C during start-up stops what has started so far
  // (children not yet handed over are killed by the exit hook in stack/process.ts).
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    started.supervisor?.stop();
    console.log('\nStopping Veil…');
    await vite?.close();
    await started.stack?.stop();
    await rm(LOCK_FILE, { force: true });
    process.exit(code);
  };
  // `on`, not `once`: tsx relays a Ctrl-C a second time when this process is slow to answer, and
  // with no listener left its preflight would exit at once, skipping the stop.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGHUP', () => void stop(0));

  console.log('Starting moto, SoftHSM2 and the HSM proxy…');
  const stack = await startStack({
    dir: STATE_DIR,
    motoPort: ports.moto,
    hsmPort: ports.hsm,
    appOrigins,
    reuseMoto: true,
    motoState,
  });
  started.stack = stack;

  try {
    await writeFile(CONFIG_FILE, `${JSON.stringify(stack.config, null, 2)}\n`);
    process.env.VEIL_CONFIG = CONFIG_FILE;
    vite = await createServer({ server: { host: '127.0.0.1', port: ports.app, strictPort: true } });
    await vite.listen();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stop(1);
    return;
  }
  const appUrl = `http://127.0.0.1:${ports.app}/`;
  const reused = stack.services.some((service) => service.label === 'moto')
    ? []
    : [`  (moto was already running on port ${ports.moto}: reused, not watched)`];
  const text = summary(appUrl, stack.config as unknown as Record<string, unknown>, reused);
  const lock: Lock = { pid: process.pid, summary: text, ports, services: {} };
  const writeLock = (): void => {
    if (!stopping) writeFileSync(LOCK_FILE, JSON.stringify(lock));
  };
  started.supervisor = supervise(stack.services, {
    onChange: (label, status, pid) => {
      lock.services[label] = { status, ...(pid ? { pid } : {}) };
      writeLock();
    },
  });
  writeLock();
  console.log(`${text}\nPress Ctrl-C to stop everything.`);
}

main().catch((error: unknown) => {
  if (error instanceof StackError) console.error(`\nVeil could not start: ${error.message}\n`);
  else console.error(error);
  process.exit(1);
});
