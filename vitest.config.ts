import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Two tiers run by `npm test` in order: unit (pure, fast) and integration (against the local
// services on free ports: one stack for the run, and stacks of their own for the files that
// need one).
export default defineConfig({
  test: {
    projects: [
      {
        // The Svelte plugin compiles the state classes (*.svelte.ts, runes) so their unit tests
        // run them as the app does.
        plugins: [svelte()],
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/proof/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/proof/integration/**/*.test.ts'],
          exclude: ['**/*.waits.test.ts'],
          // One local stack for the run, each file in a bucket of its own on it ([Note: one
          // stack per run] in tests/integration/support/shared-stack.ts).
          globalSetup: [
            'tests/integration/support/global-setup.ts',
            'tests/integration/support/shared-stack-setup.ts',
          ],
          environment: 'node',
          testTimeout: 120_000,
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // Files that mostly wait on a real clock (moto's 90 s credential expiry), run by
        // scripts/test-integration.ts in a second process beside the integration files, since
        // they hardly use a core.
        test: {
          name: 'integration-waits',
          include: ['tests/integration/**/*.waits.test.ts'],
          globalSetup: ['tests/integration/support/global-setup.ts'],
          environment: 'node',
          testTimeout: 150_000,
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
