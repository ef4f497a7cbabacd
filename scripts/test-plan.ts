/**
 * What `npm test` runs and in which order (scripts/test-all.ts runs it): every check, build and
 * test tier (npm scripts, and the end-to-end shards), each with the tasks it needs first and the
 * cores it keeps busy.
 *
 * [Note: test plan] A task starts once the tasks it needs have passed and the cores it claims
 * are free, taking tasks in the order listed. The claims say what a task keeps busy on two cores:
 * the builds, the checks, the unit tests (Vitest gives them one worker on two cores) and the CDK
 * synth a core each; the integration tests mostly wait on the local services and real clocks;
 * an end-to-end shard drives Chromium, whose page and encryption workers use more than a core at
 * moments, but waits on moto and the HSM proxy between them. Both shards and the integration
 * tests claim half a core each, so they start together and the rest fills in as they end: a
 * core shared a little too much costs less than one left idle. The end-to-end shards are listed
 * first, as the longest chain; the unit tests next, as the longest one-core task, so the checks
 * run beside them rather than after. On more cores more runs at once; on one, one at a time.
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
  /** Cores it keeps busy while it runs, measured: 1 for CPU-bound, 0.5 for mostly waiting. */
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
    cores: 0.5,
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
  ...Array.from({ length: E2E_SHARDS }, (_, index) => e2eShard(index + 1)),
  npmScript('build:cli', [], 1),
  npmScript('test:integration', ['build:cli'], 0.5),
  npmScript('test:unit', ['build:cli'], 1),
  npmScript('check:types', [], 1),
  npmScript('check:lint', [], 1),
  npmScript('check:format', [], 1),
  npmScript('test:infra', [], 1),
];

/**
 * The tasks to start now, in plan order: those still waiting whose needs have all passed and
 * whose cores fit beside the running ones within `coresTotal`. With nothing running, the first
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
    if (running && busy + task.cores > coresTotal) continue;
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
