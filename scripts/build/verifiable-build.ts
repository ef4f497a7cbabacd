/**
 * [Note: verifiable build] What makes the production build checkable by the team that hosts it:
 *
 * 1. The build is reproducible: the same source and lockfile give the same bytes
 *    (tests/integration/build-reproducible.test.ts builds twice and compares every file).
 * 2. Its build hash names the whole output: SHA-256 over the sorted list of every emitted file's
 *    path and SHA-256, index.html included as it is before the hash is written into it. The hash
 *    goes into index.html as `<meta name="veil-build-hash">`, which the app shows in its footer,
 *    and into `veil-build.json` with each file's hash, so anyone can compare a deployment with a
 *    build of the reviewed commit (`npx tsx scripts/verify-deployment.ts <site URL>`).
 * 3. index.html pins the entry script, its module preloads and its CSS with subresource
 *    integrity (sha384). What it does not cover: chunks loaded later by dynamic import and the
 *    worker scripts (the browser offers no integrity for them; their content-hashed names are
 *    pinned inside the already-checked entry), and index.html and config.json themselves
 *    (served by the host: the build hash check covers index.html).
 *
 * These run after Vite has written the output, on the files as they are on disk.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export const BUILD_HASH_META = 'veil-build-hash';
export const BUILD_MANIFEST = 'veil-build.json';

/** What veil-build.json holds. */
export interface BuildManifest {
  /** `sha256-<hex>` over every file (see [Note: verifiable build]). */
  buildHash: string;
  /** Every emitted file but veil-build.json: path (with `/`) to SHA-256 in hex. */
  files: Record<string, string>;
}

function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file below `dir`, as sorted `/`-separated relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** The build hash over `files` (path to SHA-256 hex), independent of their order. */
export function buildHashOf(files: Record<string, string>): string {
  const lines = Object.keys(files)
    .sort()
    .map((path) => `${path}\0${files[path]}\n`)
    .join('');
  return `sha256-${sha256Hex(lines)}`;
}

/** The `<meta>` that carries the build hash (written right after the charset meta). */
export function buildHashMeta(hash: string): string {
  return `<meta name="${BUILD_HASH_META}" content="${hash}" />`;
}

/** Removes the build hash meta from an index.html (to recompute the hash from a deployment). */
export function withoutBuildHashMeta(html: string): string {
  return html.replace(new RegExp(`\\n?\\s*<meta name="${BUILD_HASH_META}" content="[^"]*" />`), '');
}

/**
 * Adds `integrity="sha384-..."` to index.html's script, modulepreload and stylesheet tags that
 * point at local files, reading those files from `dir`.
 */
export async function addIntegrity(html: string, dir: string): Promise<string> {
  const tag = /<(script|link)\b[^>]*>/g;
  const parts: string[] = [];
  let last = 0;
  for (const match of html.matchAll(tag)) {
    const text = match[0];
    const isScript = match[1] === 'script' && /\btype="module"/.test(text);
    const isLink = /\brel="(modulepreload|stylesheet)"/.test(text);
    const url = /\b(?:src|href)="(\/[^"]+)"/.exec(text)?.[1];
    parts.push(html.slice(last, match.index));
    last = match.index + text.length;
    if (!(isScript || isLink) || !url || /\bintegrity=/.test(text)) {
      parts.push(text);
      continue;
    }
    const body = await readFile(join(dir, url.slice(1)));
    const integrity = `sha384-${createHash('sha384').update(body).digest('base64')}`;
    parts.push(text.replace(/\s*\/?>$/, (end) => ` integrity="${integrity}"${end}`));
  }
  parts.push(html.slice(last));
  return parts.join('');
}

/**
 * Checks that index.html pins what it loads: at least one script, and every `<script src>` and
 * module preload or stylesheet link carrying an integrity attribute, so a change in how Vite
 * writes its tags cannot make addIntegrity skip the entry script without anyone noticing.
 * @throws Error naming the first tag without integrity, or saying there is no entry script.
 */
export function requireIntegrity(html: string): void {
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
  const loaded = scripts.filter((tag) => /\bsrc=/.test(tag));
  if (loaded.length === 0) throw new Error('index.html has no entry script to pin');
  const links = [...html.matchAll(/<link\b[^>]*>/g)]
    .map(([tag]) => tag)
    .filter((tag) => /\brel=["']?(modulepreload|stylesheet)\b/.test(tag));
  const bare = [...loaded, ...links].find((tag) => !/\bintegrity="sha384-[^"]+"/.test(tag));
  if (bare) throw new Error(`index.html: no integrity attribute on ${bare}`);
}

/**
 * Finishes a build in `dir`: integrity attributes, then the build hash into index.html and
 * veil-build.json. Returns the manifest.
 * @throws Error when the entry script (or a preload or stylesheet) is left without integrity.
 */
export async function finishBuild(dir: string): Promise<BuildManifest> {
  const indexPath = join(dir, 'index.html');
  const html = await addIntegrity(withoutBuildHashMeta(await readFile(indexPath, 'utf8')), dir);
  requireIntegrity(html);
  await writeFile(indexPath, html);
  const files: Record<string, string> = {};
  for (const path of await listFiles(dir)) {
    if (path === BUILD_MANIFEST) continue;
    files[path] = sha256Hex(await readFile(join(dir, path)));
  }
  const buildHash = buildHashOf(files);
  const charset = /<meta charset="[^"]*" \/>/;
  if (!charset.test(html)) throw new Error('index.html has no <meta charset="..." />');
  await writeFile(
    indexPath,
    html.replace(charset, (meta) => `${meta}\n    ${buildHashMeta(buildHash)}`),
  );
  const manifest: BuildManifest = { buildHash, files };
  await writeFile(join(dir, BUILD_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
