/**
 * Runs the `veil` command line as a user would, for the CLI tests on S3 (cp, ls, rewrap): in a
 * test folder, with the local stack's credentials, no region, profile or endpoint from the
 * machine's environment, and its resume records under `stateHome`. `veil` and `veilWith` run it
 * in this process (support/cli-in-process.ts); `veilSpawned` and `veilSpawnedWith` start a
 * process of bin/veil.mjs, for the tests about the process and the bundle ([Note: command line
 * in process]).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { veilInProcess } from './support/cli-in-process';

export const BIN = fileURLToPath(new URL('../../bin/veil.mjs', import.meta.url));

/** How one run ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/veil.mjs in `cwd` with `env`: how the process ended. */
export function spawnVeil(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

/** The environment, and runners in this process and spawned, with extra variables or not, for `cwd`. */
export function cliRunner(cwd: string, stateHome: string) {
  const veilEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    AWS_PROFILE: '',
    AWS_ENDPOINT_URL: '',
    AWS_ENDPOINT_URL_S3: '',
    XDG_STATE_HOME: stateHome,
    ...extra,
  });
  const veilWith = async (extra: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> => {
    const run = await veilInProcess(args, cwd, veilEnv(extra));
    return { code: run.code, stdout: run.stdout.toString('utf8'), stderr: run.stderr };
  };
  const veil = (...args: string[]): Promise<Run> => veilWith({}, ...args);
  const veilSpawnedWith = (extra: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> =>
    spawnVeil(cwd, veilEnv(extra), args);
  const veilSpawned = (...args: string[]): Promise<Run> => veilSpawnedWith({}, ...args);
  return { veilEnv, veilWith, veil, veilSpawnedWith, veilSpawned };
}
