/**
 * Trust on first use for the people directory ([Note: pinned people]): a new person needs the
 * fingerprint confirmed, a pinned key passes, and a changed key for a known name (the attack: a
 * key published under a pinned person's name, or their entry replaced) is flagged and refused
 * until the change itself is confirmed; confirming moves the pin.
 */
import { describe, expect, it } from 'vitest';
import {
  assessPeople,
  assessPerson,
  isPinned,
  mayShare,
  parsePins,
  pinPerson,
  pinScope,
} from '../../../../src/state/people/pins';
import type { PersonEntry } from '../../../../src/transfer/people-directory';

const fp = (digit: string) => digit.repeat(64);
const person = (name: string, fingerprint: string): PersonEntry => ({
  name,
  fingerprint,
  publicKeySpki: new Uint8Array([1]),
  created: '',
});
const none = { fingerprint: false, change: false };
const checked = { fingerprint: true, change: false };
const both = { fingerprint: true, change: true };

describe('assessPerson', () => {
  it('a person never seen is new, and may be shared with once the fingerprint is confirmed', () => {
    const view = assessPerson(person('Bea', fp('b')), []);
    expect(view.status).toBe('new');
    expect(mayShare(view, none)).toBe(false);
    expect(mayShare(view, checked)).toBe(true);
  });

  it('a pinned key passes without asking', () => {
    const pins = pinPerson([], person('Bea', fp('b')), 1);
    const view = assessPerson(person('Bea', fp('b')), pins);
    expect(view).toEqual({ entry: person('Bea', fp('b')), status: 'pinned' });
    expect(mayShare(view, none)).toBe(true);
  });

  it('a different key under a pinned name is changed: refused until the change is confirmed', () => {
    const pins = pinPerson([], person('Bea', fp('b')), 1);
    const view = assessPerson(person(' bea ', fp('e')), pins);
    expect(view.status).toBe('changed');
    expect(view.pinnedFingerprint).toBe(fp('b'));
    expect(mayShare(view, none)).toBe(false);
    expect(mayShare(view, checked)).toBe(false);
    expect(mayShare(view, both)).toBe(true);
  });

  it('confirming a change moves the pin: the old key is no longer accepted for the name', () => {
    let pins = pinPerson([], person('Bea', fp('b')), 1);
    pins = pinPerson(pins, person('Bea', fp('e')), 2);
    expect(pins).toEqual([{ name: 'Bea', fingerprint: fp('e'), pinnedAtMs: 2 }]);
    expect(assessPerson(person('Bea', fp('b')), pins).status).toBe('changed');
    expect(isPinned(pins, fp('e'))).toBe(true);
    expect(isPinned(pins, fp('b'))).toBe(false);
  });

  it('a pinned key published under a new name stays pinned and says the pinned name', () => {
    const pins = pinPerson([], person('Bea', fp('b')), 1);
    const view = assessPerson(person('Beatrice', fp('b')), pins);
    expect(view.status).toBe('pinned');
    expect(view.pinnedName).toBe('Bea');
  });

  it('assesses a whole directory in order', () => {
    const pins = pinPerson([], person('Bea', fp('b')), 1);
    const views = assessPeople([person('Al', fp('a')), person('Bea', fp('c'))], pins);
    expect(views.map((v) => v.status)).toEqual(['new', 'changed']);
  });
});

describe('stored pins', () => {
  it('reads back what was written and drops what has not the shape', () => {
    const pins = pinPerson([], person('Bea', fp('b')), 5);
    expect(parsePins(JSON.stringify(pins))).toEqual(pins);
    expect(parsePins(null)).toEqual([]);
    expect(parsePins('{')).toEqual([]);
    expect(parsePins(JSON.stringify([{ name: 1 }, ...pins]))).toEqual(pins);
    expect(pinScope('b', 'team/.veil/people/')).toBe('b/team/.veil/people/');
  });
});
