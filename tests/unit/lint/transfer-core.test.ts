/**
 * Transfer imports the core only through src/core/index.ts (eslint.config.js, the block after
 * the layer rules): a deep import of a core file fails, in each form a file can reach another;
 * `../core` itself passes. Only that rule runs, without type information, so this stays fast.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-syntax',
  overrideConfig: {
    languageOptions: { parserOptions: { project: null, projectService: false } },
  },
});

/** The no-restricted-syntax messages for `code` placed at `filePath` (relative to the root). */
async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  const messages = result?.messages ?? [];
  expect(messages.filter((message) => message.fatal)).toEqual([]);
  return messages
    .filter((message) => message.ruleId === 'no-restricted-syntax')
    .map((message) => message.message);
}

test.each([
  "import { needs } from '../core/errors';\nneeds(true, 'BAD_ARGUMENT');\n",
  "import type { MessageHeader } from '../core/header';\nexport type Same = MessageHeader;\n",
  "export { frameCount } from '../core/sizes';\n",
  "export * from '../core/frame';\n",
  "export const later = () => import('../core/sizes');\n",
])('a deep core import fails in src/transfer: %s', async (code) => {
  expect(await restricted('src/transfer/download-plan.ts', code)).toEqual([
    "src/transfer imports the core through '../core' (src/core/index.ts), not its files.",
  ]);
});

test.each([
  "import { needs } from '../core';\nneeds(true, 'BAD_ARGUMENT');\n",
  "import type { MessageHeader } from '../core';\nexport type Same = MessageHeader;\n",
  "import { corsRuleFor } from './cors';\nexport const rule = corsRuleFor;\n",
])('the core index passes: %s', async (code) => {
  expect(await restricted('src/transfer/download-plan.ts', code)).toEqual([]);
});
