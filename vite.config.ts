import { svelte } from '@sveltejs/vite-plugin-svelte';
import { readFile } from 'node:fs/promises';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';

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

export default defineConfig({
  plugins: [svelte(), runtimeConfig()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  build: { target: 'es2022', sourcemap: false },
  worker: { format: 'es' },
});
