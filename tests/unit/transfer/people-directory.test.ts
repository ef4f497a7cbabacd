/**
 * People directory entries ([Note: the people directory is untrusted]): what publishing writes
 * reads back; an entry whose fingerprint is not its key's, or that is stored under another
 * fingerprint (a swapped entry), or malformed, is refused with PERSON_ENTRY_INVALID; names are
 * checked; listing keeps the good entries and reports the refused ones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes';
import {
  checkPersonName,
  entryKey,
  findPerson,
  listPeople,
  parseEntry,
  peopleRoot,
  publishEntry,
  serializeEntry,
  type PeopleStorage,
  type PersonEntry,
} from '../../../src/transfer/people-directory';
import { expectCode, expectThrowsCode } from '../core/helpers';

async function entryFor(name: string, seed: number): Promise<PersonEntry> {
  const publicKeySpki = new Uint8Array(300).fill(seed);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKeySpki));
  return { name, publicKeySpki, fingerprint: toHex(digest), created: '2026-12-05T00:00:00Z' };
}

function memoryStorage(): PeopleStorage & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    read: (key) => Promise.resolve(objects.get(key)),
    createOnly: (key, body) => {
      if (objects.has(key)) return Promise.resolve(false);
      objects.set(key, body);
      return Promise.resolve(true);
    },
    list: (prefix) => Promise.resolve([...objects.keys()].filter((k) => k.startsWith(prefix))),
  };
}

const PEOPLE = peopleRoot('team/');
let bea: PersonEntry;
let eve: PersonEntry;

beforeAll(async () => {
  [bea, eve] = await Promise.all([entryFor('Bea', 1), entryFor('Eve', 2)]);
});

describe('entries', () => {
  it('round-trips, at <root>.veil/people/<fingerprint>.json', async () => {
    expect(PEOPLE).toBe('team/.veil/people/');
    expect(entryKey(PEOPLE, bea.fingerprint)).toBe(`team/.veil/people/${bea.fingerprint}.json`);
    expect(await parseEntry(serializeEntry(bea), bea.fingerprint)).toEqual(bea);
  });

  it('refuses a fingerprint that is not its key’s (key swapped, fingerprint kept)', async () => {
    const swapped = { ...eve, fingerprint: bea.fingerprint };
    await expectCode(parseEntry(serializeEntry(swapped)), 'PERSON_ENTRY_INVALID');
  });

  it('refuses an entry stored under another fingerprint than its own (entry swapped)', async () => {
    await expectCode(parseEntry(serializeEntry(eve), bea.fingerprint), 'PERSON_ENTRY_INVALID');
  });

  it('refuses malformed entries', async () => {
    for (const text of ['nope', '[]', '{"v":2}', JSON.stringify({ v: 1, name: 'x' })]) {
      await expectCode(parseEntry(utf8(text)), 'PERSON_ENTRY_INVALID');
    }
    const json = JSON.parse(new TextDecoder().decode(serializeEntry(bea))) as Record<
      string,
      unknown
    >;
    await expectCode(
      parseEntry(utf8(JSON.stringify({ ...json, name: 'a\u0007' }))),
      'PERSON_ENTRY_INVALID',
    );
    await expectCode(
      parseEntry(utf8(JSON.stringify({ ...json, publicKey: '***' }))),
      'PERSON_ENTRY_INVALID',
    );
    await expectCode(parseEntry(new Uint8Array(20_000)), 'PERSON_ENTRY_INVALID');
  });

  it('checks display names', () => {
    expect(checkPersonName('  Bea  ')).toBe('Bea');
    expectThrowsCode(() => checkPersonName(' '), 'BAD_ARGUMENT');
    expectThrowsCode(() => checkPersonName('x'.repeat(65)), 'BAD_ARGUMENT');
    expectThrowsCode(() => checkPersonName('a\nb'), 'BAD_ARGUMENT');
  });
});

describe('the directory', () => {
  it('publishes once (If-None-Match), lists good entries and reports refused ones', async () => {
    const storage = memoryStorage();
    expect(await publishEntry(storage, PEOPLE, bea)).toBe('published');
    expect(await publishEntry(storage, PEOPLE, bea)).toBe('already');
    storage.objects.set(entryKey(PEOPLE, eve.fingerprint.replace(/^./, '0')), serializeEntry(eve));
    storage.objects.set(`${PEOPLE}notes.json`, utf8('{}'));
    storage.objects.set(`${PEOPLE}${bea.fingerprint}/inbox/x`, new Uint8Array(1));
    const listing = await listPeople(storage, PEOPLE);
    expect(listing.people.map((p) => p.name)).toEqual(['Bea']);
    expect(listing.refused.map((r) => r.error.code)).toEqual([
      'PERSON_ENTRY_INVALID',
      'PERSON_ENTRY_INVALID',
    ]);
  });

  it('finds a person by fingerprint; an unknown one is PERSON_UNKNOWN', async () => {
    const storage = memoryStorage();
    await publishEntry(storage, PEOPLE, bea);
    expect((await findPerson(storage, PEOPLE, bea.fingerprint)).name).toBe('Bea');
    await expectCode(findPerson(storage, PEOPLE, eve.fingerprint), 'PERSON_UNKNOWN');
    await expectCode(findPerson(storage, PEOPLE, 'Bea'), 'PERSON_UNKNOWN');
  });
});
