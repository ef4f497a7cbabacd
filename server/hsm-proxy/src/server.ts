/**
 * The HSM proxy's HTTP surface. Version 1 so far answers only the health check; the key
 * operations (generate, decrypt, list, create) are versioned under /v1 as they land.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyConfig } from './config';
import type { Hsm } from './hsm';

export const API_VERSION = 1;
export const SERVICE_NAME = 'veil-hsm-proxy';

export interface Health {
  service: typeof SERVICE_NAME;
  apiVersion: number;
  status: 'ok' | 'degraded';
  token: string;
  defaultKey: { label: string; found: boolean; bits?: number; extractable?: boolean };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function allowOrigin(req: IncomingMessage, res: ServerResponse, config: ProxyConfig): void {
  const origin = req.headers.origin;
  if (origin && config.allowedOrigins.includes(origin)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-methods', 'GET, POST');
    res.setHeader('access-control-allow-headers', 'content-type, authorization');
    res.setHeader('access-control-max-age', '600');
    res.setHeader('vary', 'origin');
  }
}

export function health(hsm: Hsm, config: ProxyConfig): Health {
  const key = hsm.describeKey(config.defaultKeyLabel);
  return {
    service: SERVICE_NAME,
    apiVersion: API_VERSION,
    status: key && !key.extractable ? 'ok' : 'degraded',
    token: hsm.tokenLabel,
    defaultKey: key
      ? { label: key.label, found: true, bits: key.bits, extractable: key.extractable }
      : { label: config.defaultKeyLabel, found: false },
  };
}

export function createProxyServer(hsm: Hsm, config: ProxyConfig): Server {
  return createServer((req, res) => {
    allowOrigin(req, res, config);
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method === 'GET' && path === '/v1/health') {
      try {
        const body = health(hsm, config);
        send(res, body.status === 'ok' ? 200 : 503, body);
      } catch {
        send(res, 503, { service: SERVICE_NAME, apiVersion: API_VERSION, status: 'degraded' });
      }
      return;
    }
    send(res, 404, { error: 'NOT_FOUND', message: `no route ${req.method ?? ''} ${path}` });
  });
}
