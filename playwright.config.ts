import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './scripts/chromium';

/**
 * End-to-end tests in Debian's Chromium (Playwright cannot download its own browsers here),
 * against the production build served locally. The global setup starts the local stack on free
 * ports and serves dist/ with a config.json for it; the teardown stops everything.
 */

export default defineConfig({
  testDir: 'tests/e2e',
  globalSetup: './tests/e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: 'reports/e2e.json' }]],
  use: {
    headless: true,
    launchOptions: chromiumLaunchOptions(),
    trace: 'off',
  },
  outputDir: 'test-results',
});
