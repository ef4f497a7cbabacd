/**
 * The end-to-end shards split by measured duration ([Note: e2e shards by duration] in
 * tests/e2e/shards.ts): every spec file runs in exactly one shard, the shards of the real spec
 * folder end within one short file of each other, a file without a measurement still runs, and a
 * shard outside 1..total is refused.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { SPEC_SECONDS, specsOfShard } from '../../e2e/shards';

const specFiles = readdirSync(new URL('../../e2e/', import.meta.url)).filter((name) =>
  name.endsWith('.spec.ts'),
);

const secondsOf = (files: readonly string[]): number =>
  files.reduce((sum, file) => sum + (SPEC_SECONDS[file] ?? 0), 0);

describe('specsOfShard', () => {
  test('each spec file of the folder runs in exactly one of the shards', () => {
    for (const total of [1, 2, 3]) {
      const shards = Array.from({ length: total }, (_, index) =>
        specsOfShard(specFiles, index + 1, total),
      );
      expect(shards.flat().sort()).toEqual([...specFiles].sort());
    }
  });

  test('two shards of the measured files differ by less than the shortest file but one', () => {
    const files = Object.keys(SPEC_SECONDS);
    const first = secondsOf(specsOfShard(files, 1, 2));
    const second = secondsOf(specsOfShard(files, 2, 2));
    expect(first + second).toBe(secondsOf(files));
    // Playwright's own split of these files by test count was 291 s against 407 s.
    expect(Math.abs(first - second)).toBeLessThanOrEqual(5);
  });

  test('a file without a measurement counts as the median and still runs once', () => {
    const seconds = { 'a.spec.ts': 100, 'b.spec.ts': 10, 'c.spec.ts': 10 };
    const files = ['a.spec.ts', 'b.spec.ts', 'c.spec.ts', 'new.spec.ts'];
    expect(specsOfShard(files, 1, 2, seconds)).toEqual(['a.spec.ts']);
    expect(specsOfShard(files, 2, 2, seconds)).toEqual(['b.spec.ts', 'c.spec.ts', 'new.spec.ts']);
  });

  test('the split does not depend on the order the files are listed in', () => {
    const files = Object.keys(SPEC_SECONDS);
    expect(specsOfShard([...files].reverse(), 1, 2)).toEqual(specsOfShard(files, 1, 2));
  });

  test('a shard outside 1..total, or not a whole number, is refused', () => {
    expect(() => specsOfShard(specFiles, 0, 2)).toThrow(RangeError);
    expect(() => specsOfShard(specFiles, 3, 2)).toThrow(RangeError);
    expect(() => specsOfShard(specFiles, 1.5, 2)).toThrow(RangeError);
  });
});
