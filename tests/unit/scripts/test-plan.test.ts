/**
 * The scheduling of `npm test` ([Note: test plan]): which tasks start, given what runs, what
 * passed and the cores there are; which can never start; and the plan's own checks. Each case
 * is one a wrong scheduler would get wrong: starting a task before what it needs, oversubscribing
 * the cores, waiting for cores that do not exist, or running a task after a failure it needs.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import {
  checkPlan,
  cpuSecondsFromTimes,
  E2E_REPORTS,
  E2E_SHARDS,
  TEST_PLAN,
  TIMED,
  tasksBlocked,
  tasksToStart,
  type Task,
  type TaskState,
} from '../../../scripts/test-plan';

function task(name: string, cores: number, needs: string[] = []): Task {
  return { name, command: ['true'], needs, cores };
}

const plan: Task[] = [
  task('build', 1),
  task('e2e 1/2', 0.5, ['build']),
  task('e2e 2/2', 0.5, ['build']),
  task('lint', 1),
  task('unit', 1, ['lint']),
];

function states(entries: Record<string, TaskState>): Map<string, TaskState> {
  return new Map(plan.map((t) => [t.name, entries[t.name] ?? 'waiting']));
}

const names = (tasks: Task[]): string[] => tasks.map((t) => t.name);

describe('tasksToStart', () => {
  test('at the start, tasks without needs fill the cores in plan order', () => {
    expect(names(tasksToStart(plan, states({}), 2))).toEqual(['build', 'lint']);
  });

  test('a task does not start before what it needs has passed', () => {
    expect(names(tasksToStart(plan, states({ build: 'running', lint: 'running' }), 4))).toEqual([]);
    expect(names(tasksToStart(plan, states({ build: 'failed', lint: 'passed' }), 4))).toEqual([
      'unit',
    ]);
  });

  test('the running tasks claim their cores: two half-core tasks fit in one free core', () => {
    const now = states({ build: 'passed', lint: 'running' });
    expect(names(tasksToStart(plan, now, 2))).toEqual(['e2e 1/2', 'e2e 2/2']);
    expect(names(tasksToStart(plan, now, 1))).toEqual([]);
  });

  test('a ready task that waits for cores holds back the tasks after it', () => {
    const wide = [task('other', 1), task('big', 2), task('small', 0.5)];
    const now = new Map<string, TaskState>([['other', 'running']]);
    expect(names(tasksToStart(wide, now, 2))).toEqual([]);
    expect(names(tasksToStart(wide, new Map([['other', 'passed']]), 2))).toEqual(['big']);
    // A task that is not ready (its needs have not passed) holds back nothing.
    const gated = [task('other', 1), task('later', 2, ['other']), task('small', 0.5)];
    expect(names(tasksToStart(gated, now, 2))).toEqual(['small']);
  });

  test('on two cores the plan runs the integration tests beside one end-to-end shard only', () => {
    const ready = new Map<string, TaskState>([
      ['build', 'passed'],
      ['build:cli', 'passed'],
    ]);
    const first = names(tasksToStart(TEST_PLAN, ready, 2));
    expect(first).toEqual(['e2e 1/2', 'test:integration']);
    const later = new Map<string, TaskState>([
      ...ready,
      ['e2e 1/2', 'passed'],
      ['test:integration', 'running'],
    ]);
    expect(names(tasksToStart(TEST_PLAN, later, 2))).toEqual(['e2e 2/2']);
    const last = new Map<string, TaskState>([
      ...ready,
      ['e2e 1/2', 'passed'],
      ['test:integration', 'passed'],
      ['e2e 2/2', 'running'],
    ]);
    expect(names(tasksToStart(TEST_PLAN, last, 2))).toEqual(['test:unit']);
    // Integration tests that outlast both shards have the unit tests beside them.
    const slow = new Map<string, TaskState>([
      ...ready,
      ['e2e 1/2', 'passed'],
      ['e2e 2/2', 'passed'],
      ['test:integration', 'running'],
    ]);
    expect(names(tasksToStart(TEST_PLAN, slow, 2))).toEqual(['test:unit']);
  });

  test('with no cores to share (--serial), one task at a time in plan order', () => {
    expect(names(tasksToStart(plan, states({}), 0))).toEqual(['build']);
    expect(names(tasksToStart(plan, states({ build: 'running' }), 0))).toEqual([]);
    expect(names(tasksToStart(plan, states({ build: 'passed' }), 0))).toEqual(['e2e 1/2']);
  });

  test('with nothing running, a task starts even if it claims more cores than there are', () => {
    expect(names(tasksToStart([task('big', 4), task('next', 1)], new Map(), 2))).toEqual(['big']);
  });
});

describe('tasksBlocked', () => {
  test('tasks that need a failed or not-run task can never start', () => {
    expect(names(tasksBlocked(plan, states({ build: 'failed' })))).toEqual(['e2e 1/2', 'e2e 2/2']);
    expect(names(tasksBlocked(plan, states({ lint: 'not run' })))).toEqual(['unit']);
    expect(names(tasksBlocked(plan, states({ build: 'running', lint: 'passed' })))).toEqual([]);
  });
});

describe('checkPlan', () => {
  test('the plan npm test runs is valid, has every tier and one report per shard', () => {
    expect(() => checkPlan(TEST_PLAN)).not.toThrow();
    const all = TEST_PLAN.map((t) => t.name);
    for (const name of ['check:format', 'check:lint', 'check:types', 'build:cli', 'build']) {
      expect(all).toContain(name);
    }
    for (const name of ['test:unit', 'test:integration', 'test:infra']) expect(all).toContain(name);
    const shards = TEST_PLAN.filter((t) => t.env?.VEIL_E2E_SHARD);
    expect(shards.map((t) => t.env?.VEIL_E2E_SHARD)).toEqual(
      Array.from({ length: E2E_SHARDS }, (_, i) => `${i + 1}/${E2E_SHARDS}`),
    );
    expect(E2E_REPORTS).toHaveLength(E2E_SHARDS);
  });

  test('rejects a name twice, a need that is not before it, and a claim of no cores', () => {
    expect(() => checkPlan([task('a', 1), task('a', 1)])).toThrow(/twice/);
    expect(() => checkPlan([task('a', 1, ['b']), task('b', 1)])).toThrow(/needs b/);
    expect(() => checkPlan([task('a', 0)])).toThrow(/more than 0 cores/);
  });
});

describe('the CPU time of a task', () => {
  test("reads the children's user and system time from bash's times", () => {
    expect(cpuSecondsFromTimes('0m0.010s 0m0.020s\n1m2.500s 0m0.250s\n')).toBeCloseTo(62.75);
    expect(cpuSecondsFromTimes('')).toBe(0);
  });

  test('the timed command keeps its exit status and output, and counts what it computed', () => {
    // About 0.3 s of CPU in a child, then exit 3.
    const busy = 'let x = 0; const end = process.cpuUsage().user + 300000;';
    const loop = 'while (process.cpuUsage().user < end) x++; console.log("out"); process.exit(3);';
    const run = spawnSync(TIMED[0], [...TIMED.slice(1), process.execPath, '-e', busy + loop], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('out\n');
    const times = String(run.output[3] ?? '');
    expect(cpuSecondsFromTimes(times)).toBeGreaterThanOrEqual(0.3);
  });
});
