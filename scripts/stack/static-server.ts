/**
 * Serves a built app (dist/) on 127.0.0.1 the way a static host does, with `config.json`
 * supplied at run time (see [Note: runtime config] in vite.config.ts) and, like CloudFront's
 * response headers policy in infra/, the strict Content-Security-Policy header computed from that
 * config on every response (see [Note: content security policy] in src/hosting/csp.ts). As
 * infra/ publishes them, the entry files and the download service worker (one name across
 * releases) are sent `no-cache`, so a rebuilt app or worker is what the next load gets.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseConfig } from '../../src/aws/config';
import { contentSecurityPolicy } from '../../src/hosting/csp';
import { DOWNLOAD_WORKER_SCRIPT } from '../../src/transfer/browser/download-sw-sink';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/** Paths whose name stays the same across builds: revalidated on every load. */
const UNCACHED_PATHS = new Set(['/index.html', '/veil-build.json', `/${DOWNLOAD_WORKER_SCRIPT}`]);

export interface StaticServer {
  origin: string;
  /** The Content-Security-Policy header sent with every response, or undefined when off. */
  csp: string | undefined;
  server: Server;
  close(): Promise<void>;
}

export async function serveStatic(options: {
  root: string;
  port: number;
  config: unknown;
  headers?: Record<string, string>;
  /** Send the strict CSP for `config` (default true; it must then be a valid config). */
  csp?: boolean;
}): Promise<StaticServer> {
  const root = resolve(options.root);
  const configBody = JSON.stringify(options.config, null, 2);
  // Parsed up front: a config the app would refuse cannot give a policy either.
  const parsed = options.csp === false ? undefined : parseConfig(options.config);
  let csp: string | undefined;
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {
      'x-content-type-options': 'nosniff',
      ...(csp ? { 'content-security-policy': csp } : {}),
      ...options.headers,
    };
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://app').pathname);
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    if (path === '/config.json') {
      res.writeHead(200, {
        ...headers,
        'content-type': TYPES['.json'],
        'cache-control': 'no-store',
      });
      res.end(configBody);
      return;
    }
    const entryPath = path === '/' ? '/index.html' : path;
    const file = normalize(join(root, entryPath));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          ...headers,
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          ...(UNCACHED_PATHS.has(entryPath) ? { 'cache-control': 'no-cache' } : {}),
        });
        res.end(body);
      },
      () => {
        res.writeHead(404, headers).end();
      },
    );
  });
  await new Promise<void>((done) => server.listen(options.port, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const origin = `http://127.0.0.1:${port}`;
  if (parsed) csp = contentSecurityPolicy(parsed, { configUrl: `${origin}/config.json` });
  return {
    origin,
    csp,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
