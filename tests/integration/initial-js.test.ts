/**
 * The real build keeps the JavaScript fetched before the first upload under its budget, and the
 * first paint carries no AWS SDK code ([Note: initial JavaScript] in scripts/build/initial-js.ts,
 * [Note: lazy seams] in src/aws/sdk-loader.ts). One production build in memory (nothing is
 * written), about 15 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputAsset, OutputChunk } from 'rolldown';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FIRST_VIEW,
  INITIAL_JS_BUDGET_BYTES,
  measureInitialJs,
  type InitialJs,
} from '../../scripts/build/initial-js';

let outDir: string;
let output: (OutputChunk | OutputAsset)[];
let measure: InitialJs;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'veil-initial-js-'));
  // As `npm run build` does: vitest sets NODE_ENV=test, which would give Svelte's dev build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const result = await build({
      mode: 'production',
      logLevel: 'error',
      build: { outDir, write: false, emptyOutDir: false },
    });
    output = (Array.isArray(result) ? result : [result]).flatMap((one) =>
      'output' in one ? one.output : [],
    );
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  measure = measureInitialJs(output);
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** The source modules of the named chunks, as paths below node_modules or the project. */
function modulesOf(files: readonly string[]): string[] {
  return output
    .filter((file): file is OutputChunk => file.type === 'chunk' && files.includes(file.fileName))
    .flatMap((chunk) => chunk.moduleIds)
    .map((id) => id.replace(/^.*node_modules\//, '').replace(`${process.cwd()}/`, ''));
}

/** The chunks a page on the share link (`#/share/...`) fetches: the entry's and SharePage's. */
function sharePageFiles(): string[] {
  const chunks = new Map(
    output.flatMap((file) => (file.type === 'chunk' ? [[file.fileName, file] as const] : [])),
  );
  const share = [...chunks.values()].find((chunk) =>
    chunk.facadeModuleId?.endsWith('/src/views/share/SharePage.svelte'),
  );
  expect(share, 'the share page is a chunk of its own').toBeDefined();
  const seen = new Set<string>();
  const stack = [...measure.entry.files, share?.fileName ?? ''];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(chunks.get(name)?.imports ?? []));
  }
  return [...seen];
}

describe('initial JavaScript', () => {
  test(`what the page fetches before the first upload stays under ${INITIAL_JS_BUDGET_BYTES / 1000} KB gzip`, () => {
    expect(measure.firstView.files.length).toBeGreaterThan(0);
    expect(measure.workers.files, 'the worker started at start-up is counted').toHaveLength(1);
    expect(measure.totalGzipBytes).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
  });

  test('the shell and the first view load no AWS SDK code; the SDK is there, fetched on demand', () => {
    const initial = modulesOf([...measure.entry.files, ...measure.firstView.files]);
    expect(initial.some((id) => id.startsWith('src/views/Upload.svelte'))).toBe(true);
    expect(initial.filter((id) => /^@(aws-sdk|smithy)\//.test(id))).toEqual([]);
    const all = modulesOf(output.map((file) => file.fileName));
    expect(all.some((id) => id.startsWith('@aws-sdk/client-s3/'))).toBe(true);
  });

  test('the share page, which needs no credentials, loads no Cognito code', () => {
    const modules = modulesOf(sharePageFiles());
    expect(modules.some((id) => id.startsWith('src/views/share/SharePage.svelte'))).toBe(true);
    expect(modules.filter((id) => /cognito|user-pool-commands/.test(id))).toEqual([]);
  });

  test('every view is a chunk of its own', () => {
    const views = ['Upload', 'Files', 'Keys', 'Learn', 'Settings', 'share/SharePage'];
    const facades = output.flatMap((file) =>
      file.type === 'chunk' && file.facadeModuleId ? [file.facadeModuleId] : [],
    );
    for (const view of views) {
      expect(
        facades.some((id) => id.endsWith(`/src/views/${view}.svelte`)),
        view,
      ).toBe(true);
    }
    expect(FIRST_VIEW).toBe('src/views/Upload.svelte');
  });
});
