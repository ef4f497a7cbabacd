/**
 * Any thrown value as what ErrorNotice shows: catalogued VeilErrors as they are, anything else as
 * INTERNAL_ERROR with its name (never a raw stack or a secret).
 */
import { VeilError } from '../core/errors';

export interface ShownError {
  readonly code: string;
  readonly message: string;
}

export function shownError(error: unknown): ShownError {
  if (error instanceof VeilError) return { code: error.code, message: error.message };
  const name = error instanceof Error ? error.name : typeof error;
  const veil = new VeilError('INTERNAL_ERROR', name);
  return { code: veil.code, message: veil.message };
}
