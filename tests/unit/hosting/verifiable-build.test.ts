/**
 * The pieces of the verifiable build (see [Note: verifiable build]): the build hash, the hash
 * meta and its removal, and the integrity attributes. The real build is checked by
 * tests/integration/build-reproducible.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  addIntegrity,
  buildHashMeta,
  buildHashOf,
  finishBuild,
  requireIntegrity,
  withoutBuildHashMeta,
} from '../../../scripts/build/verifiable-build';

let dir: string;
const HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <script type="module" crossorigin src="/assets/index-a.js"></script>
    <link rel="modulepreload" crossorigin href="/assets/dep-b.js">
    <link rel="stylesheet" crossorigin href="/assets/index-c.css">
  </head>
  <body><div id="app"></div></body>
</html>
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-vb-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'assets/index-a.js'), 'import "./dep-b.js";\n');
  await writeFile(join(dir, 'assets/dep-b.js'), 'export {};\n');
  await writeFile(join(dir, 'assets/index-c.css'), 'body{margin:0}\n');
  await writeFile(join(dir, 'favicon.svg'), '<svg/>');
  await writeFile(join(dir, 'index.html'), HTML);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sri = (text: string) => `sha384-${createHash('sha384').update(text).digest('base64')}`;

describe('verifiable build', () => {
  test('the build hash depends on every path and content, not on order', () => {
    const a = buildHashOf({ 'x.js': '01', 'y.js': '02' });
    expect(a).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(buildHashOf({ 'y.js': '02', 'x.js': '01' })).toBe(a);
    expect(buildHashOf({ 'x.js': '01', 'y.js': '03' })).not.toBe(a);
    expect(buildHashOf({ 'x.js': '01', 'z.js': '02' })).not.toBe(a);
  });

  test('integrity on the entry script, its preloads and its CSS; not on the icon', async () => {
    const html = await addIntegrity(HTML, dir);
    expect(html).toContain(
      `<script type="module" crossorigin src="/assets/index-a.js" integrity="${sri('import "./dep-b.js";\n')}"></script>`,
    );
    expect(html).toContain(`href="/assets/dep-b.js" integrity="${sri('export {};\n')}">`);
    expect(html).toContain(`href="/assets/index-c.css" integrity="${sri('body{margin:0}\n')}">`);
    expect(html).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml" />');
    expect(await addIntegrity(html, dir)).toBe(html);
  });

  test('finishBuild writes the hash meta and a manifest whose hash it can recompute', async () => {
    const manifest = await finishBuild(dir);
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html).toContain(buildHashMeta(manifest.buildHash));
    expect(Object.keys(manifest.files)).toEqual([
      'assets/dep-b.js',
      'assets/index-a.js',
      'assets/index-c.css',
      'favicon.svg',
      'index.html',
    ]);
    const stripped = withoutBuildHashMeta(html);
    expect(stripped).not.toContain('veil-build-hash');
    expect(createHash('sha256').update(stripped).digest('hex')).toBe(manifest.files['index.html']);
    expect(buildHashOf(manifest.files)).toBe(manifest.buildHash);
  });

  test('the build fails when the entry script would go without integrity (a tag addIntegrity does not recognise)', async () => {
    const other = await mkdtemp(join(tmpdir(), 'veil-vb-'));
    try {
      await mkdir(join(other, 'assets'));
      await writeFile(join(other, 'assets/index-a.js'), 'export {};\n');
      // Unquoted attributes: the entry is loaded but matched by no integrity rule.
      await writeFile(
        join(other, 'index.html'),
        '<!doctype html>\n<html><head><meta charset="UTF-8" />\n<script type=module src="/assets/index-a.js"></script></head></html>\n',
      );
      await expect(finishBuild(other)).rejects.toThrow(/no integrity attribute on <script/);
      // Nothing was written: no manifest, index.html as it was.
      await expect(readFile(join(other, 'veil-build.json'))).rejects.toThrow();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test('requireIntegrity: an entry script, every script and preload or stylesheet pinned', () => {
    const pinned = 'integrity="sha384-abc"';
    expect(() => requireIntegrity('<html><body></body></html>')).toThrow(/no entry script/);
    expect(() =>
      requireIntegrity(`<script type="module" src="/a.js" ${pinned}></script>`),
    ).not.toThrow();
    expect(() =>
      requireIntegrity(
        `<script type="module" src="/a.js" ${pinned}></script><link rel="stylesheet" href="/c.css">`,
      ),
    ).toThrow(/rel="stylesheet"/);
    expect(() =>
      requireIntegrity(
        `<script type="module" src="/a.js" ${pinned}></script><script src="/b.js"></script>`,
      ),
    ).toThrow(/b\.js/);
    expect(() =>
      requireIntegrity(
        `<script type="module" src="/a.js" ${pinned}></script><link rel="icon" href="/i.svg">`,
      ),
    ).not.toThrow();
  });
});
