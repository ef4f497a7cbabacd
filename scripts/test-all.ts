/**
 * Runs the test plan (scripts/test-plan.ts, [Note: test plan]): `npm run test:parallel` with
 * several tasks at once, `npm test` with `--serial`, one task at a time in plan order (see
 * package.json). Each line of the tasks' output is prefixed with the task's name; then it prints
 * how long each task took and the closing count (scripts/test-summary.ts). Every task runs even
 * when another fails (except those that need a failed one), so one run shows every failure; the
 * exit status is 1 if any task failed, did not run, or the summary counts a failed test.
 *
 * `npm run test:parallel -- --cores N` schedules for N cores instead of the machine's count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  checkPlan,
  cpuSecondsFromTimes,
  E2E_REPORTS,
  TEST_PLAN,
  TIMED,
  tasksBlocked,
  tasksToStart,
  VITEST_REPORTS,
  type Task,
  type TaskState,
} from './test-plan';

function coresFromArgs(): number {
  // With 0 cores to share, a task starts only when nothing runs (see tasksToStart).
  if (process.argv.includes('--serial')) return 0;
  const index = process.argv.indexOf('--cores');
  if (index === -1) return availableParallelism();
  const cores = Number(process.argv[index + 1]);
  if (!(cores >= 1)) throw new Error('--cores needs a number of at least 1');
  return cores;
}

/** Writes a child's output line by line, each line prefixed with its task's name. */
function prefixLines(child: ChildProcess, name: string): void {
  const width = Math.max(...TEST_PLAN.map((task) => task.name.length));
  const label = `${name.padEnd(width)} | `;
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      if (lines.length > 0) out.write(lines.map((line) => label + line + '\n').join(''));
    });
    stream?.on('end', () => {
      if (pending) out.write(label + pending + '\n');
    });
  }
}

interface Timing {
  wallSeconds: number;
  cpuSeconds: number;
}

const cores = coresFromArgs();
checkPlan(TEST_PLAN);
// Reports of an earlier run must not be counted as this run's.
for (const report of [...Object.values(VITEST_REPORTS).flat(), ...E2E_REPORTS]) {
  rmSync(report, { force: true });
}

const states = new Map<string, TaskState>(TEST_PLAN.map((task) => [task.name, 'waiting']));
const timings = new Map<string, Timing>();
const children = new Set<ChildProcess>();
const startedAt = Date.now();

function log(line: string): void {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  console.log(`[npm test +${seconds}s] ${line}`);
}

function run(task: Task): Promise<void> {
  const name = task.name;
  states.set(name, 'running');
  log(`start ${name}`);
  const began = Date.now();
  const child = spawn(TIMED[0], [...TIMED.slice(1), ...task.command], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...task.env },
    // Its own process group, so that an interrupt reaches everything it started.
    detached: true,
  });
  children.add(child);
  prefixLines(child, name);
  let times = '';
  const timesStream = child.stdio[3];
  if (timesStream && 'setEncoding' in timesStream) {
    timesStream.setEncoding('utf8');
    timesStream.on('data', (chunk: string) => (times += chunk));
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      const passed = code === 0 && !signal;
      states.set(name, passed ? 'passed' : 'failed');
      const timing = {
        wallSeconds: (Date.now() - began) / 1000,
        cpuSeconds: cpuSecondsFromTimes(times),
      };
      timings.set(name, timing);
      log(`${passed ? 'passed' : 'FAILED'} ${name} in ${timing.wallSeconds.toFixed(0)} s`);
      resolve();
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) {
      if (child.pid) process.kill(-child.pid, signal);
    }
    process.exit(130);
  });
}

await new Promise<void>((done) => {
  const schedule = (): void => {
    let blocked = tasksBlocked(TEST_PLAN, states);
    while (blocked.length > 0) {
      for (const task of blocked) {
        states.set(task.name, 'not run');
        log(`not run ${task.name}: it needs ${task.needs.join(', ')}`);
      }
      blocked = tasksBlocked(TEST_PLAN, states);
    }
    for (const task of tasksToStart(TEST_PLAN, states, cores)) void run(task).then(schedule);
    if (![...states.values()].some((state) => state === 'waiting' || state === 'running')) done();
  };
  log(`running ${TEST_PLAN.length} tasks ${cores === 0 ? 'one at a time' : `on ${cores} cores`}`);
  schedule();
});

const wallSeconds = (Date.now() - startedAt) / 1000;
let cpuTotal = 0;
console.log('\ntask                  wall s   cpu s   result');
for (const task of TEST_PLAN) {
  const timing = timings.get(task.name);
  cpuTotal += timing?.cpuSeconds ?? 0;
  const wall = timing ? timing.wallSeconds.toFixed(0) : '-';
  const cpu = timing ? timing.cpuSeconds.toFixed(0) : '-';
  console.log(
    `${task.name.padEnd(20)} ${wall.padStart(7)} ${cpu.padStart(7)}   ${states.get(task.name)}`,
  );
}
console.log(
  `all tasks: ${wallSeconds.toFixed(0)} s wall, ${cpuTotal.toFixed(0)} s CPU ` +
    `(${(cpuTotal / wallSeconds).toFixed(2)} of ${availableParallelism()} cores busy on average)\n`,
);

const summary = spawn('tsx', ['scripts/test-summary.ts'], { stdio: 'inherit' });
const summaryCode = await new Promise<number>((resolve) =>
  summary.on('close', (code) => resolve(code ?? 1)),
);
const failed = TEST_PLAN.filter((task) => states.get(task.name) !== 'passed');
if (failed.length > 0) {
  console.error(`failed or not run: ${failed.map((task) => task.name).join(', ')}`);
}
process.exit(failed.length > 0 || summaryCode !== 0 ? 1 : 0);
