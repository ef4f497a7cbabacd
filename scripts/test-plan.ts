/**
 * What `npm test` runs and in which order (scripts/test-all.ts runs it): every check, build and
 * test tier (npm scripts, and the end-to-end shards), each with the tasks it needs first and the
 * cores it keeps busy.
 *
 * [Note: test plan] A task starts once the tasks it needs have passed and the cores it claims
 * are free, in the order listed: a ready task that waits for cores holds back the ones after it,
 * so a short task cannot take the cores a long one waits for. The claims are what a task keeps
 * busy, measured on two cores (CPU seconds over wall seconds, scripts/test-all.ts prints both):
 * an end-to-end shard 0.75 (Chromium computes in bursts and waits on moto and the HSM proxy
 * between them); the integration tests measured 1.2 (the spawned `veil` processes, moto, the
 * HSM proxy) and claim 1, so that when they outlast the shards the unit tests start beside
 * them; the unit tests, the checks, the builds and the CDK synth one each. So on two cores the
 * integration tests, the longest task, run beside one end-to-end shard at a time and no more
 * (beside both shards they took 1,102 s instead of 444 s, and an end-to-end test failed that
 * passes alone); the unit tests follow beside the second shard, and the checks fill in as those
 * end.
 * On more cores more runs at once; with --serial, one at a time.
 */

/** One step of `npm test`. */
export interface Task {
  /** Its name: the npm script it runs, or `e2e 1/2` for an end-to-end shard. */
  name: string;
  /** The command and its arguments. */
  command: readonly string[];
  /** Variables added to the environment. */
  env?: Readonly<Record<string, string>>;
  /** Tasks that must have passed before it starts. */
  needs: readonly string[];
  /** Cores it keeps busy while it runs, measured: CPU seconds over wall seconds, roughly. */
  cores: number;
}

/** Where a task is. */
export type TaskState = 'waiting' | 'running' | 'passed' | 'failed' | 'not run';

/** The end-to-end shards `npm test` runs, one Playwright process each. */
export const E2E_SHARDS = 2;

function npmScript(name: string, needs: readonly string[], cores: number): Task {
  return { name, command: ['npm', 'run', '--silent', name], needs, cores };
}

/**
 * Shard `current` of the end-to-end specs against the built app in dist/ (playwright.config.ts
 * reads VEIL_E2E_SHARD).
 */
function e2eShard(current: number): Task {
  const shard = `${current}/${E2E_SHARDS}`;
  return {
    name: `e2e ${shard}`,
    command: ['npx', 'playwright', 'test'],
    env: { VEIL_E2E_SHARD: shard },
    needs: ['build'],
    cores: 0.75,
  };
}

/** The reports of the Vitest tiers, as their npm scripts write them. */
export const VITEST_REPORTS = {
  unit: ['reports/unit.json'],
  integration: ['reports/integration.json', 'reports/integration-waits.json'],
  infra: ['reports/infra.json'],
} as const;

/** The end-to-end shards' reports (playwright.config.ts names them after VEIL_E2E_SHARD). */
export const E2E_REPORTS = Array.from(
  { length: E2E_SHARDS },
  (_, index) => `reports/e2e-${index + 1}.json`,
);

/** The plan, in the order tasks start when cores allow. */
export const TEST_PLAN: readonly Task[] = [
  npmScript('build', [], 1),
  npmScript('build:cli', [], 1),
  e2eShard(1),
  npmScript('test:integration', ['build:cli'], 1),
  ...Array.from({ length: E2E_SHARDS - 1 }, (_, index) => e2eShard(index + 2)),
  npmScript('test:unit', ['build:cli'], 1),
  npmScript('check:types', [], 1),
  npmScript('check:lint', [], 1),
  npmScript('check:format', [], 1),
  npmScript('test:infra', [], 1),
];

/**
 * The command run through bash so that its CPU time can be read: bash's `times` prints, on its
 * second line, the user and system time of every child it waited for (and theirs), here on
 * file descriptor 3 (closed for the command itself). Each task gets its own figure even when several run at once.
 */
export const TIMED = ['bash', '-c', '"$@" 3>&-; code=$?; times >&3; exit $code', 'task'] as const;

/** CPU seconds from the output of bash's `times` (its second line: children's user, system). */
export function cpuSecondsFromTimes(output: string): number {
  const line = output.trim().split('\n')[1] ?? '';
  const seconds = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map(
    (match) => Number(match[1]) * 60 + Number(match[2]),
  );
  return seconds.length === 2 ? (seconds[0] ?? 0) + (seconds[1] ?? 0) : 0;
}

/**
 * The tasks to start now, in plan order: those still waiting whose needs have all passed and
 * whose cores fit beside the running ones within `coresTotal`, up to the first ready task that
 * does not fit (it starts next, before any task after it). With nothing running, the first
 * ready task starts whatever it claims, so a task never waits for cores that do not exist.
 */
export function tasksToStart(
  plan: readonly Task[],
  states: ReadonlyMap<string, TaskState>,
  coresTotal: number,
): Task[] {
  let busy = plan
    .filter((task) => states.get(task.name) === 'running')
    .reduce((sum, task) => sum + task.cores, 0);
  let running = plan.some((task) => states.get(task.name) === 'running');
  const start: Task[] = [];
  for (const task of plan) {
    if ((states.get(task.name) ?? 'waiting') !== 'waiting') continue;
    if (!task.needs.every((need) => states.get(need) === 'passed')) continue;
    if (running && busy + task.cores > coresTotal) break;
    start.push(task);
    busy += task.cores;
    running = true;
  }
  return start;
}

/**
 * The waiting tasks that can never start because a task they need (directly or not) failed or
 * did not run, in plan order.
 */
export function tasksBlocked(
  plan: readonly Task[],
  states: ReadonlyMap<string, TaskState>,
): Task[] {
  return plan.filter(
    (task) =>
      (states.get(task.name) ?? 'waiting') === 'waiting' &&
      task.needs.some((need) => {
        const state = states.get(need);
        return state === 'failed' || state === 'not run';
      }),
  );
}

/** Checks the plan: unique names, needs that name earlier tasks, positive core claims. */
export function checkPlan(plan: readonly Task[]): void {
  const seen = new Set<string>();
  for (const task of plan) {
    if (seen.has(task.name)) throw new Error(`${task.name} is in the test plan twice`);
    for (const need of task.needs) {
      if (!seen.has(need)) throw new Error(`${task.name} needs ${need}, which is not before it`);
    }
    if (!(task.cores > 0)) throw new Error(`${task.name} must claim more than 0 cores`);
    seen.add(task.name);
  }
}
