/**
 * Runs the `veil` command line as a user would, for the CLI tests on S3 (cp, ls, rewrap): a
 * process of bin/veil.mjs in a test folder, with the local stack's credentials, no region,
 * profile or endpoint from the machine's environment, and its resume records under `stateHome`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';

export const BIN = fileURLToPath(new URL('../../bin/veil.mjs', import.meta.url));

/** How one run ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment, the runner with extra variables, and the plain runner, for `cwd`. */
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
  const veilWith = (extra: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { cwd, env: veilEnv(extra), maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  const veil = (...args: string[]): Promise<Run> => veilWith({}, ...args);
  return { veilEnv, veilWith, veil };
}
