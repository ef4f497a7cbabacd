import { svelte } from '@sveltejs/vite-plugin-svelte';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';
import { initialJsReport } from './scripts/build/initial-js';
import { finishBuild } from './scripts/build/verifiable-build';
import { metaPolicy } from './src/hosting/csp';

/**
 * [Note: runtime config] The build holds no deployment values: the app fetches `config.json` at
 * start. In development `npm start` writes the local stack's config to `.veil/config.json`
 * (or the file named by VEIL_CONFIG) and this plugin serves it at /config.json.
 */
function runtimeConfig(): Plugin {
  const file = process.env.VEIL_CONFIG ?? '.veil/config.json';
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    if (req.url?.split('?')[0] !== '/config.json') return next();
    readFile(file).then(
      (body) => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        res.end(body);
      },
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  };
  return {
    name: 'veil-runtime-config',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
  };
}

/**
 * The production build's `<meta>` CSP (see [Note: content security policy] in src/hosting/csp.ts),
 * right after the charset so it governs everything below it. Build only: the dev server's hot
 * reload adds inline style elements that the policy refuses.
 */
function cspMeta(): Plugin {
  return {
    name: 'veil-csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => {
        const charset = /<meta charset="[^"]*" \/>/;
        if (!charset.test(html)) throw new Error('index.html has no <meta charset="..." />');
        const meta = `<meta http-equiv="Content-Security-Policy" content="${metaPolicy()}" />`;
        return html.replace(charset, (found) => `${found}\n    ${meta}`);
      },
    },
  };
}

/** Integrity attributes and the build hash, on the written output (see [Note: verifiable build]). */
function verifiableBuild(): Plugin {
  let outDir = 'dist';
  return {
    name: 'veil-verifiable-build',
    apply: 'build',
    enforce: 'post',
    configResolved: (config) => void (outDir = resolve(config.root, config.build.outDir)),
    // After the output is written (not closeBundle, which also runs when the build failed).
    writeBundle: {
      order: 'post',
      sequential: true,
      handler: async () => {
        const manifest = await finishBuild(outDir);
        console.log(`veil build hash: ${manifest.buildHash}`);
      },
    },
  };
}

export default defineConfig({
  plugins: [svelte(), runtimeConfig(), cspMeta(), initialJsReport(), verifiableBuild()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  build: { target: 'es2022', sourcemap: false },
  worker: { format: 'es' },
});
