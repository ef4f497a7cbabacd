/**
 * What the benches read of Chromium from Linux's /proc: the resident memory and the CPU time of
 * this process's Chromium descendants (the browser, its GPU, network and renderer processes; the
 * page and its workers live in the renderer). CPU time is the figure a shared machine's load moves
 * least, so the benches report it per GiB beside their rates.
 */
import { readFile, readdir } from 'node:fs/promises';

/** One Chromium process: its parent, and what it uses. */
interface ChromiumProcess {
  readonly rssBytes: number;
  /** utime + stime, in clock ticks (100 per second on Linux). */
  readonly cpuTicks: number;
  readonly renderer: boolean;
}

/** Every process under /proc with its parent, and the Chromium ones with their figures. */
async function scan(): Promise<{
  parents: Map<number, number>;
  chromium: Map<number, ChromiumProcess>;
}> {
  const parents = new Map<number, number>();
  const chromium = new Map<number, ChromiumProcess>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name: state ppid ... utime(14) stime(15), counted from 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('chrom')) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      chromium.set(Number(entry), {
        rssBytes: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024,
        cpuTicks: Number(fields[11]) + Number(fields[12]),
        renderer: cmdline.includes('--type=renderer'),
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return { parents, chromium };
}

/** The Chromium processes that descend from `root` (default: this Node process). */
async function ours(root = process.pid): Promise<ChromiumProcess[]> {
  const { parents, chromium } = await scan();
  const found: ChromiumProcess[] = [];
  for (const [pid, figures] of chromium) {
    for (let at: number | undefined = pid; at; at = parents.get(at)) {
      if (at === root) {
        found.push(figures);
        break;
      }
    }
  }
  return found;
}

/**
 * Sum of VmRSS of this process's Chromium descendants (or those of `root`, one browser's own), in
 * bytes: all, and the renderers alone.
 */
export async function chromiumRssBytes(
  root?: number,
): Promise<{ total: number; renderer: number }> {
  let total = 0;
  let renderer = 0;
  for (const process of await ours(root)) {
    total += process.rssBytes;
    if (process.renderer) renderer += process.rssBytes;
  }
  return { total, renderer };
}

/**
 * CPU time used so far by this process's Chromium descendants (or those of `root`), in ms
 * (USER_HZ is 100).
 */
export async function chromiumCpuMs(root?: number): Promise<number> {
  let ticks = 0;
  for (const process of await ours(root)) ticks += process.cpuTicks;
  return ticks * 10;
}

/** The 1-minute load average, for the record of when a bench ran. */
export async function loadAverage(): Promise<number> {
  return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
}

/** Runs `measure` and returns its result with the Chromium CPU time it took, in ms. */
export async function withCpu<T>(measure: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = await chromiumCpuMs();
  const value = await measure();
  return { value, cpuMs: (await chromiumCpuMs()) - before };
}
