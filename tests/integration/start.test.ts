/**
 * `npm start` as a person runs it: the whole stack and the app come up with one command, a second
 * run is harmless, and Ctrl-C (SIGINT) stops everything it started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseConfig } from '../../src/aws/config';
import { freePort } from '../../scripts/stack/process';

const TSX = 'node_modules/tsx/dist/cli.mjs';
let dir: string;
let child: ChildProcess | undefined;

afterAll(async () => {
  // On a failed assertion the stack is still up: stop it the way a person would, with Ctrl-C.
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

test('npm start brings up the stack and the app, is idempotent, and stops on Ctrl-C', async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-start-'));
  const ports = { app: await freePort(), moto: await freePort(), hsm: await freePort() };
  const env = {
    ...process.env,
    VEIL_STATE_DIR: dir,
    VEIL_APP_PORT: String(ports.app),
    VEIL_MOTO_PORT: String(ports.moto),
    VEIL_HSM_PORT: String(ports.hsm),
  };
  child = spawn(process.execPath, [TSX, 'scripts/start.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl-C') && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(output).toContain('Press Ctrl-C to stop everything.');
  for (const line of [
    'App',
    'AWS (moto)',
    'Bucket',
    'KMS key',
    'Identity pool',
    'User pool',
    'HSM proxy',
  ]) {
    expect(output).toContain(`  ${line}`);
  }

  const appUrl = `http://127.0.0.1:${ports.app}`;
  const page = await fetch(`${appUrl}/`);
  expect(await page.text()).toContain('<div id="app">');
  const config = parseConfig(await (await fetch(`${appUrl}/config.json`)).json());
  expect(config.endpoints.s3).toBe(`http://127.0.0.1:${ports.moto}`);
  expect(config.hsm?.proxyUrl).toBe(`http://127.0.0.1:${ports.hsm}`);
  const health = await fetch(`${config.hsm?.proxyUrl}/v1/health`);
  expect(health.status).toBe(200);

  const again = spawnSync(process.execPath, [TSX, 'scripts/start.ts'], { env, encoding: 'utf8' });
  expect(again.status).toBe(0);
  expect(again.stdout).toMatch(/already running as process \d+/);

  const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  for (const port of [ports.app, ports.moto, ports.hsm]) {
    expect(await refused(`http://127.0.0.1:${port}/`)).toBe(true);
  }
});
