/**
 * The wire scanner (tests/support/wire-scan.ts) finds any 32-byte window of a secret at any
 * offset, raw or encoded as base64, base64url or hex, and nothing shorter: the wire audit's
 * claims rest on it.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  SecretIndex,
  WINDOW_BYTES,
  decodedViews,
  scanRequests,
  type WireRequest,
} from '../../support/wire-scan';

const plaintext = new Uint8Array(randomBytes(100_000));
const key = new Uint8Array(randomBytes(32));
const index = new SecretIndex({ plaintext, key });

function request(body: Uint8Array | string, target = '/bucket/object'): WireRequest {
  return {
    origin: 'http://127.0.0.1:1',
    method: 'PUT',
    target,
    headerText: 'content-type: application/octet-stream',
    body: typeof body === 'string' ? Buffer.from(body) : body,
  };
}

const noise = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

function embed(secret: Uint8Array, before: number, after: number): Uint8Array {
  return Buffer.concat([noise(before), secret, noise(after)]);
}

describe('wire scan', () => {
  test('indexes one window per byte position of each secret', () => {
    expect(index.windows).toBe(100_000 - 31 + 1);
  });

  test('finds a window of the plaintext at any offset, exactly where it is', () => {
    const starts = [0, 1, 15, 16, 17, 54_321, 100_000 - WINDOW_BYTES];
    for (let i = 0; i < 200; i++) starts.push(Math.floor(Math.random() * (100_000 - 32)));
    for (const start of starts) {
      const before = 1 + (start % 37);
      const body = embed(plaintext.subarray(start, start + WINDOW_BYTES), before, 50);
      // The bytes around differ from the secret's neighbours, so the run is exactly 32 bytes.
      if (start > 0) body[before - 1] = plaintext[start - 1]! ^ 0xff;
      if (start + WINDOW_BYTES < plaintext.length) {
        body[before + WINDOW_BYTES] = plaintext[start + WINDOW_BYTES]! ^ 0xff;
      }
      const { hits } = scanRequests(index, [request(body)]);
      const wire = hits.filter((entry) => entry.hit.view === 'wire');
      expect(wire).toHaveLength(1);
      expect(wire[0]!.hit).toMatchObject({ secret: 'plaintext', secretOffset: start });
    }
  });

  test('31 bytes of a secret, or 32 with one byte changed, are not a hit', () => {
    const short = embed(plaintext.subarray(500, 531), 10, 10);
    short[9] = plaintext[499]! ^ 0xff;
    short[41] = plaintext[531]! ^ 0xff;
    const changed = plaintext.slice(600, 632);
    changed[17] = changed[17]! ^ 1;
    const { hits, totals } = scanRequests(index, [request(short), request(embed(changed, 5, 5))]);
    expect(hits).toEqual([]);
    expect(totals.requests).toBe(2);
  });

  test('finds the key in headers and in the URL, raw or percent-encoded', () => {
    const latin1 = Buffer.from(key).toString('latin1');
    const inHeader: WireRequest = { ...request(noise(100)), headerText: `x-thing: ${latin1}` };
    const percent = Array.from(key, (byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    const inUrl = request(noise(10), `/b/o?k=${percent}`);
    const { hits } = scanRequests(index, [inHeader, inUrl]);
    expect(hits.map((entry) => [entry.request === inHeader, entry.hit.secret])).toContainEqual([
      true,
      'key',
    ]);
    expect(hits.some((entry) => entry.request === inUrl && entry.hit.view === 'url')).toBe(true);
  });

  test('finds the key sent as base64, base64url or hex, at any alignment', () => {
    const encodings = [
      Buffer.from(key).toString('base64'),
      Buffer.from(key).toString('base64url'),
      Buffer.from(key).toString('hex'),
      Buffer.from(key).toString('hex').toUpperCase(),
      // Inside a longer encoded value that starts 1 and 2 bytes before the key.
      Buffer.concat([noise(1), key, noise(5)]).toString('base64'),
      Buffer.concat([noise(2), key, noise(5)]).toString('base64url'),
    ];
    for (const encoded of encodings) {
      const { hits } = scanRequests(index, [request(JSON.stringify({ plaintext: encoded }))]);
      expect(hits.map((entry) => entry.hit.secret)).toContain('key');
    }
  });

  test('finds plaintext that was base64-encoded into a JSON body', () => {
    const encoded = Buffer.from(plaintext.subarray(9000, 9100)).toString('base64');
    const { hits } = scanRequests(index, [request(`{"data":"${encoded}"}`)]);
    expect(hits.map((entry) => entry.hit.secret)).toContain('plaintext');
  });

  test('random ciphertext-like bodies give no hits, and the totals count every byte', () => {
    const bodies = Array.from({ length: 4 }, () => request(noise(200_000)));
    const { hits, totals } = scanRequests(index, bodies);
    expect(hits).toEqual([]);
    expect(totals.wireBytes).toBeGreaterThan(800_000);
  });

  test('decoded views cover every alignment of a run', () => {
    const run = Buffer.from(noise(60)).toString('base64');
    expect(decodedViews(run).filter((view) => view.label === 'base64')).toHaveLength(4);
    expect(decodedViews('ab'.repeat(40)).filter((view) => view.label === 'hex')).toHaveLength(2);
  });

  test('refuses a secret shorter than a window', () => {
    expect(() => new SecretIndex({ short: new Uint8Array(31) })).toThrow(RangeError);
  });
});
