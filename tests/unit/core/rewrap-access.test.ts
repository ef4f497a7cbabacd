/**
 * [Note: rewrap lock-out check]: a rewrap that would leave the user no key to open the file is
 * refused before anything is written (REWRAP_WOULD_LOCK_OUT); the proof costs no remote call when
 * a kept or added key is local; `canOpenWith` is the proof when given; an added EDK that does not
 * open to the data key is caught.
 */
import { describe, expect, it } from 'vitest';
import {
  VeilError,
  createMultiKeyring,
  decryptBytes,
  encryptBytes,
  parseHeaderBytes,
  rewrapHeader,
  utf8,
} from '../../../src/core';
import type { EncryptedDataKey, Keyring } from '../../../src/core';
import { localFirst, proveAccess } from '../../../src/core/rewrap-access';
import { expectCode, ourKeyring, patternBytes, testKeyBytes } from './helpers';

const OLD_KEY = testKeyBytes(256, 21);
const NEW_KEY = testKeyBytes(256, 22);
const ARN_1 = 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000001';
const ARN_2 = 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000002';

const raw = (bytes: Uint8Array, name: string): Promise<Keyring> => ourKeyring(bytes, name, 'veil');

/**
 * A stand-in for a remote key (KMS): it wraps by remembering the data key under a random
 * ciphertext, counts the unwraps it is asked for (each one a network call in real life), and
 * refuses them all when `denied` (a key the user may not use).
 */
class RemoteKey implements Keyring {
  calls = 0;
  readonly #wrapped = new Map<string, Uint8Array>();
  constructor(
    readonly arn: string,
    readonly denied = false,
  ) {}

  onEncrypt(request: Parameters<Keyring['onEncrypt']>[0]) {
    const dataKey = request.dataKey ?? crypto.getRandomValues(new Uint8Array(32));
    const ciphertext = crypto.getRandomValues(new Uint8Array(24));
    this.#wrapped.set(Buffer.from(ciphertext).toString('hex'), dataKey.slice());
    const edk: EncryptedDataKey = {
      providerId: 'aws-kms',
      providerInfo: utf8(this.arn),
      ciphertext,
    };
    return Promise.resolve({ dataKey, encryptedDataKeys: [edk] });
  }

  onDecrypt(request: Parameters<Keyring['onDecrypt']>[0]) {
    const mine = request.encryptedDataKeys.filter(
      (edk) =>
        edk.providerId === 'aws-kms' && Buffer.from(edk.providerInfo).toString() === this.arn,
    );
    for (const edk of mine) {
      this.calls++;
      if (this.denied) return Promise.reject(new VeilError('KMS_ACCESS_DENIED', this.arn));
      const found = this.#wrapped.get(Buffer.from(edk.ciphertext).toString('hex'));
      if (found) return Promise.resolve(found.slice());
    }
    return Promise.resolve(undefined);
  }
}

/** A message whose EDKs come from `keyrings` in order (the first generates the data key). */
async function messageUnder(...keyrings: Keyring[]) {
  const [generator, ...children] = keyrings;
  const plaintext = patternBytes(5000, 9);
  const message = await encryptBytes(plaintext, {
    keyring: createMultiKeyring({ generator: generator!, children }),
    frameBytes: 4096,
  });
  return { plaintext, message, header: parseHeaderBytes(message) };
}

describe('rewrapHeader lock-out check', () => {
  it('refuses to remove the only key the user holds when a KMS EDK they cannot use remains', async () => {
    const foreign = new RemoteKey(ARN_1, true);
    const { header } = await messageUnder(await raw(OLD_KEY, 'old'), new RemoteKey(ARN_1));
    const openWith = createMultiKeyring({ children: [await raw(OLD_KEY, 'old'), foreign] });
    const error = await expectCode(
      rewrapHeader(header, { openWith, remove: [{ keyName: 'old' }] }),
      'REWRAP_WOULD_LOCK_OUT',
    );
    expect(error.message).not.toContain('undefined');
  });

  it('accepts the same removal when canOpenWith opens the key that is left', async () => {
    const kms = new RemoteKey(ARN_1);
    const { header, message, plaintext } = await messageUnder(await raw(OLD_KEY, 'old'), kms);
    const rewrapped = await rewrapHeader(header, {
      openWith: await raw(OLD_KEY, 'old'),
      remove: [{ keyName: 'old' }],
      canOpenWith: kms,
    });
    expect(rewrapped.stillOpensWith).toBe('canOpenWith');
    expect(kms.calls).toBe(1);
    const next = new Uint8Array([
      ...rewrapped.headerBytes,
      ...message.subarray(header.headerBytes),
    ]);
    expect(
      Buffer.from(await decryptBytes(next, { keyring: kms })).equals(Buffer.from(plaintext)),
    ).toBe(true);
  });

  it('refuses when canOpenWith opens nothing that is left, even if openWith does', async () => {
    const { header } = await messageUnder(await raw(OLD_KEY, 'old'), await raw(NEW_KEY, 'new'));
    await expectCode(
      rewrapHeader(header, {
        openWith: await raw(OLD_KEY, 'old'),
        remove: [{ keyName: 'new' }],
        canOpenWith: await raw(NEW_KEY, 'new'),
      }),
      'REWRAP_WOULD_LOCK_OUT',
    );
  });

  it('is proven by the opening itself when a kept key is local: no remote call at all', async () => {
    const kms = new RemoteKey(ARN_1);
    const { header } = await messageUnder(kms, await raw(OLD_KEY, 'old'));
    // openWith holds both, the remote one first; the key to drop is the remote one.
    const openWith = createMultiKeyring({ children: [kms, await raw(OLD_KEY, 'old')] });
    const rewrapped = await rewrapHeader(header, {
      openWith,
      addWith: await raw(NEW_KEY, 'new'),
      remove: [{ keyName: ARN_1 }],
    });
    expect(rewrapped.stillOpensWith).toBe('kept');
    expect(kms.calls).toBe(0);
  });

  it('proves an added local key locally when the only held key is removed', async () => {
    const k1 = new RemoteKey(ARN_1);
    const k2 = new RemoteKey(ARN_2);
    const { header } = await messageUnder(k1);
    // addWith wraps under a remote key and a local one, the remote one first.
    const addWith = createMultiKeyring({ generator: k2, children: [await raw(NEW_KEY, 'new')] });
    const rewrapped = await rewrapHeader(header, {
      openWith: k1,
      addWith,
      remove: [{ keyName: ARN_1 }],
    });
    expect(rewrapped.stillOpensWith).toBe('addWith');
    expect(k1.calls).toBe(1); // the opening
    expect(k2.calls).toBe(0); // the proof used the local key
  });

  it('proves an added remote key with one unwrap when nothing local is left', async () => {
    const k1 = new RemoteKey(ARN_1);
    const k2 = new RemoteKey(ARN_2);
    const { header } = await messageUnder(k1);
    const rewrapped = await rewrapHeader(header, {
      openWith: k1,
      addWith: k2,
      remove: [{ keyName: ARN_1 }],
    });
    expect(rewrapped.stillOpensWith).toBe('addWith');
    expect(k2.calls).toBe(1);
  });

  it('refuses an added key the user cannot open (a key only someone else holds)', async () => {
    const { header } = await messageUnder(await raw(OLD_KEY, 'old'));
    await expectCode(
      rewrapHeader(header, {
        openWith: await raw(OLD_KEY, 'old'),
        addWith: new RemoteKey(ARN_2, true),
        remove: [{ keyName: 'old' }],
      }),
      'REWRAP_WOULD_LOCK_OUT',
    );
  });

  it('says REWRAP_LAST_KEY when a re-encrypter makes nothing and nothing else is added', async () => {
    const { header } = await messageUnder(await raw(OLD_KEY, 'old'));
    await expectCode(
      rewrapHeader(header, {
        openWith: await raw(OLD_KEY, 'old'),
        reEncrypt: { reEncrypt: () => Promise.resolve(undefined) },
        remove: [{ keyName: 'old' }],
      }),
      'REWRAP_LAST_KEY',
    );
  });

  it('keeps the errors of an opening that fails: no matching key, wrong key', async () => {
    const { header } = await messageUnder(await raw(OLD_KEY, 'old'), new RemoteKey(ARN_1));
    await expectCode(
      rewrapHeader(header, { openWith: await raw(NEW_KEY, 'new'), remove: [{ keyName: 'old' }] }),
      'NO_MATCHING_EDK',
    );
    await expectCode(
      rewrapHeader(header, {
        openWith: await raw(NEW_KEY, 'old'),
        addWith: await raw(NEW_KEY, 'new'),
        remove: [{ keyName: 'old' }],
      }),
      'WRONG_KEY',
    );
    await expectCode(
      rewrapHeader(header, {
        openWith: await raw(OLD_KEY, 'old'),
        canOpenWith: {} as Keyring,
      }),
      'BAD_ARGUMENT',
    );
  });
});

describe('proveAccess and localFirst', () => {
  it('orders raw AES before other providers and KMS last, stably', () => {
    const rawEdk = (name: string): EncryptedDataKey => ({
      providerId: 'veil',
      providerInfo: new Uint8Array([
        ...utf8(name),
        0,
        0,
        0,
        128,
        0,
        0,
        0,
        12,
        ...new Uint8Array(12),
      ]),
      ciphertext: new Uint8Array(48),
    });
    const other = (id: string): EncryptedDataKey => ({
      providerId: id,
      providerInfo: utf8('label'),
      ciphertext: new Uint8Array(8),
    });
    const edks = [other('aws-kms'), other('veil-hsm'), rawEdk('a'), other('aws-kms'), rawEdk('b')];
    expect(localFirst(edks)).toEqual([edks[2], edks[4], edks[1], edks[0], edks[3]]);
  });

  it('refuses a proof that opens to another data key', async () => {
    const dataKey = new Uint8Array(32).fill(7);
    const liar: Keyring = {
      onEncrypt: () => Promise.reject(new Error('unused')),
      onDecrypt: () => Promise.resolve(new Uint8Array(32).fill(8)),
    };
    const error = await expectCode(
      proveAccess({ suiteId: 0x0478, encryptionContext: {}, dataKey }, [
        {
          by: 'addWith',
          keyring: liar,
          edks: [
            { providerId: 'x', providerInfo: new Uint8Array(1), ciphertext: new Uint8Array(1) },
          ],
        },
      ]),
      'REWRAP_WOULD_LOCK_OUT',
    );
    expect(error.detail).toContain('another data key');
  });
});
