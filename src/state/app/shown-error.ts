/**
 * Any thrown value as what ErrorNotice shows: catalogued VeilErrors as they are, AWS credential
 * errors as their CREDENTIALS_* code, anything else as INTERNAL_ERROR with its name (anyFailure,
 * [Note: AWS failures]; never a raw stack or a secret).
 *
 * [Note: errors lead with words] A notice leads with the catalogue's plain sentence (what
 * happened), then what to do; the code comes last, small and muted ("Code: WRONG_KEY"), for
 * support, never as the headline.
 */
import { anyFailure } from '../../core';

export interface ShownError {
  readonly code: string;
  readonly message: string;
}

export function shownError(error: unknown): ShownError {
  const veil = anyFailure(error);
  return { code: veil.code, message: veil.message };
}

/** A message as a notice shows it: the first sentence as its lead, then the rest. */
export interface NoticeText {
  readonly lead: string;
  readonly rest: string;
}

/**
 * Splits a message after its first sentence (a ".", "!" or "?" before a space, outside any
 * brackets), so the notice can lead with it; a message of one sentence is all lead.
 */
export function noticeText(message: string): NoticeText {
  let depth = 0;
  for (let i = 0; i < message.length - 1; i++) {
    const char = message[i];
    if (char === '(') depth++;
    else if (char === ')') depth = Math.max(0, depth - 1);
    else if (
      depth === 0 &&
      (char === '.' || char === '!' || char === '?') &&
      message[i + 1] === ' '
    ) {
      return { lead: message.slice(0, i + 1), rest: message.slice(i + 2).trim() };
    }
  }
  return { lead: message.trim(), rest: '' };
}

/** The code line of a notice, for support. */
export function codeLine(code: string): string {
  return `Code: ${code}`;
}
