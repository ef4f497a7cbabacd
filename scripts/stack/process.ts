/**
 * Child processes of the local stack: spawn, wait until ready, stop (the whole process group),
 * and free ports on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A prerequisite or service problem, with the exact command that fixes it when there is one. */
export class StackError extends Error {
  override readonly name = 'StackError';
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}\n  Fix: ${fix}` : message);
  }
}

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Recent output lines, for error messages when the process dies. */
  log: string[];
  stop(): Promise<void>;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// Children run in their own process groups, so a terminal's Ctrl-C does not reach them and
// stop() ends them in order. If this process exits without stopping them (a crash, a lost
// terminal), this last handler kills what is left: the stack never outlives its starter.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Starts a long-running child in its own process group, keeping its last output lines. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Managed {
  const child = spawn(command, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const log: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) log.push(line);
    }
    if (log.length > 40) log.splice(0, log.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  return {
    name,
    child,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const group = -(child.pid ?? 0);
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        return;
      }
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await exited;
      }
    },
  };
}

/**
 * Polls `check` until it resolves true; fails early when the process exits.
 * @throws StackError after `timeoutMs`, with the process's last output.
 */
/** Waits until `managed` is ready; stops it (and rethrows) when it never gets there. */
export async function startedWhenReady(
  managed: Managed,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs?: number,
): Promise<Managed> {
  try {
    await waitUntil(managed, what, check, timeoutMs);
    return managed;
  } catch (error) {
    await managed.stop();
    throw error;
  }
}

/**
 * @throws StackError when something already listens on 127.0.0.1:port, naming what it is for.
 */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (!free) {
    throw new StackError(
      `port ${port} (for ${what}) is already in use, perhaps by an earlier run that did not stop.`,
      `stop that process (\`fuser -k ${port}/tcp\`), or choose other ports with VEIL_*_PORT`,
    );
  }
}

export async function waitUntil(
  managed: Managed | undefined,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (managed && (managed.child.exitCode !== null || managed.child.signalCode !== null)) {
      throw new StackError(`${what} exited during start:\n${managed.log.slice(-15).join('\n')}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(150);
  }
  throw new StackError(
    `${what} did not become ready in ${timeoutMs / 1000} s${managed ? `:\n${managed.log.slice(-15).join('\n')}` : ''}`,
  );
}

/** True when an HTTP GET of `url` answers with a status below 500 (or the given predicate). */
export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status < 500;
}
