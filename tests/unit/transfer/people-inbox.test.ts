/**
 * Inbox notes are written by whoever can write to the bucket (they are not signed): what a note
 * says is shown escaped ([Note: untrusted text]), and storage that refuses every new note id
 * stops the write after a few tries instead of looping.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RawRsaKeyring } from '../../../src/keyrings/raw-rsa';
import { RSA_OAEP_SHA256, spkiFingerprint } from '../../../src/keyrings/rsa-keys';
import type { PeopleStorage } from '../../../src/transfer/people-directory';
import { readInbox, writeInboxNote } from '../../../src/transfer/people-inbox';

function memoryStorage(refuseAll = false): PeopleStorage & { tries: number } {
  const objects = new Map<string, Uint8Array>();
  const storage = {
    tries: 0,
    read: (key: string) => Promise.resolve(objects.get(key)),
    createOnly: (key: string, body: Uint8Array) => {
      storage.tries += 1;
      if (refuseAll || objects.has(key)) return Promise.resolve(false);
      objects.set(key, body);
      return Promise.resolve(true);
    },
    list: (prefix: string) =>
      Promise.resolve([...objects.keys()].filter((key) => key.startsWith(prefix))),
  };
  return storage;
}

let me: { fingerprint: string; keyring: RawRsaKeyring };

beforeAll(async () => {
  const pair = await crypto.subtle.generateKey(
    { ...RSA_OAEP_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const fingerprint = await spkiFingerprint(spki);
  me = {
    fingerprint,
    keyring: new RawRsaKeyring({
      keyName: fingerprint,
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
    }),
  };
});

describe('inbox notes', () => {
  it('shows a forged note’s name and sender escaped, so a bidi override cannot disguise it', async () => {
    const storage = memoryStorage();
    // Anyone with the recipient's public key (it is in the directory) can write this note.
    await writeInboxNote(storage, 'p/', me, {
      key: 'objects/x',
      name: 'Q3 payroll\u202Efdp.exe',
      from: { name: 'Alice\u200B', fingerprint: me.fingerprint },
      shared: '2026-12-05T00:00:00Z',
    });
    const { notes, unreadable } = await readInbox(storage, 'p/', me);
    expect(unreadable).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.name).toBe('Q3 payroll\\u202efdp.exe');
    expect(notes[0]!.from.name).toBe('Alice\\u200b');
    expect(notes[0]!.name).not.toContain('\u202E');
  });

  it('stops after a few tries when storage says every new note id is taken', async () => {
    const storage = memoryStorage(true);
    await expect(
      writeInboxNote(storage, 'p/', me, {
        key: 'objects/x',
        name: 'a.txt',
        from: { name: 'Al', fingerprint: me.fingerprint },
        shared: '',
      }),
    ).rejects.toMatchObject({ code: 'S3_REJECTED' });
    expect(storage.tries).toBe(4);
  });
});
