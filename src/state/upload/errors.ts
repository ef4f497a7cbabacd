/**
 * Errors as Upload shows them: the catalogued code and text (ErrorNotice), plus where the user can
 * fix it (Settings for credentials and sign-in, Keys for a missing vault key). Pure.
 */
import { s3Failure, type VeilError } from '../../core';
import type { StartedOver } from '../../transfer/progress';
import { shownError, type ShownError } from '../app/shown-error';

/** Where the user can fix what stops an upload. */
export type FixPlace = 'settings' | 'keys';

/** An error as a row or notice shows it, with where to fix it. */
export interface RowError extends ShownError {
  readonly fix: FixPlace | undefined;
}

/** Where errors with `code` are fixed, if the app has such a place. */
export function fixFor(code: string): FixPlace | undefined {
  if (code.startsWith('CREDENTIALS_') || code === 'HSM_UNAUTHENTICATED') return 'settings';
  if (code === 'MODEL_NOT_CONFIGURED' || code === 'HSM_FORBIDDEN_LABEL') return 'settings';
  if (code === 'VAULT_KEY_MISSING') return 'keys';
  return undefined;
}

/** Any thrown value as a RowError. */
export function rowError(error: unknown): RowError {
  const shown = shownError(error);
  return { ...shown, fix: fixFor(shown.code) };
}

/**
 * An S3 failure outside the engine (the key lookup, a discard) as a catalogued error, by the
 * rules of s3Failure ([Note: AWS failures]): no answer is S3_UNREACHABLE, credential errors their
 * CREDENTIALS_* code, any other answer S3_REJECTED with the S3 error name. VeilErrors pass.
 */
export function s3Error(error: unknown): VeilError {
  return s3Failure(error);
}

/** What the queue says when an upload started over as a new message, and why. */
export function startedOverNotice(startedOver: StartedOver): string {
  const why =
    startedOver.code === 'RESUME_FILE_CHANGED'
      ? `The file changed since part of it was sent (${startedOver.detail ?? 'a part'} differs)`
      : 'The unfinished upload could not be checked against the file';
  return `${why}, so it was discarded and the file is being uploaded again as a new encrypted object with a fresh key.`;
}
