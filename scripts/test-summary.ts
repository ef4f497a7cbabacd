/**
 * Prints one closing line for `npm test` from the reports each tier wrote to reports/:
 * "N passed, N failed, N skipped" over unit, integration, infrastructure and end-to-end tests.
 */
import { readFileSync } from 'node:fs';

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

function sum(a: Counts, b: Counts): Counts {
  return {
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
  };
}

const tiers: [string, Counts][] = [
  ['unit', vitest('reports/unit.json')],
  [
    'integration',
    sum(vitest('reports/integration.json'), vitest('reports/integration-waits.json')),
  ],
  ['infra', vitest('reports/infra.json')],
  ['e2e', playwright('reports/e2e.json')],
];
const total = tiers.reduce(
  (sum, [, c]) => ({
    passed: sum.passed + c.passed,
    failed: sum.failed + c.failed,
    skipped: sum.skipped + c.skipped,
  }),
  { passed: 0, failed: 0, skipped: 0 },
);
for (const [name, c] of tiers)
  console.log(`  ${name.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
if (total.passed === 0) {
  console.log('no test ran');
  process.exit(1);
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
