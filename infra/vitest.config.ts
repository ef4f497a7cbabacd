import { defineConfig } from 'vitest/config';

// The stack's assertion tests: offline, no AWS account, no Docker.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
