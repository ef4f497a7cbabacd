// @ts-check
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const tsProjects = ['./tsconfig.json', './tsconfig.core.json', './tsconfig.node.json'];

// [Note: the layers] Which folder may import which (docs/architecture.md draws it):
//   core <- keyrings, transfer (+ workers) <- aws <- hosting <- state <- views; the CLI beside state.
// Each entry lists what a folder's files may import besides themselves, as path fragments under
// src/. A relative import that leaves the folder for anything else fails `no-restricted-imports`.
// workers/ and transfer/ meet at one seam only: the worker forwards to transfer's frame-level
// functions, and transfer's pool (like any later layer) reaches the worker through its client.
const WORKER_SIDE = 'workers/(client|protocol)';
const LAYERS = {
  core: [],
  keyrings: ['core'],
  transfer: ['core', WORKER_SIDE],
  workers: ['core', 'transfer/(build-part|download-frames)'],
  aws: ['core', 'keyrings', 'transfer', WORKER_SIDE],
  hosting: ['core', 'keyrings', 'transfer', WORKER_SIDE, 'aws'],
  state: ['core', 'keyrings', 'transfer', WORKER_SIDE, 'aws', 'hosting'],
  views: ['core', 'keyrings', 'transfer', WORKER_SIDE, 'aws', 'hosting', 'state'],
  cli: ['core', 'keyrings', 'transfer', WORKER_SIDE, 'aws', 'hosting'],
};

// [Note: engines and adapters] src/transfer holds the platform-neutral engines (S3, keyrings,
// stores, sinks and builders come in through seams; src/transfer/README.md lists them), and
// src/transfer/browser/ and src/transfer/node/ the adapters that fill the seams. The engines
// import neither; the browser adapters import no Node module and no Node adapter; the Node
// adapters import no browser adapter, no worker and no page-only global, and only the CLI (and
// tests) import them, so the app's bundle never meets a `node:` import (tsconfig.json also leaves
// Node types out). These rules replace the transfer layer's rule for the files directly in the
// three folders.
const NODE_ONLY = {
  regex: '^(\\.\\./)+transfer/node(/|$)',
  message:
    'src/transfer/node is for Node (the CLI): the app does not import it (see [Note: engines and adapters]).',
};
// [Note: one S3 adapter] (src/aws/bucket-s3.ts): state and views build no S3 command.
const NO_S3_SDK = {
  regex: '^@aws-sdk/client-s3(/|$)',
  message:
    'src/state and src/views may import only aws/bucket-s3 and the transfer engines for S3, never @aws-sdk/client-s3 (see [Note: one S3 adapter]).',
};
const TRANSFER_SIDES = [
  {
    files: ['src/transfer/*.ts'],
    depth: 1,
    allowed: ['core'],
    adapters: '(browser|node)',
    packages: '(node:|idb-keyval(/|$))',
    message: 'src/transfer (the engines) imports no adapter, Node module or browser-only package',
  },
  {
    files: ['src/transfer/browser/*.ts'],
    depth: 2,
    allowed: ['core', WORKER_SIDE],
    adapters: 'node',
    packages: 'node:',
    message: 'src/transfer/browser imports no Node adapter or Node module',
  },
  {
    files: ['src/transfer/node/*.ts'],
    depth: 2,
    allowed: ['core'],
    adapters: 'browser',
    packages: 'idb-keyval(/|$)',
    message: 'src/transfer/node imports no browser adapter, worker or browser-only package',
  },
];

/**
 * The layer rule of src/transfer for one side ([Note: engines and adapters]): from a file `depth`
 * folders below src/, a path leaving src/transfer must go to one of `allowed`; a path to the
 * other side's adapters, or to a package matching `packages`, fails.
 */
function transferSideRule({ files, depth, allowed, adapters, packages, message }) {
  const targets = ['transfer', ...allowed]
    .map((fragment) => `${fragment}(\\.[a-z]+)*(/|$)`)
    .join('|');
  const up = depth === 1 ? '\\./' : '(\\.\\./){1}';
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\./)?(\\.\\./){${depth}}(?!(${targets}))`,
              message: `src/transfer may import only itself, ${allowed.join(', ')} (see [Note: the layers] and docs/architecture.md).`,
            },
            {
              regex: `^(${up}|(\\.\\./){${depth}}transfer/)${adapters}(/|$)`,
              message: `${message} (see [Note: engines and adapters]).`,
            },
            { regex: `^${packages}`, message: `${message} (see [Note: engines and adapters]).` },
          ],
        },
      ],
    },
  };
}

/** Folder depth covered below a layer's root; deeper files would go unchecked, so keep it ample. */
const MAX_DEPTH = 6;

/**
 * One config per depth below `root`: from a file `depth` folders down, `../` repeated `depth`
 * times lands in root's parent, so what follows must be one of `allowed` (or the import stays
 * inside root). Anything else, including a path that leaves root's parent, fails.
 * @param {string} root a folder, e.g. 'src/state'
 * @param {string[]} allowed regex fragments of paths under root's parent, e.g. 'core'
 * @param {string} message what the error says
 * @param {object[]} extraPatterns more no-restricted-imports patterns for the same files
 */
function layerRule(root, allowed, message, extraPatterns = []) {
  const self = root.split('/').at(-1);
  const targets = [self, ...allowed].map((fragment) => `${fragment}(\\.[a-z]+)*(/|$)`).join('|');
  return Array.from({ length: MAX_DEPTH }, (_, index) => {
    const depth = index + 1;
    return {
      files: [`${root}/${'*/'.repeat(depth - 1)}*.{ts,svelte}`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...extraPatterns,
              { regex: `^(\\./)?(\\.\\./){${depth}}(?!(${targets}))`, message },
            ],
          },
        ],
      },
    };
  });
}

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
  // [Note: the pure core] src/core runs unchanged in a worker, the page and Node: it may import
  // only itself and the noble hash/curve libraries. tsconfig.core.json removes DOM and Node types.
  ...Object.entries(LAYERS).flatMap(([folder, allowed]) =>
    layerRule(
      `src/${folder}`,
      allowed,
      `src/${folder} may import only ${['itself', ...allowed].join(', ')} (see [Note: the layers] and docs/architecture.md).`,
      folder === 'core'
        ? [
            {
              regex: '^(?!\\.{1,2}/|@noble/(hashes|curves|ciphers)(/|$))',
              message:
                'src/core is pure: only relative imports and @noble/* (see [Note: the pure core]).',
            },
          ]
        : ['state', 'views'].includes(folder)
          ? [NODE_ONLY, NO_S3_SDK]
          : ['aws', 'hosting'].includes(folder)
            ? [NODE_ONLY]
            : [],
    ),
  ),
  ...TRANSFER_SIDES.map(transferSideRule),
  {
    // The Node adapters run in Node: its globals, and none that exists only in a page.
    files: ['src/transfer/node/**/*.ts'],
    languageOptions: { globals: globals.node },
    rules: {
      'no-restricted-globals': [
        'error',
        ...[
          'window',
          'document',
          'navigator',
          'location',
          'self',
          'indexedDB',
          'localStorage',
          'sessionStorage',
          'Worker',
          'importScripts',
          'caches',
          'showSaveFilePicker',
        ].map((name) => ({
          name,
          message: 'src/transfer/node runs in Node (see [Note: engines and adapters]).',
        })),
      ],
    },
  },
  // The HSM proxy is its own program: from the app's src/ it imports only the HSM API contract
  // (pure constants and types, see [Note: HSM API contract]), by relative path.
  ...layerRule(
    'server/hsm-proxy',
    ['\\.\\./src/keyrings/hsm-api'],
    'server/hsm-proxy imports nothing outside itself but src/keyrings/hsm-api (see [Note: the layers]).',
  ),
  {
    files: ['src/core/**/*.ts'],
    rules: {
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
  {
    // Transfer reaches the core only through its public surface, src/core/index.ts: the frame
    // layout, sizes and provider info are the core's (src/core/README.md). A rule of its own
    // (not no-restricted-imports), so the layer rule above keeps its patterns for these files.
    files: ['src/transfer/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'ImportDeclaration',
          'ExportNamedDeclaration',
          'ExportAllDeclaration',
          'ImportExpression',
        ].map((node) => ({
          selector: `${node}[source.value=/^(\\.\\.\\/)+core\\/./]`,
          message:
            "src/transfer imports the core through '../core' (src/core/index.ts), not its files.",
        })),
      ],
    },
  },
);
