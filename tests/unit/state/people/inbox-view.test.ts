/**
 * The forged-note attack ([Note: inbox notes are claims]): Mallory can write to the bucket and
 * holds only public keys (Bea's, from the directory; Al's fingerprint, also public). She encrypts
 * her own file to Bea's public key and drops a note "Al shared invoice.pdf with you" naming Al and
 * Al's real fingerprint, which Bea pinned. The note opens with Bea's private key like a real one,
 * so the list must not present Al as the verified sender: every sender is shown as not verified,
 * the forged note's exactly as the real one's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RawRsaKeyring } from '../../../../src/keyrings/raw-rsa';
import { RSA_OAEP_SHA256, spkiFingerprint } from '../../../../src/keyrings/rsa-keys';
import { UNVERIFIED_SENDER_WHY, noteSender } from '../../../../src/state/people/inbox-view';
import { isPinned, pinPerson } from '../../../../src/state/people/pins';
import type { PeopleStorage } from '../../../../src/transfer/people-directory';
import { readInbox, writeInboxNote } from '../../../../src/transfer/people-inbox';

function memoryStorage(): PeopleStorage {
  const objects = new Map<string, Uint8Array>();
  return {
    read: (key) => Promise.resolve(objects.get(key)),
    createOnly: (key, body) => {
      if (objects.has(key)) return Promise.resolve(false);
      objects.set(key, body);
      return Promise.resolve(true);
    },
    list: (prefix) => Promise.resolve([...objects.keys()].filter((k) => k.startsWith(prefix))),
  };
}

async function keyPair(): Promise<{ fingerprint: string; pair: CryptoKeyPair; spki: Uint8Array }> {
  const pair = await crypto.subtle.generateKey(
    { ...RSA_OAEP_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  return { fingerprint: await spkiFingerprint(spki), pair, spki };
}

let bea: Awaited<ReturnType<typeof keyPair>>;
let al: Awaited<ReturnType<typeof keyPair>>;

beforeAll(async () => {
  [bea, al] = await Promise.all([keyPair(), keyPair()]);
});

describe('a forged inbox note', () => {
  it('opens like a real one, and its sender is shown as not verified', async () => {
    const storage = memoryStorage();
    // Mallory has Bea's public key only (from the directory): no private key of anyone.
    const toBea = await RawRsaKeyring.forPublicKey(bea.spki);
    await writeInboxNote(
      storage,
      'p/',
      { fingerprint: bea.fingerprint, keyring: toBea },
      {
        key: 'users/mallory/invoice.bin',
        name: 'invoice.pdf',
        from: { name: 'Al', fingerprint: al.fingerprint },
        shared: '2026-12-05T10:00:00Z',
      },
    );
    const beaKeyring = new RawRsaKeyring({
      keyName: bea.fingerprint,
      publicKey: bea.pair.publicKey,
      privateKey: bea.pair.privateKey,
    });
    const { notes, unreadable } = await readInbox(storage, 'p/', {
      fingerprint: bea.fingerprint,
      keyring: beaKeyring,
    });
    expect(unreadable).toEqual([]);
    const [forged] = notes;
    expect(forged?.from).toEqual({ name: 'Al', fingerprint: al.fingerprint });
    // Bea pinned Al's real key: the note copies its fingerprint, so that proves nothing.
    const pins = pinPerson(
      [],
      { name: 'Al', fingerprint: al.fingerprint, publicKeySpki: al.spki, created: '' },
      1,
    );
    expect(isPinned(pins, forged!.from.fingerprint)).toBe(true);
    const sender = noteSender(forged!);
    expect(sender.verified).toBe(false);
    expect(sender.text).toBe('says it is from Al (sender not verified)');
    expect(UNVERIFIED_SENDER_WHY).toContain('not signed');
  });
});
