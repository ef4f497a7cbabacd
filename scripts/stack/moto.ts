/**
 * moto, the local stand-in for S3, KMS and Cognito: `python -m moto.server` on 127.0.0.1.
 * moto keeps whole objects in memory (about 5 GB for a 1 GiB upload): keep test objects small.
 *
 * [Note: moto state across restarts] moto has no persistence; `npm start` keeps its state with
 * moto's own request recorder. moto runs through moto-server.py, which derives the two values
 * moto takes from os.urandom (KMS key material, multipart upload ids) from a secret in the state
 * directory; the server is seeded (/moto-api/seed) before anything else, then records every
 * request to `moto-recording.jsonl`. A restarted moto is seeded the same way and replays the
 * recording (/moto-api/recorder/replay-recording), which rebuilds buckets, objects, KMS keys
 * (same ids, same material) and Cognito pools and users (same ids). Limits: the recording holds
 * every upload's bytes, so it grows with use; objects' dates become the replay's time; and a
 * replay is only as faithful as the order of the recorded requests (uploads of one key at the
 * same moment could swap ids).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertPortFree,
  httpOk,
  StackError,
  startedWhenReady,
  startProcess,
  type Managed,
} from './process';

export const MOTO_INSTALL = 'python3 -m pip install "moto[server]"';

function python(): string {
  return process.env.VEIL_PYTHON ?? 'python3';
}

/**
 * Set to the Python that passed checkMoto, in this process and for its children: the probe
 * imports moto's server, about a second of CPU, which a test run that starts a stack per file
 * (the integration tests' global setup sets it) need not pay again for the same Python.
 */
export const MOTO_CHECKED_ENV = 'VEIL_MOTO_CHECKED_FOR';

/** @throws StackError with the install command when Python or moto's server is missing. */
export function checkMoto(): void {
  if (process.env[MOTO_CHECKED_ENV] === python()) return;
  const probe = spawnSync(
    python(),
    ['-c', 'import moto, moto.server, flask_cors; print(moto.__version__)'],
    {
      encoding: 'utf8',
    },
  );
  if (probe.status !== 0) {
    throw new StackError(`moto's server is not installed for ${python()}.`, MOTO_INSTALL);
  }
  const major = Number(probe.stdout.trim().split('.')[0]);
  if (major < 5) {
    throw new StackError(
      `moto ${probe.stdout.trim()} is too old; Veil needs moto 5.`,
      MOTO_INSTALL,
    );
  }
  process.env[MOTO_CHECKED_ENV] = python();
}

const WRAPPER = fileURLToPath(new URL('./moto-server.py', import.meta.url));
/** Any fixed number: the same seed before the first request and before a replay. */
const SEED = 1_986_358_380;

/** Where moto's state is kept between restarts ([Note: moto state across restarts]). */
export interface MotoState {
  /** Directory for the recording and the secret. */
  dir: string;
  /** Replay the recording into the new server (a restart); otherwise start an empty recording. */
  restore: boolean;
}

/** The recording of a persistent moto, one request per line. */
export function motoRecording(dir: string): string {
  return join(dir, 'moto-recording.jsonl');
}

/** How many requests the recording holds (0 when there is none). */
export function recordedRequests(dir: string): number {
  const file = motoRecording(dir);
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim()).length;
}

async function stateSecret(dir: string): Promise<string> {
  const file = join(dir, 'moto-state-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function motoApi(port: number, path: string, timeoutMs = 10_000): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/moto-api/${path}`, {
    method: 'POST',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new StackError(`moto's /moto-api/${path} answered ${response.status}`);
}

/**
 * Starts moto on 127.0.0.1:port and waits until it answers. With `state`, moto records every
 * request and, when `state.restore` is set, first replays the earlier recording.
 * @throws StackError when moto does not start or the replay fails.
 */
export async function startMoto(port: number, state?: MotoState): Promise<Managed> {
  checkMoto();
  await assertPortFree(port, 'moto');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Cognito identity pool credentials from moto expire after 90 s, like short AWS sessions.
    AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
  const hostPort = ['-H', '127.0.0.1', '-p', String(port)];
  let args = ['-m', 'moto.server', ...hostPort];
  if (state) {
    env.VEIL_MOTO_STATE_SECRET = await stateSecret(state.dir);
    env.MOTO_RECORDER_FILEPATH = motoRecording(state.dir);
    delete env.MOTO_ENABLE_RECORDING;
    if (!state.restore) await rm(motoRecording(state.dir), { force: true });
    args = [WRAPPER, ...hostPort];
  }
  const moto = startProcess('moto', python(), args, env);
  await startedWhenReady(moto, 'moto', () => httpOk(`http://127.0.0.1:${port}/moto-api/`));
  if (!state) return moto;
  try {
    await motoApi(port, `seed?a=${SEED}`);
    if (state.restore && recordedRequests(state.dir) > 0) {
      // Replay sends every recorded request again, one by one; allow for a large recording.
      await motoApi(port, 'recorder/replay-recording', 30 * 60_000);
    }
    await motoApi(port, 'recorder/start-recording');
  } catch (error) {
    await moto.stop();
    throw error;
  }
  return moto;
}

/** True when a moto server answers on this port (used to reuse a running stack). */
export async function isMoto(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/moto-api/data.json`, {
      signal: AbortSignal.timeout(1500),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
