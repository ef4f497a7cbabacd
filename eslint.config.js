// @ts-check
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const tsProjects = ['./tsconfig.json', './tsconfig.core.json', './tsconfig.node.json'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.veil/',
      'test-results/',
      'playwright-report/',
      'reports/',
      'bin/',
      // infra/ is its own package (AWS CDK), checked by its own tsc in `npm run test:infra`.
      'infra/',
      'eslint.config.js',
      'svelte.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: {
        project: tsProjects,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { parser: tseslint.parser, project: tsProjects },
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['src/cli/**', 'server/**', 'scripts/**', 'tests/**', 'bench/**', '*.config.ts'],
    languageOptions: { globals: globals.node },
  },
  {
    // [Note: the pure core] src/core runs unchanged in a worker, the page and Node: it may import
    // only itself and the noble hash/curve libraries. tsconfig.core.json removes DOM and Node types.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.{1,2}/|@noble/(hashes|curves)(/|$))',
              message:
                'src/core is pure: only relative imports and @noble/* (see [Note: the pure core]).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'self',
          'postMessage',
          'fetch',
          'indexedDB',
          'localStorage',
          'sessionStorage',
          'XMLHttpRequest',
          'WebSocket',
          'importScripts',
          'location',
          'navigator',
          'process',
          'Buffer',
        ].map((name) => ({ name, message: 'src/core is pure (see [Note: the pure core]).' })),
      ],
    },
  },
);
