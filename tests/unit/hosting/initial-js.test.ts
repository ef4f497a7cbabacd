/**
 * The measure of the JavaScript fetched before the first upload ([Note: initial JavaScript] in
 * scripts/build/initial-js.ts) on a small made-up build; tests/integration/initial-js.test.ts
 * measures the real one.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  FIRST_VIEW,
  describeInitialJs,
  measureInitialJs,
  type OutputFile,
} from '../../../scripts/build/initial-js';

function chunk(
  fileName: string,
  code: string,
  imports: string[] = [],
  facade?: string,
): OutputFile {
  return {
    type: 'chunk',
    fileName,
    code,
    imports,
    isEntry: fileName.startsWith('assets/index-'),
    facadeModuleId: facade ? `/repo/${facade}` : null,
  };
}

/** Text that gzip cannot shrink much (6 bits a character), so a chunk's size shows. */
function noise(length: number, seed: number): string {
  let text = '';
  for (let i = 0; text.length < length; i += 1) {
    text += createHash('sha256').update(`${seed}:${i}`).digest('base64').slice(0, 43);
  }
  return text.slice(0, length);
}

const SHELL = [
  chunk('assets/index-a.js', 'import "./svelte-b.js"; new URL("/assets/worker-w.js")', [
    'assets/svelte-b.js',
  ]),
  chunk('assets/svelte-b.js', noise(2000, 1)),
  chunk('assets/Upload-c.js', 'import "./queue-d.js"', ['assets/queue-d.js'], FIRST_VIEW),
  chunk('assets/queue-d.js', noise(3000, 2), ['assets/svelte-b.js']),
  chunk('assets/Files-e.js', noise(5000, 3), ['assets/svelte-b.js'], 'src/views/Files.svelte'),
  chunk('assets/clients-f.js', noise(50_000, 4)),
  { type: 'asset', fileName: 'assets/worker-w.js', source: noise(1000, 5) },
  { type: 'asset', fileName: 'assets/other-worker-x.js', source: noise(9000, 6) },
  { type: 'asset', fileName: 'assets/index-g.css', source: noise(4000, 7) },
] satisfies OutputFile[];

describe('measureInitialJs', () => {
  test('counts the entry and its static imports, the first view and the worker it starts', () => {
    const measure = measureInitialJs(SHELL);
    expect(measure.entry.files).toEqual(['assets/index-a.js', 'assets/svelte-b.js']);
    expect(measure.firstView.files).toEqual(['assets/Upload-c.js', 'assets/queue-d.js']);
    expect(measure.workers.files).toEqual(['assets/worker-w.js']);
    expect(measure.entry.gzipBytes).toBeGreaterThan(1000);
    expect(measure.totalGzipBytes).toBe(
      measure.entry.gzipBytes + measure.firstView.gzipBytes + measure.workers.gzipBytes,
    );
    // The other views, the SDK chunk, an unnamed worker and the CSS are not counted.
    expect(measure.totalGzipBytes).toBeLessThan(10_000);
  });

  test('a heavy module the shell imports statically is counted: the attack the budget catches', () => {
    const leaky = SHELL.map((file) =>
      file.fileName === 'assets/svelte-b.js' && file.type === 'chunk'
        ? { ...file, imports: ['assets/clients-f.js'] }
        : file,
    );
    const clean = measureInitialJs(SHELL);
    const measure = measureInitialJs(leaky);
    expect(measure.entry.files).toContain('assets/clients-f.js');
    expect(measure.totalGzipBytes).toBeGreaterThan(clean.totalGzipBytes + 30_000);
    expect(describeInitialJs(measure, 40_000).join('\n')).toMatch(/OVER the budget of 40\.0 KB/);
    expect(describeInitialJs(clean, 40_000).join('\n')).toMatch(/within the budget of 40\.0 KB/);
  });

  test('the first line says what is counted, in KB of gzip', () => {
    const [first] = describeInitialJs(measureInitialJs(SHELL));
    expect(first).toMatch(
      /^initial JS: \d+\.\d KB gzip \(entry \+ its static imports\/modulepreloads, 2 files/,
    );
  });

  test('a build without the first view as a chunk of its own, or without one entry, is refused', () => {
    const inlined = SHELL.filter((file) => file.fileName !== 'assets/Upload-c.js');
    expect(() => measureInitialJs(inlined)).toThrow(/no chunk of its own for the first view/);
    const noEntry = SHELL.filter((file) => file.fileName !== 'assets/index-a.js');
    expect(() => measureInitialJs(noEntry)).toThrow(/expected one entry chunk, found 0/);
    const missing = [chunk('assets/index-a.js', '', ['assets/gone.js']), ...SHELL.slice(1)];
    expect(() => measureInitialJs(missing)).toThrow(/no chunk assets\/gone\.js/);
  });
});
