/**
 * Any thrown value as what ErrorNotice shows: catalogued VeilErrors as they are, AWS credential
 * errors as their CREDENTIALS_* code, anything else as INTERNAL_ERROR with its name (anyFailure,
 * [Note: AWS failures]; never a raw stack or a secret).
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
