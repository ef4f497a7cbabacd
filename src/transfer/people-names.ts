/**
 * [Note: person names are shown text] A person's display name is typed by whoever publishes a
 * directory entry, and anyone who may write to the bucket can publish one. The name is what the
 * sharer reads before choosing whom to share with, so it must not pass for another name:
 * - characters that escapeUntrusted escapes ([Note: untrusted text] in core/untrusted-text.ts:
 *   controls, bidirectional marks and overrides, zero-width and other invisible characters) are
 *   refused, both when a name is published and when an entry is read (such an entry is listed
 *   as refused, never shown under a name that hides them);
 * - a name that mixes Latin letters with Cyrillic or Greek ones ("Аl" with a Cyrillic А) is
 *   refused as confusable: real names in those scripts are written in one of them;
 * - names are compared (pins, [Note: pinned people]) in NFKC form without case, so a full-width
 *   "Ａｌ" is the same name as "Al" and a new key under it is flagged as changed.
 * Fingerprints stay the real check; these rules keep the name from lying on its own. Pure.
 */
import { escapeUntrusted } from '../core';

/** Why a display name cannot be used, or undefined when it can. */
export type PersonNameProblem = 'controls' | 'invisible' | 'mixed-scripts';

const LATIN = /\p{Script=Latin}/u;
const CONFUSABLE_SCRIPTS = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/;

/** What is wrong with `name` as a shown display name ([Note: person names are shown text]). */
export function personNameProblem(name: string): PersonNameProblem | undefined {
  if (CONTROLS.test(name)) return 'controls';
  // escapeUntrusted changes nothing but backslashes in a name without unsafe characters.
  if (escapeUntrusted(name) !== name.replace(/\\/g, '\\\\')) return 'invisible';
  if (LATIN.test(name) && CONFUSABLE_SCRIPTS.test(name)) return 'mixed-scripts';
  return undefined;
}

/** The words for a problem, for the error detail. */
export const PERSON_NAME_PROBLEMS: Readonly<Record<PersonNameProblem, string>> = {
  controls: 'the name has control characters',
  invisible:
    'the name has invisible or direction-changing characters (zero-width, bidirectional marks)',
  'mixed-scripts':
    'the name mixes Latin letters with Cyrillic or Greek ones, which can pass for another name',
};

/** A name as names are compared: NFKC, trimmed, without case. */
export function comparableName(name: string): string {
  return name.normalize('NFKC').trim().toLocaleLowerCase();
}
