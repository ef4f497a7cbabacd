/**
 * Records every request a browser context sends, as the wire and names audits read them
 * (tests/support/wire-scan.ts, support/name-scan.ts): origin, method, target (path, query and,
 * should a browser ever send one, the fragment), the headers as sent and the body.
 */
import type { BrowserContext, Request } from '@playwright/test';
import type { WireRequest } from '../../support/wire-scan';

/** One request, read once the browser has its final headers. */
export async function recordedRequest(request: Request): Promise<WireRequest> {
  const url = new URL(request.url());
  const headers = await request.allHeaders().catch(() => request.headers());
  return {
    origin: url.origin,
    method: request.method(),
    target: url.pathname + url.search + url.hash,
    headerText: Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n'),
    body: new Uint8Array(request.postDataBuffer() ?? []),
  };
}

/**
 * Records the requests `context` sends into `seen`, each a promise: await them all before an
 * audit.
 */
export function recordRequests(context: BrowserContext, seen: Promise<WireRequest>[]): void {
  context.on('request', (request) => seen.push(recordedRequest(request)));
}
