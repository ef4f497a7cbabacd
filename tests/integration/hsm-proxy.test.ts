/**
 * The HSM proxy over HTTP against a SoftHSM2 token in a temporary directory, with ID tokens from
 * the local Cognito user pool (moto). Forged tokens (expired, wrong audience) are signed with
 * moto's own user-pool key, which the moto package ships, so the proxy's verification is real.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { spawnSync } from 'node:child_process';
import { randomBytes, type JsonWebKey } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { beforeAll, describe, expect, test } from 'vitest';
import { startHsmProxy, type HsmProxyOptions } from '../../scripts/stack/hsm-proxy';
import { freePort } from '../../scripts/stack/process';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { rs256 } from '../proof/integration/tokens';
import { useLocalStack } from './local-stack';

const ORIGIN = 'http://127.0.0.1:5998';
let demo: string;
let outsider: string;
let admin: string;

async function signIn(username: string, groups: string[]): Promise<string> {
  const idp = new CognitoIdentityProviderClient({
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  const UserPoolId = local.stack.aws.userPoolId;
  const password = `Pw-${randomBytes(8).toString('hex')}-A1`;
  await idp.send(
    new AdminCreateUserCommand({ UserPoolId, Username: username, MessageAction: 'SUPPRESS' }),
  );
  await idp.send(
    new AdminSetUserPasswordCommand({
      UserPoolId,
      Username: username,
      Password: password,
      Permanent: true,
    }),
  );
  for (const GroupName of groups) {
    await idp.send(new AdminAddUserToGroupCommand({ UserPoolId, Username: username, GroupName }));
  }
  const auth = await idp.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: local.stack.aws.userPoolClientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  idp.destroy();
  return auth.AuthenticationResult?.IdToken ?? '';
}

/** An ID token signed with moto's user-pool key, with the claims given. */
function forge(claims: Record<string, unknown>): string {
  const jwk = JSON.parse(
    spawnSync(
      process.env.VEIL_PYTHON ?? 'python3',
      [
        '-c',
        "import json; from moto.utilities.utils import load_resource; print(json.dumps(load_resource('moto.cognitoidp.models', 'resources/jwks-private.json')))",
      ],
      { encoding: 'utf8' },
    ).stdout,
  ) as JsonWebKey;
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const nowSeconds = Math.floor(Date.now() / 1000);
  const payload = {
    iss: `https://cognito-idp.${local.stack.config.region}.amazonaws.com/${local.stack.aws.userPoolId}`,
    sub: 'forged-sub',
    aud: local.stack.aws.userPoolClientId,
    token_use: 'id',
    iat: nowSeconds - 7200,
    exp: nowSeconds - 3600,
    'cognito:username': 'forged',
    'cognito:groups': [DEMO.hsmUsersGroup],
    ...claims,
  };
  const input = `${b64({ alg: 'RS256', kid: 'dummy' })}.${b64(payload)}`;
  return `${input}.${rs256(Buffer.from(input), jwk)}`;
}

type Reply = { status: number; body: Record<string, unknown>; headers: Headers };

async function call(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  raw?: string,
): Promise<Reply> {
  const response = await fetch(`${local.stack.hsmUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined
      ? { body: JSON.stringify(body) }
      : raw !== undefined
        ? { body: raw }
        : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}

const aadOf = (text: string) => Buffer.from(text).toString('base64');

// A stack of its own (hsmEnv): its proxy runs with these limits, and the tests read its audit log.
const local = useLocalStack([ORIGIN], {
  hsmEnv: {
    VEIL_HSM_RATE_PER_SECOND: '100000',
    VEIL_HSM_RATE_BURST: '100000',
    VEIL_HSM_SESSIONS: '4',
  },
});

beforeAll(async () => {
  demo = local.stack.demoIdToken;
  outsider = await signIn('outsider', []);
  admin = await signIn('keeper', [DEMO.hsmAdminsGroup]);
});

describe('data keys', () => {
  test('a generated data key unwraps with the same AAD, and only with it', async () => {
    const made = await call('POST', '/v1/data-keys', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      aad: aadOf('ctx-1'),
    });
    expect(made.status).toBe(200);
    const plaintext = Buffer.from(made.body.plaintext as string, 'base64');
    const wrapped = Buffer.from(made.body.wrapped as string, 'base64');
    expect(plaintext).toHaveLength(32);
    expect(wrapped).toHaveLength(80);
    expect(wrapped.includes(plaintext)).toBe(false);

    const opened = await call('POST', '/v1/data-keys/decrypt', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      wrapped: made.body.wrapped,
      aad: aadOf('ctx-1'),
    });
    expect(opened.status).toBe(200);
    expect(opened.body.plaintext).toBe(made.body.plaintext);

    const wrongAad = await call('POST', '/v1/data-keys/decrypt', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      wrapped: made.body.wrapped,
      aad: aadOf('ctx-2'),
    });
    expect(wrongAad).toMatchObject({ status: 400, body: { error: 'UNWRAP_FAILED' } });

    for (const index of [0, 3, 20, 40, 79]) {
      const tampered = Buffer.from(wrapped);
      tampered[index]! ^= 0x01;
      const reply = await call('POST', '/v1/data-keys/decrypt', demo, {
        keyLabel: DEMO.hsmKeyLabel,
        wrapped: tampered.toString('base64'),
        aad: aadOf('ctx-1'),
      });
      expect(reply).toMatchObject({ status: 400, body: { error: 'UNWRAP_FAILED' } });
      expect(reply.body).not.toHaveProperty('plaintext');
    }
  });

  test('a data key the caller has is wrapped for a second EDK and unwraps to the same bytes', async () => {
    const dataKey = randomBytes(32).toString('base64');
    const sealed = await call('POST', '/v1/data-keys/encrypt', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      plaintext: dataKey,
      aad: aadOf('multi'),
    });
    expect(sealed.status).toBe(200);
    expect(sealed.body).not.toHaveProperty('plaintext');
    const opened = await call('POST', '/v1/data-keys/decrypt', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      wrapped: sealed.body.wrapped,
      aad: aadOf('multi'),
    });
    expect(opened.body.plaintext).toBe(dataKey);
    expect(
      await call('POST', '/v1/data-keys/encrypt', demo, {
        keyLabel: DEMO.hsmKeyLabel,
        plaintext: randomBytes(16).toString('base64'),
        aad: '',
      }),
    ).toMatchObject({ status: 400, body: { error: 'BAD_REQUEST' } });
  });

  test('hundreds of requests in flight all succeed', async () => {
    const count = 300;
    const made = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        call('POST', '/v1/data-keys', demo, { keyLabel: DEMO.hsmKeyLabel, aad: aadOf(`c${i}`) }),
      ),
    );
    expect(made.map((reply) => reply.status)).toEqual(Array(count).fill(200));
    expect(new Set(made.map((reply) => reply.body.plaintext)).size).toBe(count);
    const opened = await Promise.all(
      made.map((reply, i) =>
        call('POST', '/v1/data-keys/decrypt', demo, {
          keyLabel: DEMO.hsmKeyLabel,
          wrapped: reply.body.wrapped,
          aad: aadOf(`c${i}`),
        }),
      ),
    );
    expect(opened.map((reply, i) => reply.body.plaintext === made[i]?.body.plaintext)).toEqual(
      Array(count).fill(true),
    );
  });
});

describe('authentication and authorisation', () => {
  test('refuses requests without a valid, current ID token', async () => {
    const body = { keyLabel: DEMO.hsmKeyLabel, aad: aadOf('x') };
    expect(await call('POST', '/v1/data-keys', undefined, body)).toMatchObject({
      status: 401,
      body: { error: 'UNAUTHENTICATED' },
    });
    expect(await call('POST', '/v1/data-keys', 'not.a.jwt', body)).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_INVALID' },
    });
    expect(await call('POST', '/v1/data-keys', forge({}), body)).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_EXPIRED' },
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const current = { iat: nowSeconds - 60, exp: nowSeconds + 600 };
    expect(
      await call('POST', '/v1/data-keys', forge({ ...current, aud: 'another-client' }), body),
    ).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_INVALID' },
    });
    const [head, payload] = forge(current).split('.');
    expect(
      await call('POST', '/v1/data-keys', `${head}.${payload}.${'A'.repeat(342)}`, body),
    ).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_INVALID' },
    });
    // The same forged claims with a current expiry and moto's key are accepted: the refusals
    // above come from expiry, audience and signature, not from forging as such.
    expect((await call('POST', '/v1/data-keys', forge(current), body)).status).toBe(200);
  });

  test('a label outside the policy is refused, and listing shows only granted labels', async () => {
    const body = { keyLabel: DEMO.hsmKeyLabel, aad: aadOf('x') };
    expect(await call('POST', '/v1/data-keys', outsider, body)).toMatchObject({
      status: 403,
      body: { error: 'FORBIDDEN_LABEL' },
    });
    expect((await call('GET', '/v1/keys', outsider)).body).toEqual({ keys: [] });
    expect((await call('GET', '/v1/keys', demo)).body).toEqual({
      keys: [{ label: DEMO.hsmKeyLabel }],
    });
  });

  test('only administrators create keys; a new label is usable once the policy grants it', async () => {
    expect(await call('POST', '/v1/keys', demo, { label: 'team-b' })).toMatchObject({
      status: 403,
      body: { error: 'NOT_ADMIN' },
    });
    expect(await call('POST', '/v1/keys', admin, { label: 'team-b' })).toMatchObject({
      status: 201,
      body: { label: 'team-b' },
    });
    expect(await call('POST', '/v1/keys', admin, { label: 'team-b' })).toMatchObject({
      status: 409,
      body: { error: 'KEY_EXISTS' },
    });
    // The demo policy grants the demo group only veil-wrap-1.
    expect(
      await call('POST', '/v1/data-keys', demo, { keyLabel: 'team-b', aad: '' }),
    ).toMatchObject({
      status: 403,
      body: { error: 'FORBIDDEN_LABEL' },
    });
  });
});

describe('robustness', () => {
  test('malformed input gets clear 4xx errors and the proxy keeps serving', async () => {
    const cases: [Promise<Reply>, number, string][] = [
      [call('POST', '/v1/data-keys', demo, undefined, '{"keyLabel":'), 400, 'MALFORMED_JSON'],
      [call('POST', '/v1/data-keys', demo, undefined, '[1,2]'), 400, 'MALFORMED_JSON'],
      [
        call('POST', '/v1/data-keys', demo, { keyLabel: 'bad label!', aad: '' }),
        400,
        'BAD_REQUEST',
      ],
      [
        call('POST', '/v1/data-keys', demo, { keyLabel: DEMO.hsmKeyLabel, aad: '%%%' }),
        400,
        'BAD_REQUEST',
      ],
      [call('POST', '/v1/data-keys', demo, { keyLabel: DEMO.hsmKeyLabel }), 400, 'BAD_REQUEST'],
      [
        call('POST', '/v1/data-keys/decrypt', demo, {
          keyLabel: DEMO.hsmKeyLabel,
          wrapped: 'AAAA',
          aad: '',
        }),
        400,
        'UNWRAP_FAILED',
      ],
      [
        call('POST', '/v1/data-keys', demo, {
          keyLabel: DEMO.hsmKeyLabel,
          aad: 'A'.repeat(200_000),
        }),
        413,
        'BODY_TOO_LARGE',
      ],
      [call('GET', '/v1/data-keys', demo), 405, 'METHOD_NOT_ALLOWED'],
      [call('GET', '/v2/anything', demo), 404, 'NOT_FOUND'],
    ];
    for (const [reply, status, error] of cases) {
      expect(await reply).toMatchObject({ status, body: { error } });
    }
    expect((await call('GET', '/v1/health')).status).toBe(200);
  });

  test('CORS answers the app origin only, including the Authorization header', async () => {
    const preflight = await fetch(`${local.stack.hsmUrl}/v1/data-keys`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await fetch(`${local.stack.hsmUrl}/v1/data-keys`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.test' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('audit log', () => {
  test('records each key use with identity, operation, label and result, and no key material', async () => {
    const made = await call('POST', '/v1/data-keys', demo, {
      keyLabel: DEMO.hsmKeyLabel,
      aad: aadOf('audit'),
    });
    const ids = {
      ok: made.headers.get('x-request-id'),
      forbidden: (
        await call('POST', '/v1/data-keys', outsider, {
          keyLabel: DEMO.hsmKeyLabel,
          aad: aadOf('audit'),
        })
      ).headers.get('x-request-id'),
      anonymous: (
        await call('POST', '/v1/data-keys', undefined, { keyLabel: DEMO.hsmKeyLabel, aad: '' })
      ).headers.get('x-request-id'),
      refused: (
        await call('POST', '/v1/data-keys/decrypt', demo, {
          keyLabel: DEMO.hsmKeyLabel,
          wrapped: made.body.wrapped,
          aad: aadOf('not-audit'),
        })
      ).headers.get('x-request-id'),
      created: (await call('POST', '/v1/keys', admin, { label: 'audit-key' })).headers.get(
        'x-request-id',
      ),
    };
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = await readFile(local.stack.hsmAuditLog, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byId = (id: string | null) => lines.find((line) => line.requestId === id);
    expect(byId(ids.ok)).toMatchObject({
      identity: { username: DEMO.demoUser.username },
      operation: 'generate-data-key',
      label: DEMO.hsmKeyLabel,
      result: 'ok',
    });
    expect(byId(ids.forbidden)).toMatchObject({
      identity: { username: 'outsider' },
      label: DEMO.hsmKeyLabel,
      result: 'FORBIDDEN_LABEL',
    });
    expect(byId(ids.anonymous)).toMatchObject({ identity: null, result: 'UNAUTHENTICATED' });
    expect(byId(ids.refused)).toMatchObject({ operation: 'decrypt', result: 'UNWRAP_FAILED' });
    expect(byId(ids.created)).toMatchObject({
      operation: 'create-key',
      label: 'audit-key',
      result: 'ok',
    });
    expect(text).not.toContain(made.body.plaintext as string);
    expect(text).not.toContain(made.body.wrapped as string);
    expect(text).not.toContain(demo);
    for (const line of lines)
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
  });
});

/** A second proxy on the same token, with its own folder, policy, limits and options. */
async function secondProxy(name: string, options: Partial<HsmProxyOptions>) {
  const dir = join(local.dir, name);
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
    ...options,
  });
  return { dir, port, stop: () => proxy.managed.stop() };
}

function httpsPost(url: string, ca: Buffer, token: string, body: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        ca,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
            headers: new Headers(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('a second proxy', () => {
  test('serves the API over HTTPS with the configured certificate, and nothing in clear', async () => {
    const certDir = mkdtempSync(join(local.dir, 'cert-'));
    const certFile = join(certDir, 'proxy-cert.pem');
    const keyFile = join(certDir, 'proxy-key.pem');
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const proxy = await secondProxy('tls', { tls: { certFile, keyFile } });
    try {
      const ca = await readFile(certFile);
      const url = `https://127.0.0.1:${proxy.port}`;
      const reply = await httpsPost(`${url}/v1/data-keys`, ca, demo, {
        keyLabel: DEMO.hsmKeyLabel,
        aad: aadOf('tls'),
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toHaveProperty('wrapped');
      // Granted by this proxy's policy but not on the token.
      expect(
        await httpsPost(`${url}/v1/data-keys`, ca, demo, { keyLabel: 'absent-key', aad: '' }),
      ).toMatchObject({
        status: 404,
        body: { error: 'KEY_NOT_FOUND' },
      });
      await expect(fetch(`http://127.0.0.1:${proxy.port}/v1/health`)).rejects.toThrow();
    } finally {
      await proxy.stop();
    }
  });

  test('answers 429 past the rate it is configured for, and serves again after a pause', async () => {
    const proxy = await secondProxy('limited', {
      extraEnv: { VEIL_HSM_RATE_PER_SECOND: '5', VEIL_HSM_RATE_BURST: '3' },
    });
    try {
      const post = () =>
        fetch(`http://127.0.0.1:${proxy.port}/v1/data-keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${demo}`, 'content-type': 'application/json' },
          body: JSON.stringify({ keyLabel: DEMO.hsmKeyLabel, aad: '' }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await post()).status);
      expect(statuses).toContain(429);
      expect(statuses[0]).toBe(200);
      const limited = await post();
      expect(await limited.json()).toMatchObject({ error: 'RATE_LIMITED' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await post()).status).toBe(200);
    } finally {
      await proxy.stop();
    }
  });
});
