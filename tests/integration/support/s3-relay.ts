/**
 * A relay in front of moto for the command-line tests that must see or stall what the CLI asks
 * of S3: `veil ... --endpoint-url <relay>` sends every request through it, unchanged (moto does
 * not check signatures, so the Host the relay changes does not matter). It counts the body bytes
 * it passed back per object path, and holds back, unanswered, the requests `hold` picks, so a
 * test can signal the CLI while a request is in flight. Start it with `startS3Relay`; `close`
 * drops the held requests.
 */
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running relay. */
export interface S3Relay {
  /** Its endpoint, for --endpoint-url. */
  readonly url: string;
  /** Body bytes passed back for GETs of `/BUCKET/KEY` paths so far (query left out). */
  bytesServed(path: string): number;
  /** Resolves at the first request `hold` picked. */
  readonly held: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a relay to `target` (moto's endpoint).
 * @param hold picks the requests to hold back (method, path with query, headers).
 */
export async function startS3Relay(
  target: string,
  hold: (request: IncomingMessage) => boolean = () => false,
): Promise<S3Relay> {
  const to = new URL(target);
  const served = new Map<string, number>();
  const heldResponses: ServerResponse[] = [];
  let onHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const server = createServer((incoming, response) => {
    if (hold(incoming)) {
      heldResponses.push(response);
      onHeld();
      return;
    }
    const path = decodeURIComponent((incoming.url ?? '/').split('?')[0] ?? '/');
    const outgoing = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: to.host },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          if (incoming.method === 'GET') served.set(path, (served.get(path) ?? 0) + chunk.length);
        });
        answer.pipe(response);
      },
    );
    outgoing.on('error', () => response.destroy());
    incoming.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytesServed: (path) => served.get(path) ?? 0,
    held,
    async close() {
      for (const response of heldResponses) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
