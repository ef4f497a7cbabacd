/**
 * The Model A raw AES keyring: EDK layout exactly as the ESDK's, 128/192/256-bit wrapping keys
 * interoperating with client-node's RawAesKeyringNode both ways, EC binding, wrong keys, the
 * multi-keyring, and key hygiene (non-extractable, raw bytes zeroed).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, readU32, u32 } from '../../../src/core/bytes';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import {
  PEER_SUITE_0478,
  expectCode,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../core/helpers';

const EC = { department: 'research', Zeta: 'upper', ä: 'umlaut' };

describe.each([128, 192, 256] as const)('%i-bit wrapping key', (bits) => {
  const key = testKeyBytes(bits, bits);
  it('Veil encrypts, client-node decrypts', async () => {
    const plaintext = patternBytes(5000);
    const ciphertext = await encryptBytes(plaintext, {
      keyring: await ourKeyring(key, 'k', 'veil'),
      frameBytes: 1024,
      encryptionContext: EC,
    });
    const { plaintext: theirs } = await peer.decrypt(peerKeyring(key, 'k', 'veil'), ciphertext);
    expect(new Uint8Array(theirs)).toEqual(plaintext);
  });
  it('client-node encrypts, Veil decrypts', async () => {
    const plaintext = patternBytes(5000, 2);
    const { result } = await peer.encrypt(peerKeyring(key, 'k', 'veil'), Buffer.from(plaintext), {
      suiteId: PEER_SUITE_0478,
      frameLength: 1024,
      encryptionContext: EC,
    });
    const ours = await decryptBytes(new Uint8Array(result), {
      keyring: await ourKeyring(key, 'k', 'veil'),
    });
    expect(ours).toEqual(plaintext);
  });
});

describe('EDK layout', () => {
  it('is namespace / name || u32 128 || u32 12 || IV / 48-byte wrap, with a fresh IV per wrap', async () => {
    const keyring = await ourKeyring(testKeyBytes(256), 'my key', 'team');
    const first = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {} });
    const second = await keyring.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: {},
      dataKey: first.dataKey,
    });
    const [edk] = first.encryptedDataKeys;
    const [edk2] = second.encryptedDataKeys;
    if (!edk || !edk2) throw new Error('no EDK');
    expect(edk.providerId).toBe('team');
    const name = new TextEncoder().encode('my key');
    expect(edk.providerInfo.subarray(0, name.length)).toEqual(name);
    expect(readU32(edk.providerInfo, name.length)).toBe(128);
    expect(readU32(edk.providerInfo, name.length + 4)).toBe(12);
    expect(edk.providerInfo.length).toBe(name.length + 20);
    expect(edk.ciphertext.length).toBe(48);
    expect(edk2.providerInfo.subarray(-12)).not.toEqual(edk.providerInfo.subarray(-12));
    expect(second.dataKey).toBe(first.dataKey);
  });

  it('binds the wrap to the encryption context (WRONG_KEY when it differs)', async () => {
    const keyring = await ourKeyring(testKeyBytes(256));
    const { dataKey, encryptedDataKeys } = await keyring.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: { a: '1' },
    });
    const opened = await keyring.onDecrypt({
      suiteId: 0x0478,
      encryptionContext: { a: '1' },
      encryptedDataKeys,
    });
    expect(opened).toEqual(dataKey);
    await expectCode(
      keyring.onDecrypt({ suiteId: 0x0478, encryptionContext: { a: '2' }, encryptedDataKeys }),
      'WRONG_KEY',
    );
  });

  it('skips EDKs with other tag or IV lengths, names or namespaces', async () => {
    const keyring = await ourKeyring(testKeyBytes(256), 'k', 'veil');
    const { encryptedDataKeys } = await keyring.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: {},
    });
    const edk = encryptedDataKeys[0];
    if (!edk) throw new Error('no EDK');
    const badTag = edk.providerInfo.slice();
    badTag[4] = 0x60; // tag length 96 bits
    // IV length 16 announced, with 16 IV bytes or with the usual 12.
    const ivInfo = (ivBytes: number): Uint8Array =>
      concatBytes(edk.providerInfo.subarray(0, 1), u32(128), u32(16), new Uint8Array(ivBytes));
    const variants = [
      { ...edk, providerInfo: badTag },
      { ...edk, providerInfo: ivInfo(16) },
      { ...edk, providerInfo: ivInfo(12) },
      { ...edk, providerId: 'other' },
      { ...edk, providerInfo: edk.providerInfo.subarray(1) },
    ];
    expect(
      await keyring.onDecrypt({
        suiteId: 0x0478,
        encryptionContext: {},
        encryptedDataKeys: variants,
      }),
    ).toBeUndefined();
  });

  it('does not try an EDK whose key name only starts with its own (k vs kk)', async () => {
    const mine = await ourKeyring(testKeyBytes(256), 'k', 'veil');
    const longer = await ourKeyring(testKeyBytes(256), 'kk', 'veil');
    const { encryptedDataKeys } = await longer.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: {},
    });
    // Same wrapping key: had "k" tried the "kk" EDK, it would report WRONG_KEY, not no match.
    expect(
      await mine.onDecrypt({ suiteId: 0x0478, encryptionContext: {}, encryptedDataKeys }),
    ).toBeUndefined();
    const [edk] = encryptedDataKeys;
    if (!edk) throw new Error('no EDK');
    // "kk" with an 11-byte IV has the length of a "k" EDK; still not "k"'s.
    const sameLength = { ...edk, providerInfo: edk.providerInfo.subarray(0, -1) };
    expect(
      await mine.onDecrypt({
        suiteId: 0x0478,
        encryptionContext: {},
        encryptedDataKeys: [sameLength],
      }),
    ).toBeUndefined();
  });
});

describe('multi-keyring', () => {
  it('adds one EDK per keyring for the same data key; each key alone decrypts', async () => {
    const keys = [testKeyBytes(256, 1), testKeyBytes(128, 2), testKeyBytes(192, 3)];
    const keyrings = await Promise.all(
      keys.map((key, index) => ourKeyring(key, `key-${index}`, 'veil')),
    );
    const multi = createMultiKeyring({ generator: keyrings[0], children: keyrings.slice(1) });
    const plaintext = patternBytes(3000);
    const ciphertext = await encryptBytes(plaintext, {
      keyring: multi,
      frameBytes: 512,
      encryptionContext: EC,
    });
    expect(parseHeaderBytes(ciphertext).encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
      'veil',
      'veil',
      'veil',
    ]);
    for (const [index, key] of keys.entries()) {
      expect(await decryptBytes(ciphertext, { keyring: keyrings[index] as RawAesKeyring })).toEqual(
        plaintext,
      );
      const { plaintext: theirs } = await peer.decrypt(
        peerKeyring(key, `key-${index}`, 'veil'),
        ciphertext,
      );
      expect(new Uint8Array(theirs)).toEqual(plaintext);
    }
    expect(await decryptBytes(ciphertext, { keyring: multi })).toEqual(plaintext);
  });

  it('tries each keyring on decrypt and reports WRONG_KEY or NO_MATCHING_EDK', async () => {
    const right = await ourKeyring(testKeyBytes(256, 1), 'a', 'veil');
    const ciphertext = await encryptBytes(patternBytes(10), { keyring: right });
    const stranger = await ourKeyring(testKeyBytes(256, 2), 'b', 'veil');
    const impostor = await ourKeyring(testKeyBytes(256, 3), 'a', 'veil');
    expect(
      await decryptBytes(ciphertext, {
        keyring: createMultiKeyring({ children: [stranger, right] }),
      }),
    ).toHaveLength(10);
    await expectCode(
      decryptBytes(ciphertext, { keyring: createMultiKeyring({ children: [stranger] }) }),
      'NO_MATCHING_EDK',
    );
    await expectCode(
      decryptBytes(ciphertext, { keyring: createMultiKeyring({ children: [stranger, impostor] }) }),
      'WRONG_KEY',
    );
  });
});

describe('key hygiene', () => {
  it('imports non-extractable and zeroes the raw bytes it was given', async () => {
    const keyBytes = testKeyBytes(256);
    const keyring = await RawAesKeyring.fromBytes({ keyBytes, keyName: 'k', keyNamespace: 'veil' });
    expect(keyBytes.every((byte) => byte === 0)).toBe(true);
    const wrappingKey = (keyring as unknown as { wrappingKey: CryptoKey }).wrappingKey;
    expect(wrappingKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', wrappingKey)).rejects.toThrow();
  });
  it('zeroes the raw bytes even when they are refused', async () => {
    const keyBytes = new Uint8Array(20).fill(7);
    await expectCode(
      RawAesKeyring.fromBytes({ keyBytes, keyName: 'k', keyNamespace: 'veil' }),
      'OUT_OF_RANGE',
    );
    expect(keyBytes.every((byte) => byte === 0)).toBe(true);
  });
  it('accepts an existing non-extractable CryptoKey (e.g. from the browser vault)', async () => {
    const wrappingKey = await crypto.subtle.importKey('raw', testKeyBytes(192), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    const keyring = new RawAesKeyring({ keyNamespace: 'veil', keyName: 'vault', wrappingKey });
    const ciphertext = await encryptBytes(patternBytes(100), { keyring });
    const { plaintext } = await peer.decrypt(
      peerKeyring(testKeyBytes(192), 'vault', 'veil'),
      ciphertext,
    );
    expect(new Uint8Array(plaintext)).toEqual(patternBytes(100));
  });
});
