/**
 * Issue 16, points 2 and 6, against the real proxy on SoftHSM2 with users of the local Cognito
 * pool (moto): a data key opens only for the user it was wrapped for, or for the group a label is
 * shared with; legacy wraps follow the label's rule; tokens need `exp`, `iat` and a bounded age;
 * no data key leaves unaudited; unauthenticated traffic behind a trusted balancer starves nobody;
 * and `npm run audit:verify` checks the stack's log.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Hsm } from '../../server/hsm-proxy/src/hsm';
import type { PolicyDocument } from '../../server/hsm-proxy/src/policy';
import { decryptBytes, encryptBytes } from '../../src/core';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { startHsmProxy } from '../../scripts/stack/hsm-proxy';
import { freePort } from '../../scripts/stack/process';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { motoSignedToken } from '../proof/integration/tokens';
import { useLocalStack } from './local-stack';

const ORIGIN = 'http://127.0.0.1:5996';
const LABEL = DEMO.hsmKeyLabel;
const local = useLocalStack([ORIGIN]);
let demo: string;
let colleague: string;
let hsm: Hsm | undefined;
const stops: (() => Promise<void>)[] = [];

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

type Reply = { status: number; body: Record<string, unknown> };

async function call(
  baseUrl: string,
  path: string,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Another proxy on the stack's token with its own policy and settings. */
async function proxyWith(
  name: string,
  policy: PolicyDocument,
  env: NodeJS.ProcessEnv = {},
): Promise<{ url: string; auditLog: string }> {
  const dir = join(local.dir, name);
  mkdirSync(dir);
  const port = await freePort();
  const proxy = await startHsmProxy({
    port,
    dir,
    token: local.stack.token,
    keyLabel: LABEL,
    allowedOrigins: [ORIGIN],
    userPoolId: local.stack.aws.userPoolId,
    clientId: local.stack.aws.userPoolClientId,
    jwksUrl: `${local.stack.motoUrl}/${local.stack.aws.userPoolId}/.well-known/jwks.json`,
    defaultPolicy: policy,
    extraEnv: env,
  });
  stops.push(() => proxy.managed.stop());
  return { url: `http://127.0.0.1:${port}`, auditLog: proxy.auditLog };
}

/** A wrap as the proxy made them before owner binding: the HSM's 60 bytes under the AAD alone. */
async function legacyWrap(aad: Buffer): Promise<{ wrapped: string; key: string }> {
  if (!hsm) {
    process.env.SOFTHSM2_CONF = local.stack.token.conf;
    hsm = await Hsm.open(
      {
        libraryPath: local.stack.token.libraryPath,
        tokenLabel: local.stack.token.tokenLabel,
        pin: local.stack.token.pin,
        ivSource: 'caller',
      },
      1,
    );
  }
  const key = randomBytes(32);
  const wrapped = await hsm.keys.encryptDataKey(LABEL, Buffer.from(key), aad);
  expect(wrapped).toHaveLength(60);
  return { wrapped: wrapped.toString('base64'), key: key.toString('base64') };
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

beforeAll(async () => {
  demo = local.stack.demoIdToken;
  colleague = await signIn('colleague', [DEMO.hsmUsersGroup]);
});

afterAll(async () => {
  for (const stop of stops) await stop();
  await hsm?.close();
});

describe('point 2: a data key opens only for its owner', () => {
  test('a colleague granted the same label is refused 403 NOT_KEY_OWNER; the owner opens it', async () => {
    const url = local.stack.hsmUrl;
    const made = await call(url, '/v1/data-keys', demo, { keyLabel: LABEL, aad: b64('mine') });
    expect(made.status).toBe(200);
    const request = { keyLabel: LABEL, wrapped: made.body.wrapped, aad: b64('mine') };
    const stolen = await call(url, '/v1/data-keys/decrypt', colleague, request);
    expect(stolen).toMatchObject({ status: 403, body: { error: 'NOT_KEY_OWNER' } });
    expect(stolen.body).not.toHaveProperty('plaintext');
    expect(await call(url, '/v1/data-keys/decrypt', demo, request)).toMatchObject({
      status: 200,
      body: { plaintext: made.body.plaintext },
    });
  });

  test('through the keyring: the owner decrypts a Model B message, a colleague gets HSM_NOT_OWNER', async () => {
    const plaintext = new Uint8Array(randomBytes(70_000));
    const keyring = (token: string) =>
      new HsmProxyKeyring({ proxyUrl: local.stack.hsmUrl, keyLabel: LABEL, idToken: () => token });
    const message = await encryptBytes(plaintext, {
      keyring: keyring(demo),
      encryptionContext: { 'veil-purpose': 'owner-test' },
      frameBytes: 65536,
    });
    expect(await decryptBytes(message, { keyring: keyring(demo) })).toEqual(plaintext);
    await expect(decryptBytes(message, { keyring: keyring(colleague) })).rejects.toMatchObject({
      code: 'HSM_NOT_OWNER',
    });
  });

  test('a label shared with a group opens for any member; legacy wraps follow the label’s rule', async () => {
    const shared = await proxyWith('shared', {
      groups: { [DEMO.hsmUsersGroup]: [LABEL] },
      labels: { [LABEL]: { sharedWithGroup: DEMO.hsmUsersGroup, legacyWraps: 'accept' } },
    });
    const made = await call(shared.url, '/v1/data-keys', demo, { keyLabel: LABEL, aad: b64('t') });
    expect(made.status).toBe(200);
    const request = { keyLabel: LABEL, wrapped: made.body.wrapped, aad: b64('t') };
    expect(await call(shared.url, '/v1/data-keys/decrypt', colleague, request)).toMatchObject({
      status: 200,
      body: { plaintext: made.body.plaintext },
    });
    // The main proxy's label is owner-bound: the group wrap is not for it.
    expect(
      await call(local.stack.hsmUrl, '/v1/data-keys/decrypt', colleague, request),
    ).toMatchObject({ status: 403, body: { error: 'NOT_IN_SHARING_GROUP' } });

    const legacy = await legacyWrap(Buffer.from('old'));
    const old = { keyLabel: LABEL, wrapped: legacy.wrapped, aad: b64('old') };
    // Where the label accepts legacy wraps they open, for the group as before, audited "legacy".
    expect(await call(shared.url, '/v1/data-keys/decrypt', demo, old)).toMatchObject({
      status: 200,
      body: { plaintext: legacy.key },
    });
    const lines = readFileSync(shared.auditLog, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ binding: 'legacy', result: 'ok' });
    // The stack's own policy has label rules and no legacy acceptance.
    expect(await call(local.stack.hsmUrl, '/v1/data-keys/decrypt', demo, old)).toMatchObject({
      status: 403,
      body: { error: 'LEGACY_WRAP_REFUSED' },
    });
  });
});

describe('point 6: tokens, audit, limits', () => {
  test('a token needs exp and iat, and is refused once older than the cap', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = { keyLabel: LABEL, aad: '' };
    const url = local.stack.hsmUrl;
    const noExp = motoSignedToken(local.stack, { iat: now - 60, exp: undefined });
    expect(await call(url, '/v1/data-keys', noExp, body)).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_INVALID' },
    });
    const noIat = motoSignedToken(local.stack, { iat: undefined, exp: now + 600 });
    expect((await call(url, '/v1/data-keys', noIat, body)).body.error).toBe('TOKEN_INVALID');
    const old = motoSignedToken(local.stack, { iat: now - 7200, exp: now + 600 });
    expect(await call(url, '/v1/data-keys', old, body)).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_EXPIRED' },
    });
    const fresh = motoSignedToken(local.stack, { iat: now - 60, exp: now + 600 });
    expect((await call(url, '/v1/data-keys', fresh, body)).status).toBe(200);
  });

  test('with its audit log on a full disk, the proxy returns 500 AUDIT_FAILED and no data key', async () => {
    const full = await proxyWith(
      'full-disk',
      { groups: { [DEMO.hsmUsersGroup]: [LABEL] }, labels: {} },
      { VEIL_HSM_AUDIT_LOG: '/dev/full' },
    );
    const reply = await call(full.url, '/v1/data-keys', demo, { keyLabel: LABEL, aad: '' });
    expect(reply).toMatchObject({ status: 500, body: { error: 'AUDIT_FAILED' } });
    expect(reply.body).not.toHaveProperty('plaintext');
    expect((await call(full.url, '/v1/health', undefined, undefined)).status).toBe(503);
  });

  test('behind a trusted balancer, 30 unauthenticated requests starve neither a user nor health', async () => {
    const balanced = await proxyWith(
      'balanced',
      { groups: { [DEMO.hsmUsersGroup]: [LABEL] }, labels: {} },
      {
        VEIL_HSM_TRUSTED_PROXIES: '127.0.0.1',
        VEIL_HSM_RATE_PER_SECOND: '1',
        VEIL_HSM_RATE_BURST: '5',
      },
    );
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const reply = await call(balanced.url, '/v1/data-keys', undefined, {}, attacker);
      statuses.push(reply.status);
    }
    expect(statuses).toContain(429);
    const user = { 'x-forwarded-for': '198.51.100.7' };
    const body = { keyLabel: LABEL, aad: '' };
    expect((await call(balanced.url, '/v1/data-keys', demo, body, user)).status).toBe(200);
    expect((await call(balanced.url, '/v1/health', undefined, undefined, attacker)).status).toBe(
      200,
    );
    const lines = readFileSync(balanced.auditLog, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ client: '198.51.100.7' });
  });

  test('npm run audit:verify passes the stack’s log and names the line after an edit', () => {
    const verify = (path: string) =>
      spawnSync('npm', ['run', '--silent', 'audit:verify', '--', path], { encoding: 'utf8' });
    const intact = verify(local.stack.hsmAuditLog);
    expect(intact.status, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/chain intact; last hash [0-9a-f]{64}/);
    const copy = join(local.dir, 'edited-audit.log');
    copyFileSync(local.stack.hsmAuditLog, copy);
    const lines = readFileSync(copy, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    lines[1] = (lines[1] ?? '').replace('"result":"', '"result":"x');
    writeFileSync(copy, `${lines.join('\n')}\n`);
    const broken = verify(copy);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('line 3 breaks the chain');
  });
});
