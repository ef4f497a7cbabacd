/**
 * Watches the stack's child processes for `npm start`: when one exits on its own, says which one,
 * how (exit code or signal) and what happens next, and restarts it after a backoff. A service
 * that keeps dying soon after each start is given up on, with its last output.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Managed } from './process';

/** A child process the supervisor can restart. */
export interface Service {
  /** Name used in messages ("the HSM proxy", "moto"). */
  label: string;
  current(): Managed;
  /**
   * Starts a new process in place of the dead one; resolves once it is ready, with a sentence
   * for the terminal about what was restored.
   */
  restart(): Promise<{ managed: Managed; detail: string }>;
}

export type ServiceStatus = 'running' | 'restarting' | 'gave-up';

export interface SuperviseOptions {
  /** Prints one message (a line or a few); default: console.error. */
  report?: (message: string) => void;
  /** Called after each change of a service's status (e.g. to update the lock file). */
  onChange?: (label: string, status: ServiceStatus, pid: number | undefined) => void;
  /** First restart delay; it doubles for each fast crash in a row, up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A process that dies within this long of becoming ready counts as a fast crash. */
  fastCrashMs?: number;
  /** Restarts allowed after fast crashes in a row; the next fast crash gives up. */
  maxFastCrashes?: number;
}

export interface Supervisor {
  status(label: string): ServiceStatus | undefined;
  /** Stops watching (call before stopping the services, so their exits are not restarted). */
  stop(): void;
}

function how(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
}

export function supervise(services: Service[], o: SuperviseOptions = {}): Supervisor {
  const report = o.report ?? ((message: string) => console.error(message));
  const firstDelayMs = o.firstDelayMs ?? 500;
  const maxDelayMs = o.maxDelayMs ?? 8000;
  const fastCrashMs = o.fastCrashMs ?? 15_000;
  const maxFastCrashes = o.maxFastCrashes ?? 5;
  const statuses = new Map<string, ServiceStatus>();
  let stopped = false;

  const watch = (service: Service, fastCrashes: number): void => {
    const managed = service.current();
    const readyAtMs = Date.now();
    statuses.set(service.label, 'running');
    o.onChange?.(service.label, 'running', managed.child.pid);
    managed.child.once('exit', (code, signal) => {
      if (stopped) return;
      void recover(service, managed, readyAtMs, fastCrashes, how(code, signal));
    });
  };

  const recover = async (
    service: Service,
    dead: Managed,
    readyAtMs: number,
    fastCrashes: number,
    exit: string,
  ): Promise<void> => {
    let crashes = Date.now() - readyAtMs < fastCrashMs ? fastCrashes + 1 : 1;
    let what = `${service.label} (process ${String(dead.child.pid)}) ${exit}`;
    statuses.set(service.label, 'restarting');
    o.onChange?.(service.label, 'restarting', undefined);
    for (;;) {
      if (crashes > maxFastCrashes) {
        // 'exit' can come before the last output lines: give them a moment.
        await Promise.race([once(dead.child, 'close'), sleep(1000)]);
        statuses.set(service.label, 'gave-up');
        o.onChange?.(service.label, 'gave-up', undefined);
        report(
          [
            `\n[veil] ${what}.`,
            `[veil] ${service.label} died ${crashes} times in a row within ${fastCrashMs / 1000} s of starting; not restarting it again.`,
            ...(dead.log.length ? ['[veil] Its last output:', ...dead.log.slice(-10)] : []),
            `[veil] Fix the cause, then stop Veil (Ctrl-C) and run npm start again.`,
          ].join('\n'),
        );
        return;
      }
      const delayMs = Math.min(firstDelayMs * 2 ** (crashes - 1), maxDelayMs);
      report(
        `\n[veil] ${what}; restarting it in ${(delayMs / 1000).toFixed(1)} s (attempt ${crashes} of ${maxFastCrashes}).`,
      );
      await sleep(delayMs);
      if (stopped) return;
      try {
        const { managed, detail } = await service.restart();
        if (stopped) {
          await managed.stop();
          return;
        }
        report(`[veil] ${service.label} is back (process ${String(managed.child.pid)}). ${detail}`);
        watch(service, crashes);
        return;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        what = `${service.label} did not start again: ${reason}`;
        crashes += 1;
      }
    }
  };

  for (const service of services) watch(service, 0);
  return {
    status: (label) => statuses.get(label),
    stop: () => {
      stopped = true;
    },
  };
}
