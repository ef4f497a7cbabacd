/**
 * [Note: pinned people] Trust on first use for the people directory ([Note: the people directory
 * is untrusted] in src/transfer/people-directory.ts). This browser remembers, per bucket and
 * people root, the fingerprint it accepted for each person (a pin), when the user first shares
 * with them after seeing the fingerprint. Later, the directory is compared with the pins:
 * - `pinned`: the entry's key is the one pinned;
 * - `new`: nobody of that name and no such key was pinned: the fingerprint is shown to check out
 *   of band, and sharing pins it;
 * - `changed`: a person of that name was pinned with another fingerprint (their key was replaced,
 *   or someone published under their name). Never trusted silently: sharing is refused until the
 *   user confirms, after comparing fingerprints, and that confirmation moves the pin.
 * Names compare in NFKC form, without case and surrounding spaces ([Note: person names are shown
 * text] in src/transfer/people-names.ts), so a full-width copy of a pinned name is `changed`.
 * Pure: the store is injected.
 */
import type { PersonEntry } from '../../transfer/people-directory';
import { comparableName } from '../../transfer/people-names';

/** One accepted key. */
export interface Pin {
  readonly name: string;
  readonly fingerprint: string;
  readonly pinnedAtMs: number;
}

export type PersonStatus = 'pinned' | 'new' | 'changed';

/** A directory entry with what the pins say of it. */
export interface PersonView {
  readonly entry: PersonEntry;
  readonly status: PersonStatus;
  /** For `changed`: the fingerprint pinned for that name before. */
  readonly pinnedFingerprint?: string;
  /** For `pinned`: the name it was pinned under, when the directory now shows another. */
  readonly pinnedName?: string;
}

/** Where the pins are kept (localStorage in the app, a Map in tests). */
export interface PinStore {
  load(scope: string): readonly Pin[];
  save(scope: string, pins: readonly Pin[]): void;
}

/** The scope of the pins of one people directory. */
export function pinScope(bucket: string, peoplePrefix: string): string {
  return `${bucket}/${peoplePrefix}`;
}

const sameName = (a: string, b: string): boolean => comparableName(a) === comparableName(b);

/** What the pins say of one entry ([Note: pinned people]). */
export function assessPerson(entry: PersonEntry, pins: readonly Pin[]): PersonView {
  const byName = pins.find((p) => sameName(p.name, entry.name));
  if (byName && byName.fingerprint !== entry.fingerprint) {
    return { entry, status: 'changed', pinnedFingerprint: byName.fingerprint };
  }
  const byKey = pins.find((p) => p.fingerprint === entry.fingerprint);
  if (byKey) {
    return byKey.name === entry.name
      ? { entry, status: 'pinned' }
      : { entry, status: 'pinned', pinnedName: byKey.name };
  }
  return { entry, status: 'new' };
}

/** Every entry assessed, in the directory's order. */
export function assessPeople(
  people: readonly PersonEntry[],
  pins: readonly Pin[],
): readonly PersonView[] {
  return people.map((entry) => assessPerson(entry, pins));
}

/**
 * The pins after accepting `entry`: any pin of the same name or fingerprint is replaced by one
 * for this entry.
 */
export function pinPerson(pins: readonly Pin[], entry: PersonEntry, nowMs: number): Pin[] {
  const others = pins.filter(
    (p) => !sameName(p.name, entry.name) && p.fingerprint !== entry.fingerprint,
  );
  return [...others, { name: entry.name, fingerprint: entry.fingerprint, pinnedAtMs: nowMs }];
}

/**
 * Whether sharing with a person may go ahead, given the user's confirmations: a `pinned` key
 * may; a `new` one once the user confirmed its fingerprint; a `changed` one only once the user
 * confirmed the change itself, after comparing fingerprints.
 */
export function mayShare(
  view: PersonView,
  confirmed: { readonly fingerprint: boolean; readonly change: boolean },
): boolean {
  switch (view.status) {
    case 'pinned':
      return true;
    case 'new':
      return confirmed.fingerprint;
    case 'changed':
      return confirmed.fingerprint && confirmed.change;
  }
}

/** Whether a fingerprint is one of the pins (for showing a sharer as known). */
export function isPinned(pins: readonly Pin[], fingerprint: string): boolean {
  return pins.some((p) => p.fingerprint === fingerprint);
}

/** Pins read back from JSON (entries that do not have the shape are dropped). */
export function parsePins(text: string | null): Pin[] {
  if (!text) return [];
  try {
    const json: unknown = JSON.parse(text);
    if (!Array.isArray(json)) return [];
    return json.filter(
      (p): p is Pin =>
        typeof p === 'object' &&
        p !== null &&
        typeof (p as Pin).name === 'string' &&
        typeof (p as Pin).fingerprint === 'string' &&
        typeof (p as Pin).pinnedAtMs === 'number',
    );
  } catch {
    return [];
  }
}
