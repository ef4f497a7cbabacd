import { readdirSync } from 'node:fs';
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './scripts/chromium';
import { specsOfShard } from './tests/e2e/shards';

/**
 * End-to-end tests in Debian's Chromium (Playwright cannot download its own browsers here),
 * against the production build served locally. The global setup starts the local stack on free
 * ports and serves dist/ with a config.json for it; the teardown stops everything.
 *
 * `npm run test:e2e` (scripts/test-e2e.ts) runs the specs as shards in separate processes at the
 * same time, each with VEIL_E2E_SHARD=current/total: each shard runs its own global setup, so
 * its own stack and bucket, and writes its own report (reports/e2e-1.json, ...) and output
 * folder. Shards split the spec files by their measured duration, not Playwright's count of
 * tests ([Note: e2e shards by duration] in tests/e2e/shards.ts). Without the variable (`npx
 * playwright test tests/e2e/x.spec.ts`) one process runs everything it is given and reports to
 * reports/e2e.json.
 */

function shardFromEnv(): { current: number; total: number } | null {
  const value = process.env.VEIL_E2E_SHARD;
  if (!value) return null;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const current = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || current < 1 || current > total) {
    throw new Error(`VEIL_E2E_SHARD must be current/total, such as 1/2, not ${value}`);
  }
  return { current, total };
}

const shard = shardFromEnv();
const suffix = shard ? `-${shard.current}` : '';
const TEST_DIR = 'tests/e2e';

/** This shard's spec files, as patterns that match each path exactly (all specs without one). */
function shardSpecs(): RegExp[] | undefined {
  if (!shard) return undefined;
  const files = readdirSync(new URL(`./${TEST_DIR}/`, import.meta.url)).filter((name) =>
    name.endsWith('.spec.ts'),
  );
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return specsOfShard(files, shard.current, shard.total).map(
    (file) => new RegExp(`(^|[\\\\/])${escape(file)}$`),
  );
}
const specs = shardSpecs();

export default defineConfig({
  testDir: TEST_DIR,
  ...(specs ? { testMatch: specs } : {}),
  globalSetup: './tests/e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  // [Note: waits under load] `npm test` runs a shard beside the integration tests on two cores,
  // where an answer from moto, the HSM proxy or a worker has taken longer than Playwright's
  // default 5 s (a KMS DescribeKey, a listing after an upload). An expectation returns as soon as
  // it holds, so a longer wait costs a passing test nothing; waits for known slow work (uploads,
  // KMS, ZIPs) keep their own, longer, named timeouts in the specs.
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json', { outputFile: `reports/e2e${suffix}.json` }]],
  use: {
    headless: true,
    launchOptions: chromiumLaunchOptions(),
    trace: 'off',
  },
  outputDir: shard ? `test-results/shard-${shard.current}` : 'test-results',
});
