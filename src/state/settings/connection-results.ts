/**
 * The rows of "Check connection" in Settings (connection-checks.ts): which part each row checks,
 * its label, and its result (ok, failed with a catalogued error and the fix, or skipped with the
 * reason), with the small constructors every check uses.
 */
import { shownError } from '../app/shown-error';

/** The parts Veil needs, one row each, in the order they are shown. */
export type CheckId = 'credentials' | 'bucket' | 'cors' | 'kms' | 'hsm-health' | 'hsm-login';

/** What each row is called in Settings. */
export const CHECK_LABELS: Readonly<Record<CheckId, string>> = {
  credentials: 'AWS credentials',
  bucket: 'Bucket access',
  cors: 'Bucket CORS rules',
  kms: 'KMS key (Model C)',
  'hsm-health': 'HSM proxy (Model B)',
  'hsm-login': 'HSM sign-in (Model B)',
};

/** One row's outcome. */
export type CheckResult =
  | { readonly id: CheckId; readonly status: 'ok'; readonly detail: string }
  | {
      readonly id: CheckId;
      readonly status: 'failed';
      readonly code: string;
      readonly message: string;
      /** Text to copy to fix it (the CORS configuration to add), when there is one. */
      readonly fix?: string;
    }
  | { readonly id: CheckId; readonly status: 'skipped'; readonly reason: string };

/** A row that passed, saying what was checked. */
export function ok(id: CheckId, detail: string): CheckResult {
  return { id, status: 'ok', detail };
}

/** A row that was not checked, and why. */
export function skipped(id: CheckId, reason: string): CheckResult {
  return { id, status: 'skipped', reason };
}

/** A row that failed with `error` as the catalogue shows it, and the text that fixes it. */
export function failed(id: CheckId, error: unknown, fix?: string): CheckResult {
  const shown = shownError(error);
  return {
    id,
    status: 'failed',
    code: shown.code,
    message: shown.message,
    ...(fix ? { fix } : {}),
  };
}
