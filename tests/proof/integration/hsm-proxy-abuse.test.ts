/**
 * The HSM proxy under bad input and load, against SoftHSM2 and moto's user pool: malformed and
 * mistyped bodies, wrong content types, oversized bodies (declared, streamed and chunked),
 * missing, forged, expired and wrong-audience tokens, labels outside the policy or absent from
 * the token, and a burst of a few hundred mixed requests at once. Every refusal carries the
 * status and code server/hsm-proxy/README.md documents, no request gets a 5xx, the proxy stays
 * healthy, and the audit log stays one well-formed JSON line per key operation, each matching
 * the answer its caller got. Prints the figures.
 */
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHsmProxy } from '../../../scripts/stack/hsm-proxy';
import { freePort } from '../../../scripts/stack/process';
import { DEMO } from '../../../scripts/stack/stack';
import { useLocalStack } from '../../integration/local-stack';
import { foreignToken, motoSignedToken } from './tokens';

const ORIGIN = 'http://127.0.0.1:5997';
const local = useLocalStack([ORIGIN], {
  hsmEnv: {
    VEIL_HSM_RATE_PER_SECOND: '100000',
    VEIL_HSM_RATE_BURST: '100000',
    VEIL_HSM_SESSIONS: '4',
  },
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly requestId: string | undefined;
}

/** One HTTP request with full control over headers and body (raw bytes, chunked or not). */
function send(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    headers?: OutgoingHttpHeaders;
    body?: string | Buffer;
    chunked?: boolean;
    localAddress?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined && !options.chunked && headers['content-length'] === undefined) {
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = request(
      `${baseUrl}${path}`,
      // A keep-alive connection as browsers use, new for each request: no case spills into the next.
      {
        method,
        headers,
        localAddress: options.localAddress,
        agent: new Agent({ keepAlive: true }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { unparsed: text };
          }
          const id = res.headers['x-request-id'];
          resolve({
            status: res.statusCode ?? 0,
            body,
            requestId: typeof id === 'string' ? id : undefined,
          });
        });
      },
    );
    // The proxy may answer (413) and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET'
        ? resolve({ status: -1, body: { error: error.code }, requestId: undefined })
        : reject(error),
    );
    if (options.chunked && options.body !== undefined) {
      const body = Buffer.from(options.body);
      for (let at = 0; at < body.length; at += 16 * 1024)
        req.write(body.subarray(at, at + 16 * 1024));
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

const json = (token: string | undefined, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
  ...extra,
});
const aadOf = (text: string): string => Buffer.from(text).toString('base64');

/** A request and the answer its caller must get. */
interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  readonly chunked?: boolean;
  readonly status: number;
  readonly error?: string;
}

let demo: string;
let wrapped: string;
const figures = {
  badInputCases: 0,
  burstRequests: 0,
  limitedBurst: 0,
  limited429: 0,
  auditLines: 0,
};

beforeAll(async () => {
  demo = local.stack.demoIdToken;
  const made = await send(local.stack.hsmUrl, 'POST', '/v1/data-keys', {
    headers: json(demo),
    body: JSON.stringify({ keyLabel: DEMO.hsmKeyLabel, aad: aadOf('proof') }),
  });
  expect(made.status).toBe(200);
  wrapped = made.body.wrapped as string;
});

afterAll(() => {
  console.log(
    `[proof] HSM proxy: ${figures.badInputCases} bad-input cases refused with the documented status and code; ` +
      `a burst of ${figures.burstRequests} mixed requests answered correctly; ` +
      `${figures.limited429} of ${figures.limitedBurst} over the rate answered 429; ` +
      `${figures.auditLines} audit lines well-formed; health OK after each`,
  );
});

function badInputCases(): Case[] {
  const generate = (body: unknown): string => JSON.stringify(body);
  const label = DEMO.hsmKeyLabel;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const current = { iat: nowSeconds - 60, exp: nowSeconds + 600 };
  const cases: Case[] = [];
  const add = (name: string, status: number, error: string, c: Partial<Case>): void => {
    cases.push({
      name,
      method: 'POST',
      path: '/v1/data-keys',
      headers: json(demo),
      status,
      error,
      ...c,
    });
  };
  // Malformed JSON and non-object JSON.
  for (const body of [
    '',
    '{',
    '{"keyLabel":',
    'null',
    '"text"',
    '42',
    '[1,2]',
    'true',
    '{"a":1}}',
  ]) {
    add(`malformed JSON ${JSON.stringify(body)}`, 400, 'MALFORMED_JSON', { body });
  }
  add('invalid UTF-8', 400, 'MALFORMED_JSON', { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
  // Wrong content types carrying non-JSON bodies: refused on the body, whatever the type says.
  for (const [type, body] of [
    ['application/x-www-form-urlencoded', `keyLabel=${label}&aad=`],
    [
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="keyLabel"\r\n\r\n${label}\r\n--x--`,
    ],
    ['text/plain', 'generate a data key please'],
    ['application/octet-stream', '\u0000\u0001\u0002'],
  ] as const) {
    add(`content type ${type}`, 400, 'MALFORMED_JSON', {
      body,
      headers: json(demo, { 'content-type': type }),
    });
  }
  // Well-formed JSON with wrong fields.
  for (const [name, body] of [
    ['label missing', { aad: '' }],
    ['label a number', { keyLabel: 7, aad: '' }],
    ['label with a space', { keyLabel: 'veil wrap', aad: '' }],
    ['label of 65 characters', { keyLabel: 'a'.repeat(65), aad: '' }],
    ['label non-ASCII', { keyLabel: 'clé', aad: '' }],
    ['aad missing', { keyLabel: label }],
    ['aad not base64', { keyLabel: label, aad: '%%%%' }],
    ['aad an object', { keyLabel: label, aad: {} }],
  ] as const) {
    add(name, 400, 'BAD_REQUEST', { body: generate(body) });
  }
  add('encrypt a 16-byte key', 400, 'BAD_REQUEST', {
    path: '/v1/data-keys/encrypt',
    body: generate({ keyLabel: label, plaintext: randomBytes(16).toString('base64'), aad: '' }),
  });
  add('decrypt a wrapped key over 1 KiB', 400, 'BAD_REQUEST', {
    path: '/v1/data-keys/decrypt',
    body: generate({ keyLabel: label, wrapped: randomBytes(2048).toString('base64'), aad: '' }),
  });
  add('decrypt with another AAD', 400, 'UNWRAP_FAILED', {
    path: '/v1/data-keys/decrypt',
    body: generate({ keyLabel: label, wrapped, aad: aadOf('other') }),
  });
  add('decrypt a truncated wrapped key', 400, 'UNWRAP_FAILED', {
    path: '/v1/data-keys/decrypt',
    body: generate({ keyLabel: label, wrapped: wrapped.slice(0, 40), aad: aadOf('proof') }),
  });
  // Oversized bodies: declared, sent in full, and chunked without a length.
  const big = generate({ keyLabel: label, aad: 'A'.repeat(200_000) });
  add('200 kB body', 413, 'BODY_TOO_LARGE', { body: big });
  const huge = generate({ keyLabel: label, aad: 'A'.repeat(5_000_000) });
  add('5 MB body', 413, 'BODY_TOO_LARGE', { body: huge });
  add('5 MB body, chunked', 413, 'BODY_TOO_LARGE', { body: huge, chunked: true });
  add('200 kB body, chunked', 413, 'BODY_TOO_LARGE', { body: big, chunked: true });
  // Tokens.
  const body = generate({ keyLabel: label, aad: '' });
  add('no token', 401, 'UNAUTHENTICATED', { body, headers: json(undefined) });
  add('Basic credentials', 401, 'UNAUTHENTICATED', {
    body,
    headers: json(undefined, { authorization: 'Basic ZGVtbzpkZW1v' }),
  });
  add('an empty bearer', 401, 'UNAUTHENTICATED', {
    body,
    headers: json(undefined, { authorization: 'Bearer ' }),
  });
  add('not a JWT', 401, 'TOKEN_INVALID', { body, headers: json('not.a.jwt') });
  add('signed by a key the proxy does not trust', 401, 'TOKEN_INVALID', {
    body,
    headers: json(foreignToken(local.stack, current)),
  });
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${demo.split('.')[1] ?? ''}`;
  // Without a signature part it is not a bearer JWT at all; with one, alg "none" is refused.
  add('alg none, no signature', 401, 'UNAUTHENTICATED', { body, headers: json(`${unsigned}.`) });
  add('alg none, any signature', 401, 'TOKEN_INVALID', { body, headers: json(`${unsigned}.AAAA`) });
  add('claims edited, signature kept', 401, 'TOKEN_INVALID', {
    body,
    headers: json(
      [
        demo.split('.')[0],
        Buffer.from(
          JSON.stringify({
            ...JSON.parse(Buffer.from(demo.split('.')[1] ?? '', 'base64url').toString()),
            'cognito:groups': ['veil-hsm-admins'],
          }),
        ).toString('base64url'),
        demo.split('.')[2],
      ].join('.'),
    ),
  });
  add('expired', 401, 'TOKEN_EXPIRED', { body, headers: json(motoSignedToken(local.stack, {})) });
  add('wrong audience', 401, 'TOKEN_INVALID', {
    body,
    headers: json(motoSignedToken(local.stack, { ...current, aud: 'another-client' })),
  });
  add('wrong issuer', 401, 'TOKEN_INVALID', {
    body,
    headers: json(
      motoSignedToken(local.stack, {
        ...current,
        iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other',
      }),
    ),
  });
  add('an access token', 401, 'TOKEN_INVALID', {
    body,
    headers: json(motoSignedToken(local.stack, { ...current, token_use: 'access' })),
  });
  // Labels.
  add('a label the policy does not grant', 403, 'FORBIDDEN_LABEL', {
    body: generate({ keyLabel: 'someone-else', aad: '' }),
  });
  add('unwrap under a label the policy does not grant', 403, 'FORBIDDEN_LABEL', {
    path: '/v1/data-keys/decrypt',
    body: generate({ keyLabel: 'someone-else', wrapped, aad: aadOf('proof') }),
  });
  add('create a key without being an administrator', 403, 'NOT_ADMIN', {
    path: '/v1/keys',
    body: generate({ label: 'mine' }),
  });
  // Routes and methods.
  for (const method of ['PUT', 'DELETE', 'PATCH'])
    add(`${method} on data keys`, 405, 'METHOD_NOT_ALLOWED', { method, body });
  add('GET on data keys', 405, 'METHOD_NOT_ALLOWED', { method: 'GET', body: undefined });
  add('an unknown route', 404, 'NOT_FOUND', {
    method: 'GET',
    path: '/v1/secrets',
    body: undefined,
  });
  add('a path traversal', 404, 'NOT_FOUND', {
    method: 'GET',
    path: '/v1/../../etc/passwd',
    body: undefined,
  });
  return cases;
}

async function runCase(baseUrl: string, c: Case): Promise<{ reply: Reply; problem?: string }> {
  const reply = await send(baseUrl, c.method, c.path, {
    headers: c.headers,
    body: c.body,
    chunked: c.chunked,
  });
  const ok = reply.status === c.status && (c.error === undefined || reply.body.error === c.error);
  const messageOk =
    c.error === undefined ||
    (typeof reply.body.message === 'string' && reply.body.message.length > 0);
  return ok && messageOk && reply.requestId
    ? { reply }
    : {
        reply,
        problem: `${c.name}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 160)} (expected ${c.status} ${c.error ?? ''})`,
      };
}

async function expectHealthy(baseUrl: string, localAddress?: string): Promise<void> {
  const health = await send(baseUrl, 'GET', '/v1/health', { localAddress });
  expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
}

/** Reads the audit log once it holds at least `minLines` lines, each parsed. */
async function auditLines(path: string, minLines: number): Promise<Record<string, unknown>[]> {
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n').filter((line) => line.length > 0);
    if (lines.length >= minLines || attempt === 50) {
      expect(text.endsWith('\n')).toBe(true);
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every line has exactly the documented fields, of the documented types. */
function expectWellFormed(lines: readonly Record<string, unknown>[]): void {
  for (const line of lines) {
    expect(Object.keys(line).sort()).toEqual([
      'aadSha256',
      'binding',
      'client',
      'identity',
      'label',
      'operation',
      'prev',
      'requestId',
      'result',
      'time',
      'wrappedSha256',
    ]);
    expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
    expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(['generate-data-key', 'encrypt', 'decrypt', 'list-keys', 'create-key']).toContain(
      line.operation,
    );
    expect(line.label === null || typeof line.label === 'string').toBe(true);
    expect(line.result).toMatch(/^(ok|[A-Z_]+)$/);
    const identity = line.identity as { sub?: unknown; username?: unknown } | null;
    if (identity !== null) {
      expect(Object.keys(identity).sort()).toEqual(['sub', 'username']);
      expect(typeof identity.sub).toBe('string');
    }
  }
}

describe('bad input', () => {
  test('each malformed, mistyped, oversized, unauthenticated or unauthorised request gets its documented refusal', async () => {
    const cases = badInputCases();
    const problems: string[] = [];
    for (const c of cases) {
      const { reply, problem } = await runCase(local.stack.hsmUrl, c);
      if (problem) problems.push(problem);
      expect(reply.status).toBeLessThan(500);
    }
    expect(problems).toEqual([]);
    figures.badInputCases = cases.length;
    await expectHealthy(local.stack.hsmUrl);
  });

  test('a declared length of 10 GB is answered 413 at once, while the body is still owed', async () => {
    const { hostname, port } = new URL(local.stack.hsmUrl);
    const head = [
      'POST /v1/data-keys HTTP/1.1',
      `Host: ${hostname}:${port}`,
      `Authorization: Bearer ${demo}`,
      'Content-Type: application/json',
      `Content-Length: ${10 * 1024 ** 3}`,
      '',
      '{"keyLabel":',
    ].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(head));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const [, body = ''] = text.split('\r\n\r\n');
        // The answer is chunked: wait for the end of its JSON object.
        if (body.includes('}')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answer.startsWith('HTTP/1.1 413 ')).toBe(true);
    // The body is chunked: the JSON object sits between the first { and the last }.
    const body = answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1);
    expect(JSON.parse(body)).toMatchObject({
      error: 'BODY_TOO_LARGE',
    });
    await expectHealthy(local.stack.hsmUrl);
  });

  test('a label the policy grants but the token lacks is KEY_NOT_FOUND (a proxy whose policy grants it)', async () => {
    const dir = join(local.dir, 'absent-label');
    mkdirSync(dir);
    const port = await freePort();
    const proxy = await startHsmProxy({
      port,
      dir,
      token: local.stack.token,
      keyLabel: DEMO.hsmKeyLabel,
      allowedOrigins: [ORIGIN],
      userPoolId: local.stack.aws.userPoolId,
      clientId: local.stack.aws.userPoolClientId,
      jwksUrl: `${local.stack.motoUrl}/${local.stack.aws.userPoolId}/.well-known/jwks.json`,
      defaultPolicy: { groups: { [DEMO.hsmUsersGroup]: [DEMO.hsmKeyLabel, 'absent-key'] } },
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      for (const path of ['/v1/data-keys', '/v1/data-keys/decrypt']) {
        const reply = await send(url, 'POST', path, {
          headers: json(demo),
          body: JSON.stringify({ keyLabel: 'absent-key', wrapped, aad: aadOf('proof') }),
        });
        expect(reply).toMatchObject({ status: 404, body: { error: 'KEY_NOT_FOUND' } });
      }
      await expectHealthy(url);
    } finally {
      await proxy.managed.stop();
    }
  });
});

describe('load', () => {
  test('a burst of 400 mixed requests at once: each answered as documented, the log complete and well-formed', async () => {
    const url = local.stack.hsmUrl;
    const before = (await auditLines(local.stack.hsmAuditLog, 0)).length;
    const label = DEMO.hsmKeyLabel;
    const kinds: ((i: number) => Case)[] = [
      (i) => ({
        name: `generate ${i}`,
        method: 'POST',
        path: '/v1/data-keys',
        headers: json(demo),
        body: JSON.stringify({ keyLabel: label, aad: aadOf(`burst-${i}`) }),
        status: 200,
      }),
      (i) => ({
        name: `unwrap ${i}`,
        method: 'POST',
        path: '/v1/data-keys/decrypt',
        headers: json(demo),
        body: JSON.stringify({ keyLabel: label, wrapped, aad: aadOf('proof') }),
        status: 200,
      }),
      (i) => ({
        name: `bad JSON ${i}`,
        method: 'POST',
        path: '/v1/data-keys',
        headers: json(demo),
        body: '{"keyLabel"',
        status: 400,
        error: 'MALFORMED_JSON',
      }),
      (i) => ({
        name: `no token ${i}`,
        method: 'POST',
        path: '/v1/data-keys',
        headers: json(undefined),
        body: '{}',
        status: 401,
        error: 'UNAUTHENTICATED',
      }),
      (i) => ({
        name: `forbidden ${i}`,
        method: 'POST',
        path: '/v1/data-keys',
        headers: json(demo),
        body: JSON.stringify({ keyLabel: 'someone-else', aad: '' }),
        status: 403,
        error: 'FORBIDDEN_LABEL',
      }),
      (i) => ({
        name: `wrong AAD ${i}`,
        method: 'POST',
        path: '/v1/data-keys/decrypt',
        headers: json(demo),
        body: JSON.stringify({ keyLabel: label, wrapped, aad: aadOf(`x${i}`) }),
        status: 400,
        error: 'UNWRAP_FAILED',
      }),
      (i) => ({
        name: `list ${i}`,
        method: 'GET',
        path: '/v1/keys',
        headers: json(demo),
        status: 200,
      }),
      (i) => ({ name: `health ${i}`, method: 'GET', path: '/v1/health', headers: {}, status: 200 }),
    ];
    const count = 400;
    const cases = Array.from({ length: count }, (_, i) =>
      (kinds[i % kinds.length] as (i: number) => Case)(i),
    );
    const results = await Promise.all(cases.map((c) => runCase(url, c)));
    expect(results.flatMap(({ problem }) => (problem ? [problem] : []))).toEqual([]);
    const generated = results
      .filter((_, i) => i % kinds.length === 0)
      .map(({ reply }) => reply.body.plaintext);
    expect(new Set(generated).size).toBe(generated.length);
    figures.burstRequests = count;
    await expectHealthy(url);

    // Every key operation (all but health) has exactly one audit line, with the caller's result.
    const keyOps = results.filter((_, i) => i % kinds.length !== 7);
    const lines = (await auditLines(local.stack.hsmAuditLog, before + keyOps.length)).slice(before);
    expectWellFormed(lines);
    const byId = new Map(lines.map((line) => [line.requestId, line]));
    expect(byId.size).toBe(lines.length);
    expect(lines).toHaveLength(keyOps.length);
    for (const { reply } of keyOps) {
      const line = byId.get(reply.requestId);
      expect(line?.result).toBe(reply.status === 200 ? 'ok' : reply.body.error);
    }
    const all = await auditLines(local.stack.hsmAuditLog, 0);
    expectWellFormed(all);
    const text = await readFile(local.stack.hsmAuditLog, 'utf8');
    expect(text).not.toContain(demo);
    expect(text).not.toContain(wrapped);
    figures.auditLines = all.length;
  });

  test('past its rate a proxy answers 429 RATE_LIMITED, not an error, and stays healthy', async () => {
    const dir = join(local.dir, 'limited');
    mkdirSync(dir);
    const port = await freePort();
    const proxy = await startHsmProxy({
      port,
      dir,
      token: local.stack.token,
      keyLabel: DEMO.hsmKeyLabel,
      allowedOrigins: [ORIGIN],
      userPoolId: local.stack.aws.userPoolId,
      clientId: local.stack.aws.userPoolClientId,
      jwksUrl: `${local.stack.motoUrl}/${local.stack.aws.userPoolId}/.well-known/jwks.json`,
      defaultPolicy: { groups: { [DEMO.hsmUsersGroup]: [DEMO.hsmKeyLabel] } },
      extraEnv: { VEIL_HSM_RATE_PER_SECOND: '1', VEIL_HSM_RATE_BURST: '20' },
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      const count = 200;
      const replies = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          send(url, 'POST', '/v1/data-keys', {
            headers: json(demo),
            body: JSON.stringify({ keyLabel: DEMO.hsmKeyLabel, aad: aadOf(`limited-${i}`) }),
          }),
        ),
      );
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
      const limited = replies.filter((reply) => reply.status === 429);
      // A burst of 20 and 1 per second: at most 20 + the seconds the burst took get through.
      expect(limited.length).toBeGreaterThan(0);
      for (const reply of limited) expect(reply.body.error).toBe('RATE_LIMITED');
      figures.limitedBurst = count;
      figures.limited429 = limited.length;
      // The per-address bucket of 127.0.0.1 is empty; health from another loopback address.
      await expectHealthy(url, '127.0.0.2');
      const lines = await auditLines(proxy.auditLog, 0);
      expectWellFormed(lines);
    } finally {
      await proxy.managed.stop();
    }
  });
});
