/**
 * Runs the `veil` command line inside the test process: src/cli/main.ts's runCommandLine, the
 * function the `veil` process runs (bin/veil.mjs, runProgram), with the working folder, the
 * environment, stdin, stdout and stderr a spawned `veil` would have, so a test that needs only a
 * command's output and exit status does not pay a Node start and the bundle's load (about 0.6 s
 * of CPU each; [Note: command line in process]).
 *
 * [Note: command line in process] What a spawned `veil` adds, and where the tests keep it: the
 * signal handlers (Ctrl-C, SIGTERM: exit 130/143 and the outputs removed), the exit of the
 * process itself, stdin, stdout as a pipe, and the bundle. Tests about those spawn bin/veil.mjs
 * (cli-runner.ts `veilSpawned`, and the files that spawn on their own), and every command keeps
 * at least one spawned test. In process, one command runs at a time: the working folder,
 * process.env and the standard streams are the process's own, swapped for the run and put back
 * after it; stdin is empty and not a terminal, stdout and stderr are pipes that are not
 * terminals, as under execFile.
 */
import { Console } from 'node:console';
import { Readable, Writable } from 'node:stream';
import { runCommandLine } from '../../../src/cli/main';

/** How one run ended, stdout as bytes. */
export interface InProcessRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** A writable that keeps what it is given; not a terminal, like a pipe. */
function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, encoding, done) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk));
      done();
    },
  });
}

const STREAMS = ['stdin', 'stdout', 'stderr'] as const;

/** Runs with process.stdin, stdout and stderr replaced, then puts the process's own back. */
async function withStreams<T>(
  streams: Record<(typeof STREAMS)[number], Readable | Writable>,
  body: () => Promise<T>,
): Promise<T> {
  const own = STREAMS.map(
    (name) => [name, Object.getOwnPropertyDescriptor(process, name)] as const,
  );
  for (const name of STREAMS) {
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: true,
      get: () => streams[name],
    });
  }
  try {
    return await body();
  } finally {
    for (const [name, descriptor] of own) {
      if (descriptor) Object.defineProperty(process, name, descriptor);
    }
  }
}

async function runNow(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<InProcessRun> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const ownCwd = process.cwd();
  const ownEnv = process.env;
  process.chdir(cwd);
  // Exactly this environment, as execFile's `env` gives a child: nothing of the test process's.
  process.env = { ...env };
  const out = collector(stdout);
  const err = collector(stderr);
  // The test runner's console reports elsewhere; a process's writes to stdout and stderr.
  const ownConsole = globalThis.console;
  globalThis.console = new Console({ stdout: out, stderr: err });
  let code: number;
  try {
    code = await withStreams({ stdin: Readable.from([]), stdout: out, stderr: err }, () =>
      runCommandLine(argv),
    );
  } finally {
    globalThis.console = ownConsole;
    process.env = ownEnv;
    process.chdir(ownCwd);
  }
  return { code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `veil ...argv` in this process in `cwd` with exactly `env`, after any run still going
 * (one at a time: see [Note: command line in process]).
 */
export function veilInProcess(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<InProcessRun> {
  const result = queue.then(() => runNow(argv, cwd, env));
  queue = result.catch(() => undefined);
  return result;
}
