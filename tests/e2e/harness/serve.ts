/**
 * Builds a browser entry with Vite (library mode, ES module) into a temporary directory and
 * serves it from 127.0.0.1 on a free port (a secure context, so WebCrypto is available). Used by
 * the Chromium spec of the core and by bench/core.ts; needs nothing from the global setup.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** A served harness: open `url`, then `window.harness` holds the entry's exports. */
export interface ServedHarness {
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

const INDEX_HTML = `<!doctype html>
<meta charset="utf-8">
<title>loading</title>
<script type="module">
  import * as harness from './harness.js';
  window.harness = harness;
  document.title = 'ready';
</script>
`;

/**
 * Bundles `entry` (a file URL or path) and serves it with an index.html that exposes it, on
 * `options.port` (e.g. VEIL_HARNESS_PORT, an origin the local stack trusts) or a free port.
 */
export async function buildAndServe(
  entry: URL | string,
  options: { port?: number } = {},
): Promise<ServedHarness> {
  const entryPath = entry instanceof URL ? fileURLToPath(entry) : entry;
  const outDir = await mkdtemp(join(tmpdir(), 'veil-harness-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      lib: { entry: entryPath, formats: ['es'], fileName: () => 'harness.js' },
    },
  });
  await writeFile(join(outDir, 'index.html'), INDEX_HTML);
  const server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const relative = normalize(pathname === '/' ? '/index.html' : pathname).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    readFile(join(outDir, relative)).then(
      (body) => {
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(relative)] ?? 'application/octet-stream',
        });
        response.end(body);
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
