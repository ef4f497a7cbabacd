/**
 * HsmKeys' recovery rules, on a scripted stand-in for the PKCS#11 module: a key handle that went
 * stale is looked up again, a session that lost its login logs in again, and a failed unwrap is
 * reported as HSM_UNWRAP_FAILED. (The real token is exercised by the integration tests.)
 */
import pkcs11js from 'pkcs11js';
import { describe, expect, test } from 'vitest';
import { HsmKeys } from '../../../server/hsm-proxy/src/keys';
import type { Pkcs11Token } from '../../../server/hsm-proxy/src/pkcs11';
import { SessionPool } from '../../../server/hsm-proxy/src/pool';

const fail = (code: number) => Object.assign(new Error(`CKR ${code}`), { code });

function setup(encryptFailures: number[], decryptFailure?: number) {
  const calls = { finds: 0, logins: 0, encrypts: 0 };
  const module = {
    C_FindObjectsInit: () => undefined,
    C_FindObjects: () => {
      calls.finds++;
      return [Buffer.from([calls.finds])];
    },
    C_FindObjectsFinal: () => undefined,
    C_GenerateRandom: (_session: Buffer, out: Buffer) => out.fill(7),
    C_EncryptInit: () => undefined,
    C_EncryptAsync: (_session: Buffer, data: Buffer) => {
      calls.encrypts++;
      const failure = encryptFailures.shift();
      return failure === undefined
        ? Promise.resolve(Buffer.concat([data, Buffer.alloc(16, 1)]))
        : Promise.reject(fail(failure));
    },
    C_DecryptInit: () => undefined,
    C_DecryptAsync: () =>
      decryptFailure === undefined
        ? Promise.resolve(Buffer.alloc(32, 9))
        : Promise.reject(fail(decryptFailure)),
  };
  const token = {
    module,
    ivSource: 'caller',
    tokenLabel: 'fake',
    openSession: () => Buffer.from([0]),
    closeSession: () => undefined,
    login: () => void calls.logins++,
  } as unknown as Pkcs11Token;
  return { keys: new HsmKeys(token, new SessionPool(token, 1)), calls };
}

describe('HsmKeys recovery', () => {
  test('looks the key up again after CKR_OBJECT_HANDLE_INVALID', async () => {
    const { keys, calls } = setup([pkcs11js.CKR_OBJECT_HANDLE_INVALID]);
    const made = await keys.generateDataKey('k', Buffer.alloc(0));
    expect(made.wrapped).toHaveLength(60);
    expect(calls).toEqual({ finds: 2, logins: 0, encrypts: 2 });
    await keys.generateDataKey('k', Buffer.alloc(0));
    expect(calls.finds).toBe(2);
  });

  test('logs in again after CKR_USER_NOT_LOGGED_IN', async () => {
    const { keys, calls } = setup([pkcs11js.CKR_USER_NOT_LOGGED_IN]);
    await keys.generateDataKey('k', Buffer.alloc(0));
    expect(calls).toEqual({ finds: 1, logins: 1, encrypts: 2 });
  });

  test('retries once only, and passes other failures through', async () => {
    const stale = pkcs11js.CKR_OBJECT_HANDLE_INVALID;
    await expect(
      setup([stale, stale]).keys.generateDataKey('k', Buffer.alloc(0)),
    ).rejects.toMatchObject({ code: stale });
    const other = pkcs11js.CKR_DEVICE_ERROR;
    const { keys, calls } = setup([other]);
    await expect(keys.generateDataKey('k', Buffer.alloc(0))).rejects.toMatchObject({ code: other });
    expect(calls.encrypts).toBe(1);
  });

  test('reports a refused unwrap as HSM_UNWRAP_FAILED and checks the blob length first', async () => {
    for (const code of [pkcs11js.CKR_ENCRYPTED_DATA_INVALID, pkcs11js.CKR_GENERAL_ERROR]) {
      const { keys } = setup([], code);
      await expect(
        keys.decryptDataKey('k', Buffer.alloc(60), Buffer.alloc(0)),
      ).rejects.toMatchObject({
        code: 'HSM_UNWRAP_FAILED',
      });
    }
    const { keys } = setup([]);
    await expect(keys.decryptDataKey('k', Buffer.alloc(59), Buffer.alloc(0))).rejects.toMatchObject(
      {
        code: 'HSM_UNWRAP_FAILED',
      },
    );
  });

  test('passes an HSM failure during unwrap through with its PKCS#11 code, not as a wrong key', async () => {
    const { keys } = setup([], pkcs11js.CKR_DEVICE_REMOVED);
    await expect(keys.decryptDataKey('k', Buffer.alloc(60), Buffer.alloc(0))).rejects.toMatchObject(
      {
        code: pkcs11js.CKR_DEVICE_REMOVED,
      },
    );
  });
});
