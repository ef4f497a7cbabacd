/**
 * The layer rules of eslint.config.js ([Note: the layers], docs/architecture.md) fail a wrong
 * import. Each case lints a one-line snippet as if it stood at a real path, with the project's own
 * config; only `no-restricted-imports` runs, and without type information, so this stays fast.
 */
import { ESLint } from 'eslint';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: {
    languageOptions: { parserOptions: { project: null, projectService: false } },
  },
});

/** The no-restricted-imports messages for `code` placed at `filePath` (relative to the root). */
async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  expect(result, filePath).toBeDefined();
  const messages = result?.messages ?? [];
  expect(
    messages.filter((message) => message.fatal),
    filePath,
  ).toEqual([]);
  return messages
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

/** A side-effect import, a type import and a re-export: the three ways a file reaches another. */
function importsOf(path: string): string[] {
  return [
    `import '${path}';\n`,
    `import type { Anything } from '${path}';\nexport type Same = Anything;\n`,
    `export * from '${path}';\n`,
  ];
}

const svelte = (path: string) => `<script lang="ts">\n  import '${path}';\n</script>\n`;

// [file, import]: each must fail.
const wrong: [string, string][] = [
  ['src/core/bytes.ts', '../aws/config'],
  ['src/core/bytes.ts', '../keyrings/raw-aes'],
  ['src/core/bytes.ts', '../transfer/upload'],
  ['src/core/bytes.ts', '../../server/hsm-proxy/src/keys'],
  ['src/core/nested/deeper.ts', '../../state/app.svelte'],
  ['src/keyrings/raw-aes.ts', '../transfer/prepare'],
  ['src/keyrings/kms.ts', '../aws/clients'],
  ['src/transfer/prepare.ts', '../keyrings/raw-aes'],
  ['src/transfer/upload.ts', '../aws/config'],
  ['src/transfer/upload.ts', '../state/app.svelte'],
  ['src/transfer/browser/worker-pool.ts', '../../workers/worker'],
  ['src/transfer/upload.ts', '../workers/client'],
  ['src/transfer/upload.ts', './browser/idb-store'],
  ['src/transfer/upload.ts', './node'],
  ['src/transfer/upload.ts', '../transfer/node/file-sink'],
  ['src/transfer/upload.ts', 'node:fs'],
  ['src/transfer/upload.ts', 'idb-keyval'],
  ['src/transfer/browser/idb-store.ts', '../node/file-store'],
  ['src/transfer/browser/idb-store.ts', 'node:fs'],
  ['src/transfer/node/file-sink.ts', '../browser/idb-store'],
  ['src/transfer/node/file-sink.ts', '../../workers/client'],
  ['src/transfer/node/file-sink.ts', '../../aws/config'],
  ['src/transfer/node/file-store.ts', 'idb-keyval'],
  ['src/state/transfers.ts', '../transfer/node'],
  ['src/aws/clients.ts', '../transfer/node/file-sink'],
  ['src/views/App.svelte', '../transfer/node'],
  ['src/aws/config.ts', '../state/preferences.svelte'],
  ['src/aws/config.ts', '../hosting/csp'],
  ['src/hosting/csp.ts', '../state/app.svelte'],
  ['src/state/files.svelte.ts', '../views/ui/x'],
  ['src/state/files/listing.ts', '../../views/files/FileTable.svelte'],
  ['src/state/app.svelte.ts', '../cli/main'],
  ['src/state/files/files.svelte.ts', '@aws-sdk/client-s3'],
  ['src/views/Files.svelte', '@aws-sdk/client-s3'],
  ['src/state/app.svelte.ts', '../workers/worker'],
  ['src/views/App.svelte', '../cli/main'],
  ['src/cli/main.ts', '../state/app.svelte'],
  ['src/cli/main.ts', '../views/App.svelte'],
  ['src/workers/worker.ts', '../state/app.svelte'],
  ['src/workers/worker.ts', '../aws/config'],
  ['src/workers/worker.ts', '../transfer/upload'],
  ['server/hsm-proxy/src/server.ts', '../../../src/core/errors'],
  ['server/hsm-proxy/src/server.ts', '../../../src/keyrings/hsm-proxy'],
  ['server/hsm-proxy/src/server.ts', '../../../src/keyrings/hsm-api-extra'],
  ['server/hsm-proxy/src/server.ts', '../../package.json'],
];

// [file, import]: each must pass.
const allowed: [string, string][] = [
  ['src/core/bytes.ts', './errors'],
  ['src/core/bytes.ts', '@noble/hashes/sha2.js'],
  ['src/keyrings/raw-aes.ts', '../core/errors'],
  ['src/transfer/upload.ts', '../core/errors'],
  ['src/transfer/browser/worker-pool.ts', '../../workers/client'],
  ['src/transfer/browser/worker-pool.ts', '../part-builder'],
  ['src/transfer/browser/worker-pool.ts', '../../core'],
  ['src/transfer/node/file-sink.ts', '../download-setup'],
  ['src/transfer/node/file-sink.ts', '../../core'],
  ['src/transfer/node/file-sink.ts', './file-source'],
  ['src/transfer/node/file-sink.ts', 'node:fs/promises'],
  ['src/transfer/upload.ts', '@aws-sdk/client-s3'],
  ['src/cli/main.ts', '../transfer/node'],
  ['src/workers/worker.ts', '../core/errors'],
  ['src/workers/worker.ts', '../transfer/build-part'],
  ['src/workers/worker.ts', '../transfer/download-frames'],
  ['src/workers/worker.ts', './protocol'],
  ['src/aws/model-c.ts', '../keyrings/kms'],
  ['src/hosting/csp.ts', '../aws/config'],
  ['src/aws/bucket-s3.ts', '@aws-sdk/client-s3'],
  ['src/state/files/files.svelte.ts', '../../aws/bucket-s3'],
  ['src/state/app.svelte.ts', '../workers/client'],
  ['src/state/files.svelte.ts', './shown-error'],
  ['src/state/files/listing.ts', '../../transfer/upload'],
  ['src/state/files/listing.ts', '../upload/names'],
  ['src/views/App.svelte', '../state/app.svelte'],
  ['src/views/files/DeleteDialog.svelte', '../../state/shown-error'],
  ['src/cli/main.ts', '../core/errors'],
  ['src/cli/kms.ts', '../aws/clients'],
  ['src/cli/main.ts', '../transfer/upload'],
  ['server/hsm-proxy/src/server.ts', './keys'],
  ['server/hsm-proxy/src/server.ts', '../../../src/keyrings/hsm-api'],
];

describe('a wrong import fails the lint', () => {
  test.each(wrong)(
    '%s importing %s',
    async (file, path) => {
      const snippets = file.endsWith('.svelte') ? [svelte(path)] : importsOf(path);
      for (const code of snippets) {
        const messages = await restricted(file, code);
        expect(messages, code).toHaveLength(1);
        expect(messages[0], code).toMatch(
          /may import only|imports nothing outside|imports no |is for Node/,
        );
      }
    },
    60_000,
  );
});

describe('an allowed import passes', () => {
  test.each(allowed)(
    '%s importing %s',
    async (file, path) => {
      const snippets = file.endsWith('.svelte') ? [svelte(path)] : importsOf(path);
      for (const code of snippets) expect(await restricted(file, code), code).toEqual([]);
    },
    60_000,
  );
});

test('the rule set covers every folder of src/', async () => {
  const folders = (await readdir(`${root}src`, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  for (const folder of folders) {
    const config = (await eslint.calculateConfigForFile(`${root}src/${folder}/x.ts`)) as {
      rules?: Record<string, unknown>;
    };
    expect(config.rules?.['no-restricted-imports'], folder).toBeDefined();
  }
}, 60_000);
