/**
 * [Note: HSM API contract]: the browser's client and the proxy's server speak the one contract in
 * src/keyrings/hsm-api.ts. The server's catalogue has exactly the contract's codes, its wrap sizes
 * are the contract's, every route answers where the contract says, and the Model B keyring
 * round-trips against the real server (in process, memory keys in place of the HSM).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { API_ERRORS } from '../../../server/hsm-proxy/src/api-errors';
import type { Identity } from '../../../server/hsm-proxy/src/auth';
import { DATA_KEY_BYTES } from '../../../server/hsm-proxy/src/keys';
import {
  BOUND_WRAPPED_BYTES,
  LEGACY_WRAPPED_BYTES,
} from '../../../server/hsm-proxy/src/wrapped-key';
import {
  HSM_API_VERSION,
  HSM_DATA_KEY_BYTES,
  HSM_ERROR_CODES,
  HSM_ROUTES,
  HSM_SERVICE_NAME,
  HSM_WRAPPED_KEY_BYTES,
  hsmRouteOf,
  isHsmErrorCode,
  isHsmPath,
} from '../../../src/keyrings/hsm-api';
import { HsmProxyKeyring, listHsmKeyLabels } from '../../../src/keyrings/hsm-proxy';
import { startFakeProxy, type FakeProxy } from './fake-proxy';

const identities: Record<string, Identity> = {
  alice: { sub: 'sub-alice', username: 'alice', groups: ['users'] },
};

let proxy: FakeProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function start(): Promise<FakeProxy> {
  proxy = await startFakeProxy({ identities, policy: { groups: { users: ['k'] } }, labels: ['k'] });
  return proxy;
}

describe('the contract and the server agree', () => {
  test('the server catalogues exactly the contract`s error codes', () => {
    expect(Object.keys(API_ERRORS).sort()).toEqual([...HSM_ERROR_CODES].sort());
    expect(isHsmErrorCode('NOT_KEY_OWNER')).toBe(true);
    expect(isHsmErrorCode('toString')).toBe(false);
  });

  test('wrapped-key and data-key sizes are the server`s', () => {
    expect(HSM_WRAPPED_KEY_BYTES).toEqual({
      legacy: LEGACY_WRAPPED_BYTES,
      ownerBound: BOUND_WRAPPED_BYTES,
    });
    expect(HSM_DATA_KEY_BYTES).toBe(DATA_KEY_BYTES);
  });

  test('routes are looked up by method and path', () => {
    expect(hsmRouteOf('POST', '/v1/data-keys/decrypt')).toBe('decryptDataKey');
    expect(hsmRouteOf('GET', '/v1/keys')).toBe('listKeys');
    expect(hsmRouteOf('POST', '/v1/keys')).toBe('createKey');
    expect(hsmRouteOf('GET', '/v1/data-keys')).toBeUndefined();
    expect(isHsmPath('/v1/data-keys')).toBe(true);
    expect(isHsmPath('/v1/secrets')).toBe(false);
  });

  test('every route is served; another method is METHOD_NOT_ALLOWED, another path NOT_FOUND', async () => {
    const p = await start();
    for (const route of Object.values(HSM_ROUTES)) {
      const reply =
        route.method === 'GET'
          ? await p.get(route.path, 'alice')
          : await p.post(route.path, 'alice', {});
      expect([404, 405]).not.toContain(reply.status);
    }
    const postOnly = await p.get(HSM_ROUTES.generateDataKey.path, 'alice');
    expect(postOnly).toMatchObject({ status: 405, body: { error: 'METHOD_NOT_ALLOWED' } });
    const getOnly = await p.post(HSM_ROUTES.health.path, 'alice', {});
    expect(getOnly).toMatchObject({ status: 405, body: { error: 'METHOD_NOT_ALLOWED' } });
    expect(await p.get('/v1/secrets', 'alice')).toMatchObject({
      status: 404,
      body: { error: 'NOT_FOUND' },
    });
  });

  test('the health answer has the contract`s service name and version', async () => {
    const p = await start();
    expect((await p.get(HSM_ROUTES.health.path)).body).toMatchObject({
      service: HSM_SERVICE_NAME,
      apiVersion: HSM_API_VERSION,
      status: 'ok',
      defaultKey: { label: 'k', found: true },
    });
  });
});

describe('the Model B keyring against the real server', () => {
  test('generate, wrap a second time, unwrap and list labels', async () => {
    const p = await start();
    const options = { proxyUrl: p.url, idToken: () => 'alice' };
    const keyring = new HsmProxyKeyring({ ...options, keyLabel: 'k' });
    const encryptionContext = { 'veil-app': 'veil', 'veil-bucket': 'b' };
    const made = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext });
    expect(made.dataKey).toHaveLength(HSM_DATA_KEY_BYTES);
    expect(made.encryptedDataKeys[0]?.ciphertext).toHaveLength(HSM_WRAPPED_KEY_BYTES.ownerBound);
    const again = await keyring.onEncrypt({
      suiteId: 0x0478,
      encryptionContext,
      dataKey: made.dataKey,
    });
    const reader = new HsmProxyKeyring(options);
    for (const edk of [...made.encryptedDataKeys, ...again.encryptedDataKeys]) {
      const opened = await reader.onDecrypt({
        suiteId: 0x0478,
        encryptionContext,
        encryptedDataKeys: [edk],
      });
      expect(opened).toEqual(made.dataKey);
    }
    expect(await listHsmKeyLabels(options)).toEqual(['k']);
  });

  test('a refusal arrives as the catalogue code the contract maps it to', async () => {
    const p = await start();
    const keyring = new HsmProxyKeyring({ proxyUrl: p.url, idToken: () => 'alice', keyLabel: 'x' });
    await expect(
      keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {} }),
    ).rejects.toMatchObject({ code: 'HSM_FORBIDDEN_LABEL' });
    const stranger = new HsmProxyKeyring({
      proxyUrl: p.url,
      idToken: () => 'mallory',
      keyLabel: 'k',
    });
    await expect(
      stranger.onEncrypt({ suiteId: 0x0478, encryptionContext: {} }),
    ).rejects.toMatchObject({ code: 'HSM_UNAUTHENTICATED' });
  });
});
