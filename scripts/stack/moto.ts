/**
 * moto, the local stand-in for S3, KMS and Cognito: `python -m moto.server` on 127.0.0.1.
 * moto keeps whole objects in memory (about 5 GB for a 1 GiB upload): keep test objects small.
 */
import { spawnSync } from 'node:child_process';
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

/** @throws StackError with the install command when Python or moto's server is missing. */
export function checkMoto(): void {
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
}

/** Starts moto on 127.0.0.1:port and waits until it answers. */
export async function startMoto(port: number): Promise<Managed> {
  checkMoto();
  await assertPortFree(port, 'moto');
  const moto = startProcess(
    'moto',
    python(),
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    {
      ...process.env,
      // Cognito identity pool credentials from moto expire after 90 s, like short AWS sessions.
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    },
  );
  return startedWhenReady(moto, 'moto', () => httpOk(`http://127.0.0.1:${port}/moto-api/`));
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
