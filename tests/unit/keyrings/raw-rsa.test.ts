/**
 * The raw RSA keyring of sharing with a person: EDK bytes as the ESDK's (provider id = namespace,
 * provider info = the key name alone, a 512-byte RSA-OAEP ciphertext), interop with client-node's
 * RawRsaKeyringNode (oaepHash sha256) both ways given the same PKCS#8 PEM, a wrong private key
 * (WRONG_KEY), a public-only keyring, the fingerprint, and the PEM and key checks.
 */
import { RawRsaKeyringNode } from '@aws-crypto/client-node';
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { parseHeaderBytes } from '../../../src/core/message';
import { rewrapHeader } from '../../../src/core/rewrap-header';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import {
  PERSON_PROVIDER_ID,
  formatFingerprint,
  isFingerprint,
  keysNeeded,
  personKeyWords,
} from '../../../src/core/provider-info';
import { describeHeader } from '../../../src/core/header-view';
import { RawRsaKeyring } from '../../../src/keyrings/raw-rsa';
import {
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  pemToPkcs8,
  pkcs8ToPem,
  spkiFingerprint,
  type NewKeyPair,
} from '../../../src/keyrings/rsa-keys';
import {
  PEER_SUITE_0478,
  expectCode,
  expectThrowsCode,
  ourKeyring,
  patternBytes,
  peer,
  testKeyBytes,
} from '../core/helpers';

let alice: NewKeyPair;
let bob: NewKeyPair;

beforeAll(async () => {
  [alice, bob] = await Promise.all([generateKeyPair(), generateKeyPair()]);
}, 60_000);

const sharing = (pair: NewKeyPair) => RawRsaKeyring.forPublicKey(pair.publicKeySpki);
const opening = (pair: NewKeyPair) =>
  new RawRsaKeyring({ keyName: pair.fingerprint, privateKey: pair.privateKey });
const peerRsa = (pair: NewKeyPair) =>
  new RawRsaKeyringNode({
    keyName: pair.fingerprint,
    keyNamespace: PERSON_PROVIDER_ID,
    rsaKey: {
      privateKey: pkcs8ToPem(pair.pkcs8),
      publicKey: pkcs8ToPem(pair.publicKeySpki).replaceAll('PRIVATE KEY', 'PUBLIC KEY'),
    },
    oaepHash: 'sha256',
  });

describe('the EDK', () => {
  it('is provider id veil-person, provider info = the fingerprint, 512 ciphertext bytes', async () => {
    const message = await encryptBytes(patternBytes(100), { keyring: await sharing(alice) });
    const header = parseHeaderBytes(message);
    expect(header.encryptedDataKeys).toHaveLength(1);
    const [edk] = header.encryptedDataKeys;
    expect(edk?.providerId).toBe('veil-person');
    expect(new TextDecoder().decode(edk?.providerInfo)).toBe(alice.fingerprint);
    expect(edk?.providerInfo).toHaveLength(64);
    expect(edk?.ciphertext).toHaveLength(512);
  });

  it('is named in words as a person’s key by veil inspect and the key prompts', async () => {
    const message = await encryptBytes(patternBytes(10), { keyring: await sharing(alice) });
    const header = parseHeaderBytes(message);
    const [needed] = keysNeeded(header);
    expect(needed).toEqual({ providerId: 'veil-person', keyName: alice.fingerprint });
    const words = personKeyWords(needed!);
    expect(words).toBe(`a person’s key (fingerprint ${formatFingerprint(alice.fingerprint)})`);
    const view = describeHeader(header, false) as { encryptedDataKeys: { keyKind?: string }[] };
    expect(view.encryptedDataKeys[0]?.keyKind).toBe(words);
    expect(personKeyWords({ providerId: 'veil', keyName: 'k' })).toBeUndefined();
  });
});

describe('round trips', () => {
  it('opens with the private key; the public-only keyring does not decrypt', async () => {
    const plaintext = patternBytes(5000, 3);
    const message = await encryptBytes(plaintext, {
      keyring: await sharing(alice),
      frameBytes: 1024,
    });
    expect(await decryptBytes(message, { keyring: opening(alice) })).toEqual(plaintext);
    await expectCode(decryptBytes(message, { keyring: await sharing(alice) }), 'NO_MATCHING_EDK');
  });

  it('Veil writes, client-node RawRsaKeyringNode (oaepHash sha256) opens', async () => {
    const plaintext = patternBytes(3000, 4);
    const message = await encryptBytes(plaintext, { keyring: await sharing(bob) });
    const { plaintext: theirs } = await peer.decrypt(peerRsa(bob), message);
    expect(new Uint8Array(theirs)).toEqual(plaintext);
  });

  it('client-node writes, Veil opens', async () => {
    const plaintext = patternBytes(3000, 5);
    const { result } = await peer.encrypt(peerRsa(bob), Buffer.from(plaintext), {
      suiteId: PEER_SUITE_0478,
    });
    expect(await decryptBytes(new Uint8Array(result), { keyring: opening(bob) })).toEqual(
      plaintext,
    );
  });

  it('adds an EDK beside a raw AES key: either opens the same message', async () => {
    const aes = await ourKeyring(testKeyBytes(256, 9), 'mine', 'veil');
    const keyring = createMultiKeyring({ generator: aes, children: [await sharing(alice)] });
    const plaintext = patternBytes(700, 6);
    const message = await encryptBytes(plaintext, { keyring });
    expect(parseHeaderBytes(message).encryptedDataKeys.map((e) => e.providerId)).toEqual([
      'veil',
      'veil-person',
    ]);
    expect(await decryptBytes(message, { keyring: opening(alice) })).toEqual(plaintext);
  });
});

describe('the wrong private key', () => {
  it('fails WRONG_KEY when the EDK names the key but another private key is given', async () => {
    const message = await encryptBytes(patternBytes(10), { keyring: await sharing(alice) });
    // The attack: a private key presented under Alice's fingerprint that is not hers.
    const impostor = new RawRsaKeyring({ keyName: alice.fingerprint, privateKey: bob.privateKey });
    await expectCode(decryptBytes(message, { keyring: impostor }), 'WRONG_KEY');
  });

  it('answers NO_MATCHING_EDK for a message shared with someone else', async () => {
    const message = await encryptBytes(patternBytes(10), { keyring: await sharing(alice) });
    await expectCode(decryptBytes(message, { keyring: opening(bob) }), 'NO_MATCHING_EDK');
  });
});

describe('fingerprints and keys', () => {
  it('is SHA-256 of the SPKI in 64 hex digits, shown in 16 groups of four', async () => {
    expect(isFingerprint(alice.fingerprint)).toBe(true);
    expect(alice.fingerprint).not.toBe(bob.fingerprint);
    expect(await spkiFingerprint(alice.publicKeySpki)).toBe(alice.fingerprint);
    const shown = formatFingerprint(alice.fingerprint);
    expect(shown).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    expect(shown.replaceAll(' ', '')).toBe(alice.fingerprint);
    expect(isFingerprint(alice.fingerprint.toUpperCase())).toBe(false);
    expect(formatFingerprint('not one')).toBe('not one');
  });

  it('a PEM export imports back to the same fingerprint and a non-extractable key', async () => {
    const pem = pkcs8ToPem(alice.pkcs8);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const back = await importPrivateKey(pemToPkcs8(pem));
    expect(back.fingerprint).toBe(alice.fingerprint);
    expect(back.privateKey.extractable).toBe(false);
    expect(alice.privateKey.extractable).toBe(false);
    expect((alice.privateKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(4096);
  });

  it('reads a PEM written by OpenSSL (node:crypto) and refuses PKCS#1, encrypted and short keys', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pair = await importPrivateKey(pemToPkcs8(pem));
    expect(isFingerprint(pair.fingerprint)).toBe(true);
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expectThrowsCode(() => pemToPkcs8(pkcs1), 'PRIVATE_KEY_INVALID');
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    expectThrowsCode(() => pemToPkcs8(encrypted), 'PRIVATE_KEY_INVALID');
    expectThrowsCode(() => pemToPkcs8('hello'), 'PRIVATE_KEY_INVALID');
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await expectCode(
      importPrivateKey(pemToPkcs8(short.export({ type: 'pkcs8', format: 'pem' }).toString())),
      'PRIVATE_KEY_INVALID',
    );
    await expectCode(importPublicKey(new Uint8Array([1, 2, 3])), 'PERSON_ENTRY_INVALID');
  });

  it('refuses a reserved namespace, an empty name, no key, and a key of another algorithm', async () => {
    const aes = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
    ]);
    expectThrowsCode(
      () =>
        new RawRsaKeyring({ keyNamespace: 'aws-kms', keyName: 'x', privateKey: alice.privateKey }),
      'KEYRING_INVALID',
    );
    expectThrowsCode(
      () => new RawRsaKeyring({ keyName: '', privateKey: alice.privateKey }),
      'KEYRING_INVALID',
    );
    expectThrowsCode(() => new RawRsaKeyring({ keyName: 'x' }), 'KEYRING_INVALID');
    expectThrowsCode(() => new RawRsaKeyring({ keyName: 'x', privateKey: aes }), 'KEYRING_INVALID');
    await expectCode(
      opening(alice).onEncrypt({ suiteId: 0x0478, encryptionContext: {} }),
      'KEYRING_INVALID',
    );
  });
});

describe('sharing by rewrap', () => {
  it('adds the person’s EDK beside the kept ones, and refuses a header already at 16 EDKs', async () => {
    const aes = await ourKeyring(testKeyBytes(256, 9), 'mine', 'veil');
    const message = await encryptBytes(patternBytes(50), { keyring: aes });
    const shared = await rewrapHeader(parseHeaderBytes(message), {
      openWith: aes,
      addWith: await sharing(alice),
    });
    expect(shared.stillOpensWith).toBe('kept');
    expect(shared.header.encryptedDataKeys.map((e) => e.providerId)).toEqual([
      'veil',
      'veil-person',
    ]);

    const sixteen = await Promise.all(
      Array.from({ length: 16 }, (_, i) => ourKeyring(testKeyBytes(256, 40 + i), `k${i}`, 'veil')),
    );
    const [first, ...rest] = sixteen;
    const full = await encryptBytes(patternBytes(50), {
      keyring: createMultiKeyring({ generator: first!, children: rest }),
    });
    expect(parseHeaderBytes(full).encryptedDataKeys).toHaveLength(16);
    await expectCode(
      rewrapHeader(parseHeaderBytes(full), { openWith: first!, addWith: await sharing(alice) }),
      'TOO_MANY_EDKS',
    );
  });
});
