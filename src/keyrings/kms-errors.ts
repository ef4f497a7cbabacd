/**
 * KMS failures and key states as catalogue codes. The name tables live in core/aws-failure.ts
 * ([Note: AWS failures]); the detail names the operation, the key (aliases and ARNs are not
 * secret) and the original error name, never a message body (moto sends empty ones).
 */
import { kmsFailure, type ErrorCode, type VeilError } from '../core';

/**
 * Maps an error from a KMS call to a VeilError by kmsFailure ([Note: AWS failures]); a VeilError
 * passes through unchanged.
 * @param operation the KMS operation, e.g. `GenerateDataKey`.
 * @param keyName the key as the call named it (alias or ARN; not secret).
 */
export function kmsError(error: unknown, operation: string, keyName: string): VeilError {
  return kmsFailure(error, { operation: `${operation} ${keyName}` });
}

/**
 * The catalogue code for a KMS key state that stops cryptographic use, or undefined when the
 * key is usable (`Enabled`). States: Enabled, Disabled, PendingDeletion, PendingImport,
 * PendingReplicaDeletion, Unavailable, Updating, Creating.
 */
export function keyStateErrorCode(state: string | undefined): ErrorCode | undefined {
  switch (state) {
    case 'Enabled':
    case undefined:
      return undefined;
    case 'Disabled':
      return 'KMS_KEY_DISABLED';
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return 'KMS_KEY_PENDING_DELETION';
    default:
      return 'KMS_KEY_UNAVAILABLE';
  }
}
