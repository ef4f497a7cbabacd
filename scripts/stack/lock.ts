/**
 * The lock file of `npm start` (`<state dir>/stack.json`) and what a second start makes of it.
 * "Already running" is said only when the recorded process is a live `npm start` whose app, moto
 * and HSM proxy answer (or whose supervisor is restarting one). A lock whose process is gone is
 * stale: its leftover services are stopped and the start goes on. A live process whose services
 * are dead and not being restarted is stopped, and the start goes on afresh.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { HSM_ROUTES } from '../../src/keyrings/hsm-api';
import { isMoto } from './moto';
import { httpOk } from './process';
import type { ServiceStatus } from './supervise';

export interface Lock {
  pid: number;
  summary: string;
  ports?: { app: number; moto: number; hsm: number };
  /** By service label, as the supervisor last reported it. */
  services: Record<string, { status: ServiceStatus; pid?: number }>;
}

export interface LockVerdict {
  /** True when the recorded stack is running: do not start another. */
  running: boolean;
  /** True when the recorded run ended without its own clean stop (its moto recording is kept). */
  unclean: boolean;
  message: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command line of a live process, or '' (gone, or `ps` unavailable). */
function commandOf(pid: number): string {
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 ? ps.stdout.trim() : '';
}

/** Ends a process (or the process group it leads), politely first. */
async function end(pid: number, o: { group: boolean; timeoutMs: number }): Promise<void> {
  const target = o.group ? -pid : pid;
  try {
    process.kill(target, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + o.timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // Gone.
  }
}

/** Stops services a dead `npm start` left behind, when their pid still runs the same program. */
async function stopLeftovers(lock: Lock): Promise<string[]> {
  const stopped: string[] = [];
  for (const [label, service] of Object.entries(lock.services)) {
    if (!service.pid || !alive(service.pid)) continue;
    if (!/moto-server\.py|moto\.server|hsm-proxy\/src\/main\.ts/.test(commandOf(service.pid))) {
      continue;
    }
    await end(service.pid, { group: true, timeoutMs: 5000 });
    stopped.push(`${label} (process ${service.pid})`);
  }
  return stopped;
}

/** "a", "a and b", "a, b and c". */
function list(items: string[]): string {
  return items.length > 1
    ? `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`
    : items.join('');
}

async function deadServices(lock: Lock): Promise<string[]> {
  if (!lock.ports) return [];
  const { app, moto, hsm } = lock.ports;
  const answers = async (check: () => Promise<boolean>): Promise<boolean> =>
    check().catch(() => false);
  const dead: string[] = [];
  if (!(await answers(() => isMoto(moto)))) dead.push('moto');
  if (!(await answers(() => httpOk(`http://127.0.0.1:${hsm}${HSM_ROUTES.health.path}`)))) {
    dead.push('the HSM proxy');
  }
  if (!(await answers(() => httpOk(`http://127.0.0.1:${app}/`)))) dead.push('the app server');
  return dead;
}

/**
 * Decides what a start does with an existing lock file's `text`; stops a stale stack's leftovers
 * or a broken stack's process on the way.
 */
export async function checkLock(text: string): Promise<LockVerdict> {
  let lock: Lock;
  try {
    lock = { services: {}, ...(JSON.parse(text) as Partial<Lock>) } as Lock;
    if (!Number.isInteger(lock.pid)) throw new Error('no pid');
  } catch {
    return {
      running: false,
      unclean: false,
      message: 'The lock file is unreadable; starting afresh.',
    };
  }
  const isVeil = alive(lock.pid) && commandOf(lock.pid).includes('start.ts');
  if (!isVeil) {
    const leftovers = await stopLeftovers(lock);
    return {
      running: false,
      unclean: true,
      message: [
        `A lock file names Veil process ${lock.pid}, which is no longer running (it did not stop cleanly); starting afresh.`,
        ...(leftovers.length ? [`Stopped what it left running: ${leftovers.join(', ')}.`] : []),
      ].join('\n'),
    };
  }
  const dead = await deadServices(lock);
  const restarting = dead.filter((label) => lock.services[label]?.status === 'restarting');
  const broken = dead.filter((label) => !restarting.includes(label));
  const running = `already running as process ${lock.pid}; stop it with Ctrl-C in its terminal`;
  if (broken.length === 0) {
    const note = restarting.length
      ? `; ${list(restarting)} died and ${restarting.length > 1 ? 'are' : 'is'} being restarted, see its terminal`
      : '';
    return { running: true, unclean: false, message: `${lock.summary}\n  (${running}${note})\n` };
  }
  // Its own Ctrl-C path: stops its services and removes the lock.
  await end(lock.pid, { group: false, timeoutMs: 20_000 });
  const leftovers = await stopLeftovers(lock);
  return {
    running: false,
    unclean: true,
    message: [
      `Veil process ${lock.pid} was running, but ${list(broken)} did not answer and ${broken.length > 1 ? 'were' : 'was'} not being restarted: stopped it, starting afresh.`,
      ...(leftovers.length ? [`Stopped what it left running: ${leftovers.join(', ')}.`] : []),
    ].join('\n'),
  };
}
