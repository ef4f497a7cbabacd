/**
 * Issue 16, point 6 (rate limits and tokens): behind a load balancer each client keeps its own
 * bucket, authenticated callers are limited per identity, unauthenticated traffic never starves
 * a user or the health check, and a token needs `exp` and `iat` and must be recent. Before this,
 * 30 unauthenticated requests from one address made the next legitimate request and
 * /v1/health answer 429, and a token without `exp` never expired.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { AuthError, checkTokenAge, type Identity } from '../../../server/hsm-proxy/src/auth';
import { clientAddress, parseTrustedProxies } from '../../../server/hsm-proxy/src/client-address';
import { startFakeProxy, type FakeProxy } from './fake-proxy';

const identities: Record<string, Identity> = {
  alice: { sub: 'sub-alice', username: 'alice', groups: ['users'] },
  bob: { sub: 'sub-bob', username: 'bob', groups: ['users'] },
};
const policy = { groups: { users: ['k'] }, labels: {} };

let proxy: FakeProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe('the client address', () => {
  const trusted = parseTrustedProxies('10.0.0.0/16, 127.0.0.1, 2001:db8::/32');

  test.each([
    [
      'an untrusted peer: its own address, whatever the header says',
      '198.51.100.1',
      '1.2.3.4',
      '198.51.100.1',
    ],
    [
      'a trusted peer: the rightmost untrusted hop',
      '10.0.3.4',
      '1.2.3.4, 203.0.113.7',
      '203.0.113.7',
    ],
    [
      'trusted hops are skipped from the right',
      '10.0.3.4',
      '6.6.6.6, 203.0.113.7, 10.0.9.9',
      '203.0.113.7',
    ],
    ['a trusted peer without the header: the peer', '10.0.3.4', undefined, '10.0.3.4'],
    ['an IPv4-mapped IPv6 peer', '::ffff:127.0.0.1', '203.0.113.8', '203.0.113.8'],
    ['an IPv6 trusted range', '2001:db8::1', '2001:db8::2, 203.0.113.9', '203.0.113.9'],
  ] as const)('%s', (_, peer, header, expected) => {
    expect(clientAddress(peer, header, trusted)).toBe(expected);
  });

  test('no trusted proxies (the default): the header is ignored', () => {
    expect(clientAddress('127.0.0.1', '1.2.3.4', parseTrustedProxies(''))).toBe('127.0.0.1');
  });

  test.each(['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', '::1/129'])(
    'a malformed entry %j is refused, named',
    (entry) => {
      expect(() => parseTrustedProxies(entry)).toThrow(entry);
    },
  );
});

describe('rate limits behind a load balancer', () => {
  const start = async () => {
    proxy = await startFakeProxy({
      identities,
      policy,
      ratePerSecond: 1,
      rateBurst: 3,
      trustedProxies: '127.0.0.1',
    });
    return proxy;
  };
  const from = (address: string) => ({ 'x-forwarded-for': address });

  test('30 unauthenticated requests starve neither a user behind the same balancer, nor the same address, nor health', async () => {
    const p = await start();
    const anonymous = [];
    for (let i = 0; i < 30; i++) {
      anonymous.push(
        await p.post('/v1/data-keys', undefined, { keyLabel: 'k', aad: '' }, from('203.0.113.66')),
      );
    }
    expect(anonymous.map((reply) => reply.status)).toContain(429);
    const body = { keyLabel: 'k', aad: '' };
    expect((await p.post('/v1/data-keys', 'alice', body, from('198.51.100.7'))).status).toBe(200);
    // Even from the attacker's own address: a valid token draws on its identity's bucket.
    expect((await p.post('/v1/data-keys', 'bob', body, from('203.0.113.66'))).status).toBe(200);
    expect((await p.get('/v1/health', undefined, from('203.0.113.66'))).status).toBe(200);
    expect((await p.get('/v1/health')).status).toBe(200);
  });

  test('each identity has its own bucket, taken after the token check', async () => {
    const p = await start();
    const body = { keyLabel: 'k', aad: '' };
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await p.post('/v1/data-keys', 'alice', body)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    expect((await p.post('/v1/data-keys', 'bob', body)).status).toBe(200);
  });

  test('the audit line records the client address the balancer saw, not one the client wrote', async () => {
    const p = await start();
    await p.post(
      '/v1/data-keys',
      'alice',
      { keyLabel: 'k', aad: '' },
      from('6.6.6.6, 198.51.100.7'),
    );
    const [line] = (await readFile(p.auditPath, 'utf8')).trim().split('\n');
    expect(JSON.parse(line ?? '{}')).toMatchObject({ client: '198.51.100.7' });
  });
});

describe('token claims', () => {
  const now = 1_800_000_000;
  const codeOf = (payload: Record<string, unknown>, maxAge = 3600): string | undefined => {
    try {
      checkTokenAge(payload, maxAge, now);
      return undefined;
    } catch (error) {
      return error instanceof AuthError ? error.code : 'other';
    }
  };

  test.each([
    ['current', { iat: now - 60, exp: now + 3000 }, undefined],
    ['without exp', { iat: now - 60 }, 'TOKEN_INVALID'],
    ['without iat', { exp: now + 3000 }, 'TOKEN_INVALID'],
    ['exp not a number', { iat: now, exp: '9999999999' }, 'TOKEN_INVALID'],
    ['issued in the future', { iat: now + 600, exp: now + 4000 }, 'TOKEN_INVALID'],
    ['at the age cap plus skew', { iat: now - 3660, exp: now + 60 }, undefined],
    [
      'older than the cap, even with a far exp',
      { iat: now - 3661, exp: now + 86_400 },
      'TOKEN_EXPIRED',
    ],
  ] as const)('a token %s', (_, payload, code) => {
    expect(codeOf(payload)).toBe(code);
  });

  test('the cap is configurable', () => {
    expect(codeOf({ iat: now - 700, exp: now + 60 }, 600)).toBe('TOKEN_EXPIRED');
  });
});
