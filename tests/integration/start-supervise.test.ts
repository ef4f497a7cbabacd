/**
 * `npm start` watches its services: a stale lock does not stop it from starting, a killed HSM
 * proxy is reported and answers again, and a killed moto is reported and restarted with its
 * recorded state replayed (bucket, objects, an unfinished multipart upload, the KMS key).
 * The supervisor's give-up rule is checked on a process that always fails.
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { checkLock, type Lock } from '../../scripts/stack/lock';
import { freePort, startProcess } from '../../scripts/stack/process';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { supervise } from '../../scripts/stack/supervise';

const TSX = 'node_modules/tsx/dist/cli.mjs';
let dir: string | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('npm start ignores a stale lock, restarts a killed HSM proxy, brings moto back with its data, and cleans up and restores after a killed start', async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-supervise-'));
  const ports = { app: await freePort(), moto: await freePort(), hsm: await freePort() };
  // A lock left by a process that is gone.
  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  const stale: Lock = { pid: Number(gone.stdout.trim()), summary: 'old', services: {} };
  writeFileSync(join(dir, 'stack.json'), JSON.stringify(stale));

  const env = {
    ...process.env,
    VEIL_STATE_DIR: dir,
    VEIL_APP_PORT: String(ports.app),
    VEIL_MOTO_PORT: String(ports.moto),
    VEIL_HSM_PORT: String(ports.hsm),
  };
  let output = '';
  const start = async (): Promise<void> => {
    output = '';
    child = spawn(process.execPath, [TSX, 'scripts/start.ts'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(
      'the stack',
      () => output.includes('Press Ctrl-C') || child?.exitCode !== null,
      90_000,
    );
  };
  await start();
  expect(output).toContain('Press Ctrl-C to stop everything.');
  expect(output).toContain(`Veil process ${stale.pid}, which is no longer running`);
  expect(output).not.toContain('already running');

  const lock = (): Lock => JSON.parse(readFileSync(join(dir ?? '', 'stack.json'), 'utf8')) as Lock;
  const hsmHealth = `http://127.0.0.1:${ports.hsm}/v1/health`;

  // The HSM proxy, killed: reported, restarted, answering again.
  const proxyPid = lock().services['the HSM proxy']?.pid ?? 0;
  expect(proxyPid).toBeGreaterThan(0);
  process.kill(proxyPid, 'SIGKILL');
  await until('the proxy report', () => output.includes('the HSM proxy is back'), 30_000);
  expect(output).toContain(
    `[veil] the HSM proxy (process ${proxyPid}) was killed by SIGKILL; restarting it in`,
  );
  expect((await fetch(hsmHealth)).status).toBe(200);
  expect(lock().services['the HSM proxy']?.pid).not.toBe(proxyPid);

  // Data in moto: an object, a finished and an unfinished multipart upload, a KMS ciphertext.
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    bucket: string;
    region: string;
    kms: { keyId: string };
  };
  const common = {
    region: config.region,
    endpoint: `http://127.0.0.1:${ports.moto}`,
    credentials: LOCAL_CREDENTIALS,
  };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const kms = new KMSClient(common);
  const Bucket = config.bucket;
  const body = new TextEncoder().encode('kept across a moto restart');
  await s3.send(new PutObjectCommand({ Bucket, Key: 'kept/a.txt', Body: body }));
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'kept/b.bin' }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket,
      Key: 'kept/b.bin',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: body,
    }),
  );
  const sealed = await kms.send(
    new EncryptCommand({ KeyId: config.kms.keyId, Plaintext: new Uint8Array([1, 2, 3]) }),
  );

  const motoPid = lock().services.moto?.pid ?? 0;
  expect(motoPid).toBeGreaterThan(0);
  process.kill(motoPid, 'SIGKILL');
  await until('the moto report', () => output.includes('moto is back'), 60_000);
  expect(output).toContain(`[veil] moto (process ${motoPid}) was killed by SIGKILL; restarting`);
  expect(output).toMatch(/replayed \d+ recorded requests/);
  expect(output).not.toContain('identifiers changed');

  await s3.send(new HeadBucketCommand({ Bucket }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'kept/a.txt' }));
  expect(await got.Body?.transformToString()).toBe('kept across a moto restart');
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key: 'kept/b.bin',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
  expect([...(opened.Plaintext ?? [])]).toEqual([1, 2, 3]);
  expect((await fetch(hsmHealth)).status).toBe(200);
  s3.destroy();
  kms.destroy();

  // start.ts itself killed: its services outlive it; the next start stops them and starts afresh.
  const startPid = lock().pid;
  const leftovers = lock().services;
  const parentExited = new Promise((resolve) => child?.once('exit', resolve));
  process.kill(startPid, 'SIGKILL');
  await parentExited;
  await start();
  expect(output).toContain('Press Ctrl-C to stop everything.');
  expect(output).toContain(`Veil process ${startPid}, which is no longer running`);
  expect(output).not.toContain('already running');
  for (const service of Object.values(leftovers)) {
    expect(() => process.kill(service.pid ?? 0, 0)).toThrow();
  }
  // ...and replays moto's recording of that run.
  expect(output).toMatch(/Replaying moto's \d+ recorded requests from that run/);
  const s3Again = new S3Client({ ...common, forcePathStyle: true });
  const kept = await s3Again.send(new GetObjectCommand({ Bucket, Key: 'kept/a.txt' }));
  expect(await kept.Body?.transformToString()).toBe('kept across a moto restart');
  await s3Again.send(new HeadObjectCommand({ Bucket, Key: 'kept/b.bin' }));
  s3Again.destroy();

  // Ctrl-C stops the services without reporting or restarting them.
  const before = output.length;
  // To start.ts itself: tsx kills a child that does not acknowledge a relayed signal in 30 ms,
  // which a busy machine can miss.
  const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
  process.kill(lock().pid, 'SIGINT');
  expect(await exited).toBe(0);
  expect(output.slice(before)).not.toContain('[veil]');
}, 240_000);

test('the supervisor gives up on a service that keeps dying at once, and says so', async () => {
  const failing = () =>
    startProcess('fails', process.execPath, ['-e', 'console.error("boom"); process.exit(3)'], {});
  let first = failing();
  const messages: string[] = [];
  let restarts = 0;
  const supervisor = supervise(
    [
      {
        label: 'the failing service',
        current: () => first,
        restart: () => {
          restarts += 1;
          first = failing();
          return Promise.resolve({ managed: first, detail: '' });
        },
      },
    ],
    { report: (message) => messages.push(message), firstDelayMs: 10, maxFastCrashes: 3 },
  );
  await until('give up', () => supervisor.status('the failing service') === 'gave-up', 10_000);
  supervisor.stop();
  expect(restarts).toBe(3);
  const text = messages.join('\n');
  expect(text).toContain('the failing service (process');
  expect(text).toContain('exited with code 3; restarting it in');
  expect(text).toContain('not restarting it again');
  expect(text).toContain('boom');
});

test('a lock whose process is alive but whose services are dead is not "already running"', async () => {
  // Stands in for a start.ts whose supervisor no longer restarts anything.
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'scripts/start.ts']);
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  const ports = { app: await freePort(), moto: await freePort(), hsm: await freePort() };
  const lock: Lock = {
    pid: holder.pid ?? 0,
    summary: 'old',
    ports,
    services: { moto: { status: 'running' }, 'the HSM proxy': { status: 'gave-up' } },
  };
  const verdict = await checkLock(JSON.stringify(lock));
  expect(verdict.running).toBe(false);
  expect(verdict.unclean).toBe(true);
  expect(verdict.message).toContain(
    `Veil process ${lock.pid} was running, but moto, the HSM proxy and the app server did not answer`,
  );
  expect(verdict.message).not.toContain('already running');
  await exited;
});
