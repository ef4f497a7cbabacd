/**
 * The Node adapters of the transfer engines run in Node ([Note: engines and adapters] in
 * eslint.config.js): a global that exists only in a page fails the lint in src/transfer/node,
 * Node's own globals pass. Only that rule runs, without type information, so this stays fast.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-globals' || ruleId === 'no-undef',
  overrideConfig: {
    languageOptions: { parserOptions: { project: null, projectService: false } },
  },
});

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  const all = result?.messages ?? [];
  expect(all.filter((message) => message.fatal)).toEqual([]);
  return all.map((message) => message.message);
}

test.each([
  'export const title = document.title;\n',
  'export const cores = navigator.hardwareConcurrency;\n',
  'export const store = indexedDB;\n',
  "export const worker = new Worker('x.js');\n",
  'export const here = location.href;\n',
])('a page-only global fails in src/transfer/node: %s', async (code) => {
  const found = await messages('src/transfer/node/file-sink.ts', code);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatch(/src\/transfer\/node runs in Node/);
});

test.each([
  'export const cwd = process.cwd();\n',
  "export const bytes = Buffer.from('x');\n",
  "export const blob = new Blob(['x']);\n",
])('Node globals pass in src/transfer/node: %s', async (code) => {
  expect(await messages('src/transfer/node/file-sink.ts', code)).toEqual([]);
});

test('the same page global passes in src/transfer/browser', async () => {
  expect(
    await messages('src/transfer/browser/idb-store.ts', 'export const t = document.title;\n'),
  ).toEqual([]);
});
