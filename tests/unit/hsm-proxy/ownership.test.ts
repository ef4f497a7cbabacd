/**
 * Issue 16, point 2, at the server: a data key wrapped through the proxy opens only for the user
 * it was wrapped for, or for the group a label is explicitly shared with; legacy wraps follow
 * the label's rule; each audit line names the caller and digests of the wrapped key and AAD.
 * (Before owner binding, bob opened alice's key under the same label and the log said "ok".)
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import type { Identity } from '../../../server/hsm-proxy/src/auth';
import type { PolicyDocument } from '../../../server/hsm-proxy/src/policy';
import { boundAad } from '../../../server/hsm-proxy/src/wrapped-key';
import { startFakeProxy, type FakeProxy } from './fake-proxy';

const identities: Record<string, Identity> = {
  alice: { sub: 'sub-alice', username: 'alice', groups: ['users', 'team-a'] },
  bob: { sub: 'sub-bob', username: 'bob', groups: ['users', 'team-a'] },
  carol: { sub: 'sub-carol', username: 'carol', groups: ['users'] },
};
const policy: PolicyDocument = {
  groups: { users: ['k', 'team'] },
  labels: { team: { sharedWithGroup: 'team-a' } },
};
const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');
const digest = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex').slice(0, 32);

let proxy: FakeProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function start(doc: PolicyDocument = policy): Promise<FakeProxy> {
  proxy = await startFakeProxy({ identities, policy: doc, labels: ['k', 'team'] });
  return proxy;
}

async function auditLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('owner-bound labels', () => {
  test('another user of the same label is refused 403 NOT_KEY_OWNER; the owner opens it', async () => {
    const p = await start();
    const aad = b64('ctx');
    const made = await p.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad });
    expect(made.status).toBe(200);
    const wrapped = Buffer.from(made.body.wrapped as string, 'base64');
    expect(wrapped).toHaveLength(80);
    expect(wrapped.subarray(0, 3)).toEqual(Buffer.from([0x56, 0x48, 2]));

    const request = { keyLabel: 'k', wrapped: made.body.wrapped, aad };
    const stolen = await p.post('/v1/data-keys/decrypt', 'bob', request);
    expect(stolen).toMatchObject({ status: 403, body: { error: 'NOT_KEY_OWNER' } });
    expect(stolen.body).not.toHaveProperty('plaintext');
    const opened = await p.post('/v1/data-keys/decrypt', 'alice', request);
    expect(opened).toMatchObject({ status: 200, body: { plaintext: made.body.plaintext } });

    // A key the caller brings (a second EDK) is bound the same way.
    const sealed = await p.post('/v1/data-keys/encrypt', 'alice', {
      keyLabel: 'k',
      plaintext: b64(randomBytes(32)),
      aad,
    });
    const again = { keyLabel: 'k', wrapped: sealed.body.wrapped, aad };
    expect((await p.post('/v1/data-keys/decrypt', 'bob', again)).body.error).toBe('NOT_KEY_OWNER');
    expect((await p.post('/v1/data-keys/decrypt', 'alice', again)).status).toBe(200);
  });

  test('rewriting the clear owner digest to the caller’s own does not open the key: the HSM checks the owner', async () => {
    const p = await start();
    const made = await p.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: '' });
    const forBob = await p.post('/v1/data-keys', 'bob', { keyLabel: 'k', aad: '' });
    const forged = Buffer.from(made.body.wrapped as string, 'base64');
    Buffer.from(forBob.body.wrapped as string, 'base64').copy(forged, 0, 0, 20);
    const reply = await p.post('/v1/data-keys/decrypt', 'bob', {
      keyLabel: 'k',
      wrapped: b64(forged),
      aad: '',
    });
    expect(reply).toMatchObject({ status: 400, body: { error: 'UNWRAP_FAILED' } });
    expect(reply.body).not.toHaveProperty('plaintext');
  });
});

describe('shared labels', () => {
  test('any member of the sharing group opens a wrap; a user granted the label outside the group does not', async () => {
    const p = await start();
    const made = await p.post('/v1/data-keys', 'alice', { keyLabel: 'team', aad: b64('t') });
    expect(made.status).toBe(200);
    const request = { keyLabel: 'team', wrapped: made.body.wrapped, aad: b64('t') };
    expect(await p.post('/v1/data-keys/decrypt', 'bob', request)).toMatchObject({
      status: 200,
      body: { plaintext: made.body.plaintext },
    });
    expect(await p.post('/v1/data-keys/decrypt', 'carol', request)).toMatchObject({
      status: 403,
      body: { error: 'NOT_IN_SHARING_GROUP' },
    });
    expect(await p.post('/v1/data-keys', 'carol', { keyLabel: 'team', aad: '' })).toMatchObject({
      status: 403,
      body: { error: 'NOT_IN_SHARING_GROUP' },
    });
  });

  test('a group wrap stops opening when the policy no longer shares the label', async () => {
    const shared = await start();
    const made = await shared.post('/v1/data-keys', 'alice', { keyLabel: 'team', aad: '' });
    const wrapped = made.body.wrapped as string;
    // A server whose policy makes the label owner-bound (its keys differ, but the refusal
    // comes before the HSM is asked).
    await shared.close();
    proxy = await startFakeProxy({
      identities,
      policy: { groups: { users: ['team'] }, labels: {} },
      labels: ['team'],
    });
    const reply = await proxy.post('/v1/data-keys/decrypt', 'alice', {
      keyLabel: 'team',
      wrapped,
      aad: '',
    });
    expect(reply).toMatchObject({ status: 403, body: { error: 'NOT_IN_SHARING_GROUP' } });
  });
});

describe('legacy wraps (made before owner binding)', () => {
  async function legacyWrap(p: FakeProxy, aad: Buffer): Promise<{ wrapped: string; key: string }> {
    const key = randomBytes(32);
    const wrapped = await p.keys.encryptDataKey('k', Buffer.from(key), aad);
    expect(wrapped).toHaveLength(60);
    return { wrapped: b64(wrapped), key: b64(key) };
  }

  test('open, for anyone the label grants, where the label accepts them, audited as legacy', async () => {
    const p = await start({ ...policy, labels: { k: { legacyWraps: 'accept' } } });
    const legacy = await legacyWrap(p, Buffer.from('old'));
    for (const user of ['alice', 'bob']) {
      expect(
        await p.post('/v1/data-keys/decrypt', user, {
          keyLabel: 'k',
          wrapped: legacy.wrapped,
          aad: b64('old'),
        }),
      ).toMatchObject({ status: 200, body: { plaintext: legacy.key } });
    }
    const lines = await auditLines(p.auditPath);
    expect(lines.map((line) => line.binding)).toEqual(['legacy', 'legacy']);
  });

  test('open under a policy written before owner binding (no "labels" section)', async () => {
    const p = await start({ groups: { users: ['k'] } });
    const legacy = await legacyWrap(p, Buffer.alloc(0));
    const reply = await p.post('/v1/data-keys/decrypt', 'alice', {
      keyLabel: 'k',
      wrapped: legacy.wrapped,
      aad: '',
    });
    expect(reply).toMatchObject({ status: 200, body: { plaintext: legacy.key } });
  });

  test('are refused 403 LEGACY_WRAP_REFUSED where the policy has labels and this one does not accept them', async () => {
    const p = await start();
    const legacy = await legacyWrap(p, Buffer.alloc(0));
    const reply = await p.post('/v1/data-keys/decrypt', 'alice', {
      keyLabel: 'k',
      wrapped: legacy.wrapped,
      aad: '',
    });
    expect(reply).toMatchObject({ status: 403, body: { error: 'LEGACY_WRAP_REFUSED' } });
  });
});

describe('a bound wrap cut down to look legacy', () => {
  // The attack: Bob strips the 20-byte prefix from Alice's owner-bound wrap, leaving 60 bytes
  // that look legacy, and sends as AAD exactly what the HSM authenticated for Alice: the bound
  // AAD, which he can build from her sub and the context in the object's header.
  for (const [name, doc] of [
    ['a label that accepts legacy wraps', { ...policy, labels: { k: { legacyWraps: 'accept' } } }],
    ['a policy written before owner binding', { groups: { users: ['k'] } }],
  ] as const) {
    test(`does not open for another user under ${name}`, async () => {
      const p = await start(doc as PolicyDocument);
      const aad = Buffer.from('the encryption context of alice');
      const made = await p.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: b64(aad) });
      expect(made.status).toBe(200);
      const wrapped = Buffer.from(made.body.wrapped as string, 'base64');
      expect(wrapped).toHaveLength(80);
      const forgedAad = boundAad({ kind: 'owner', name: identities.alice!.sub }, aad);
      const stripped = await p.post('/v1/data-keys/decrypt', 'bob', {
        keyLabel: 'k',
        wrapped: b64(wrapped.subarray(20)),
        aad: b64(forgedAad),
      });
      expect(stripped).toMatchObject({ status: 400, body: { error: 'UNWRAP_FAILED' } });
      expect(stripped.body.plaintext).toBeUndefined();
    });
  }
});

describe('audit lines', () => {
  test('name the caller, the binding, and digests of the wrapped key and the AAD, never the values', async () => {
    const p = await start();
    const aad = Buffer.from('purpose=audit');
    const made = await p.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: b64(aad) });
    const wrapped = Buffer.from(made.body.wrapped as string, 'base64');
    await p.post('/v1/data-keys/decrypt', 'bob', {
      keyLabel: 'k',
      wrapped: made.body.wrapped,
      aad: b64(aad),
    });
    const [generated, refused] = await auditLines(p.auditPath);
    expect(generated).toMatchObject({
      identity: { sub: 'sub-alice', username: 'alice' },
      operation: 'generate-data-key',
      binding: 'owner',
      wrappedSha256: digest(wrapped),
      aadSha256: digest(aad),
      result: 'ok',
      client: '127.0.0.1',
    });
    expect(refused).toMatchObject({
      identity: { sub: 'sub-bob', username: 'bob' },
      operation: 'decrypt',
      binding: 'owner',
      wrappedSha256: digest(wrapped),
      aadSha256: digest(aad),
      result: 'NOT_KEY_OWNER',
    });
    const text = await readFile(p.auditPath, 'utf8');
    expect(text).not.toContain(made.body.wrapped as string);
    expect(text).not.toContain(made.body.plaintext as string);
    expect(text).not.toContain(b64(aad));
  });
});
