/**
 * The production build is reproducible (see [Note: verifiable build]): two clean builds of one
 * snapshot of the sources, checked out at two different paths, give the same files byte for
 * byte; the build hash and integrity attributes they carry match their own files; and
 * scripts/verify-deployment.ts tells a served copy from a changed one, and from the same bytes
 * served with a config.json other than the expected one. About 10 s.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BUILD_MANIFEST,
  buildHashOf,
  listFiles,
  withoutBuildHashMeta,
  type BuildManifest,
} from '../../scripts/build/verifiable-build';
import { verifyDeployment } from '../../scripts/build/verify';
import { freePort } from '../../scripts/stack/process';
import { serveStatic } from '../../scripts/stack/static-server';

const run = promisify(execFile);
let root: string;
const dirs: string[] = [];

/** What a build reads besides node_modules: the app's sources and build configuration. */
const SOURCES = [
  'src',
  'public',
  'scripts/build',
  'index.html',
  'vite.config.ts',
  'svelte.config.js',
  'package.json',
  'tsconfig.json',
  'tsconfig.base.json',
];

/** Copies the sources to `dir` (a checkout elsewhere), sharing node_modules. */
async function checkout(from: string, dir: string): Promise<void> {
  for (const path of SOURCES) await cp(join(from, path), join(dir, path), { recursive: true });
  await symlink(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** A clean build of the checkout `dir` into `dir/dist`. */
async function build(dir: string): Promise<string> {
  const vite = join(process.cwd(), 'node_modules/vite/bin/vite.js');
  await run(process.execPath, [vite, 'build', '--emptyOutDir', '--logLevel', 'error'], {
    cwd: dir,
  });
  dirs.push(join(dir, 'dist'));
  return join(dir, 'dist');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'veil-build-'));
  // Two checkouts of one snapshot at different paths: no absolute path may reach the output.
  await checkout(process.cwd(), join(root, 'first'));
  await checkout(join(root, 'first'), join(root, 'second-checkout'));
  await build(join(root, 'first'));
  await build(join(root, 'second-checkout'));
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the production build', () => {
  test('two clean builds give the same bytes', async () => {
    const [first = '', second = ''] = dirs;
    const files = await listFiles(first);
    expect(files).toEqual(await listFiles(second));
    expect(files).toEqual(expect.arrayContaining(['index.html', BUILD_MANIFEST]));
    expect(files.some((path) => /^assets\/worker-[\w-]+\.js$/.test(path))).toBe(true);
    for (const path of files) {
      const a = await readFile(join(first, path));
      const b = await readFile(join(second, path));
      expect(a.equals(b), path).toBe(true);
    }
  });

  test('the build hash and the manifest describe the files', async () => {
    const dir = dirs[0] ?? '';
    const manifest = JSON.parse(await readFile(join(dir, BUILD_MANIFEST), 'utf8')) as BuildManifest;
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html).toContain(`<meta name="veil-build-hash" content="${manifest.buildHash}" />`);
    const files: Record<string, string> = {};
    for (const path of await listFiles(dir)) {
      if (path === BUILD_MANIFEST) continue;
      const body = await readFile(join(dir, path));
      const bytes =
        path === 'index.html' ? Buffer.from(withoutBuildHashMeta(body.toString('utf8'))) : body;
      files[path] = createHash('sha256').update(bytes).digest('hex');
    }
    expect(manifest.files).toEqual(files);
    expect(buildHashOf(files)).toBe(manifest.buildHash);
  });

  test('the entry script, its preloads and its CSS carry matching integrity', async () => {
    const dir = dirs[0] ?? '';
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    const tags = [
      ...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="(\/assets\/[^"]+)"[^>]*>/g),
    ];
    expect(tags.length).toBeGreaterThanOrEqual(2);
    expect(tags.some(([tag]) => tag.startsWith('<script type="module"'))).toBe(true);
    expect(tags.some(([tag]) => tag.includes('rel="stylesheet"'))).toBe(true);
    for (const [tag, url = ''] of tags) {
      const body = await readFile(join(dir, url));
      const expected = `sha384-${createHash('sha384').update(body).digest('base64')}`;
      expect(tag).toContain(`integrity="${expected}"`);
    }
  });

  test('index.html carries the strict CSP meta and no inline script or style', async () => {
    const html = await readFile(join(dirs[0] ?? '', 'index.html'), 'utf8');
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style\b|\sstyle="/);
  });

  test('verify-deployment finds a served copy the same, and a changed file or a hostile config.json different', async () => {
    const [first = '', second = ''] = dirs;
    const config = { region: 'eu-central-1', bucket: 'acme-veil-files' };
    const served = await serveStatic({ root: first, port: await freePort(), config });
    try {
      const report = await verifyDeployment(`${served.origin}/`, second, fetch, {
        expectedConfig: config,
      });
      expect(report.files.filter((file) => file.result !== 'same')).toEqual([]);
      expect(report.deployedBuildHash).toBe(report.buildHash);
      expect(report.cspHeader).toBe(served.csp);
      expect(report.cspMatches).toBe(true);
      expect(report.configMatchesExpected).toBe(true);
      expect(report.cacheProblems).toEqual([]);
      expect(report.ok).toBe(true);
    } finally {
      await served.close();
    }

    // The same bytes with a config.json whose HSM proxy is the host's own (and a header to match).
    const hostile = { ...config, hsm: { proxyUrl: 'https://collector.example', keyLabel: 'k' } };
    const rogue = await serveStatic({ root: first, port: await freePort(), config: hostile });
    try {
      const report = await verifyDeployment(`${rogue.origin}/`, second, fetch, {
        expectedConfig: config,
      });
      expect(report.files.filter((file) => file.result !== 'same')).toEqual([]);
      expect(report.deployedConfig).toContain('https://collector.example');
      expect(report.configMatchesExpected).toBe(false);
      expect(report.cspMatches).toBe(false);
      expect(report.ok).toBe(false);
    } finally {
      await rogue.close();
    }

    const tampered = join(root, 'tampered');
    await cp(first, tampered, { recursive: true });
    const entry = (await listFiles(tampered)).find((path) => /^assets\/index-.*\.js$/.test(path));
    await appendFile(join(tampered, entry ?? ''), '\n;fetch("https://collector.example/")');
    const bad = await serveStatic({ root: tampered, port: await freePort(), config, csp: false });
    try {
      const report = await verifyDeployment(`${bad.origin}/`, second);
      expect(report.files.find((file) => file.path === entry)?.result).toBe('different');
      expect(report.cspHeader).toBeUndefined();
      expect(report.ok).toBe(false);
    } finally {
      await bad.close();
    }
  });
});
