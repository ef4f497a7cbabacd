/**
 * Display names of the people directory ([Note: person names are shown text]). The attack: a
 * writer to the bucket publishes an entry whose name looks like a pinned person's ("Al" with a
 * zero-width space, a right-to-left override, a Cyrillic А, or full-width letters) so that the
 * sharer picks it. Each such name is refused when published and when read, or, for the
 * full-width copy, compared as the pinned name so its new key is flagged as changed.
 */
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes';
import { assessPerson, pinPerson } from '../../../src/state/people/pins';
import {
  checkPersonName,
  listPeople,
  peopleRoot,
  publishEntry,
  type PeopleStorage,
  type PersonEntry,
} from '../../../src/transfer/people-directory';
import { comparableName, personNameProblem } from '../../../src/transfer/people-names';
import { expectThrowsCode } from '../core/helpers';

const HOSTILE: readonly [string, string, string][] = [
  ['zero-width space', 'Al\u200b', 'invisible'],
  ['right-to-left override', '\u202eAl', 'invisible'],
  ['word joiner', 'A\u2060l', 'invisible'],
  ['byte order mark', '\ufeffAl', 'invisible'],
  ['tag character', 'Al\u{e0041}', 'invisible'],
  ['Cyrillic А among Latin letters', '\u0410l', 'mixed-scripts'],
  ['Greek ο among Latin letters', 'B\u03bfb', 'mixed-scripts'],
  ['bell', 'Al\u0007', 'controls'],
];

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

describe('personNameProblem', () => {
  it.each(HOSTILE)('refuses a name with a %s', (_what, name, problem) => {
    expect(personNameProblem(name)).toBe(problem);
    expectThrowsCode(() => checkPersonName(name), 'BAD_ARGUMENT');
  });

  it('accepts names in one script, with spaces, accents, apostrophes and backslashes', () => {
    for (const name of ['Al', 'Zoë O’Neil', 'Ана Петрова', 'Ελένη', '山田 花子', 'a\\b']) {
      expect(personNameProblem(name)).toBeUndefined();
      expect(checkPersonName(name)).toBe(name);
    }
  });
});

describe('a hostile entry in the directory', () => {
  it('is refused when read, never listed under a name that hides its characters', async () => {
    const prefix = peopleRoot('team/');
    const storage = memoryStorage();
    const al = await entryFor('Al', 1);
    await publishEntry(storage, prefix, al);
    // The writer bypasses the app's checks and stores the entries as raw JSON.
    let seed = 10;
    for (const [, name] of HOSTILE) {
      const entry = await entryFor(name, seed++);
      const json = {
        v: 1,
        name,
        publicKey: btoa(String.fromCharCode(...entry.publicKeySpki)),
        fingerprint: entry.fingerprint,
        created: entry.created,
      };
      storage.objects.set(`${prefix}${entry.fingerprint}.json`, utf8(JSON.stringify(json)));
    }
    const listing = await listPeople(storage, prefix);
    expect(listing.people.map((p) => p.name)).toEqual(['Al']);
    expect(listing.refused).toHaveLength(HOSTILE.length);
    for (const refused of listing.refused) {
      expect(refused.error.code).toBe('PERSON_ENTRY_INVALID');
      expect(refused.error.detail).toMatch(/^"name": the name (has|mixes)/);
    }
  });

  it('a full-width copy of a pinned name is the same name: its other key is flagged', async () => {
    const al = await entryFor('Al', 1);
    const copy = await entryFor('Ａｌ', 2);
    expect(personNameProblem(copy.name)).toBeUndefined();
    expect(comparableName(copy.name)).toBe(comparableName(' AL '));
    const view = assessPerson(copy, pinPerson([], al, 1));
    expect(view.status).toBe('changed');
    expect(view.pinnedFingerprint).toBe(al.fingerprint);
  });
});
