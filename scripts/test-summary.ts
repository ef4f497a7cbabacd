/**
 * Prints one closing line for `npm test` from the reports each tier wrote to reports/:
 * "N passed, N failed, N skipped" over unit, integration, infrastructure and end-to-end tests
 * (the end-to-end shards' reports summed). A missing report fails the run: its tier did not
 * finish.
 */
import { existsSync, readFileSync } from 'node:fs';
import { E2E_REPORTS, VITEST_REPORTS } from './test-plan';

type Counts = { passed: number; failed: number; skipped: number };

function vitest(file: string): Counts {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  return {
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: r.numPendingTests + r.numTodoTests,
  };
}

function playwright(file: string): Counts {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  };
  return {
    passed: r.stats.expected + r.stats.flaky,
    failed: r.stats.unexpected,
    skipped: r.stats.skipped,
  };
}

function sum(counts: Counts[]): Counts {
  return counts.reduce(
    (a, b) => ({
      passed: a.passed + b.passed,
      failed: a.failed + b.failed,
      skipped: a.skipped + b.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

const missing: string[] = [];

/** The counts of the reports that exist; the others are noted as missing. */
function tier(files: readonly string[], read: (file: string) => Counts): Counts {
  return sum(
    files.flatMap((file) => {
      if (existsSync(file)) return [read(file)];
      missing.push(file);
      return [];
    }),
  );
}

const tiers: [string, Counts][] = [
  ['unit', tier(VITEST_REPORTS.unit, vitest)],
  ['integration', tier(VITEST_REPORTS.integration, vitest)],
  ['infra', tier(VITEST_REPORTS.infra, vitest)],
  ['e2e', tier(E2E_REPORTS, playwright)],
];
const total = sum(tiers.map(([, c]) => c));
for (const [name, c] of tiers)
  console.log(`  ${name.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
if (missing.length > 0) console.log(`missing reports (tier did not finish): ${missing.join(', ')}`);
if (total.passed === 0) {
  console.log('no test ran');
  process.exit(1);
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || missing.length > 0 ? 1 : 0);
