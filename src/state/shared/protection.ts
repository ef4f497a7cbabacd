/**
 * How an object is protected, in the words the app uses everywhere: the choice made for an
 * upload (a key model, optionally with SSE at rest; or SSE only / nothing, for comparison), the
 * badge the Files view shows from an object's metadata, and the one-line statement of what
 * protects a file. Pure: no state, no I/O.
 */
import type { AtRest } from '../../transfer/upload';

/** Veil's key models: A the user's key, B an HSM behind the proxy, C AWS KMS. */
export type ModelId = 'A' | 'B' | 'C';

export const MODELS: readonly ModelId[] = ['A', 'B', 'C'];

/** What an upload does: client-side encryption under a model, or S3 only (not zero knowledge). */
export type Protection =
  | { readonly kind: 'client-side'; readonly model: ModelId; readonly atRest?: AtRest }
  | { readonly kind: 'server-side'; readonly atRest: AtRest }
  | { readonly kind: 'none' };

/** The badge of an object, read from its user metadata without downloading the body. */
export type Badge =
  | { readonly kind: 'model'; readonly model: ModelId }
  | { readonly kind: 'esdk' }
  | { readonly kind: 'sse-only'; readonly sse: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown' };

export const MODEL_NAMES: Readonly<Record<ModelId, string>> = {
  A: 'Model A · your key',
  B: 'Model B · HSM',
  C: 'Model C · AWS KMS',
};

/** Who holds the key, per model, in one phrase. */
const KEY_HOLDER: Readonly<Record<ModelId, string>> = {
  A: 'a key only you hold',
  B: 'a key that never leaves the HSM',
  C: 'a data key wrapped by AWS KMS',
};

function atRestPhrase(atRest: AtRest | undefined): string {
  if (!atRest) return '';
  return atRest.type === 'SSE-S3'
    ? ', and S3 encrypts it again at rest (SSE-S3)'
    : ', and S3 encrypts it again at rest with KMS (SSE-KMS)';
}

/** One line saying what protects a file uploaded with `protection`. */
export function protectionStatement(protection: Protection): string {
  switch (protection.kind) {
    case 'client-side':
      return (
        `Encrypted in this browser under ${KEY_HOLDER[protection.model]} ` +
        `(${MODEL_NAMES[protection.model]}); S3 stores only ciphertext` +
        atRestPhrase(protection.atRest) +
        '.'
      );
    case 'server-side':
      return protection.atRest.type === 'SSE-S3'
        ? 'Sent readable over TLS; S3 encrypts it at rest with its own keys (SSE-S3). AWS can read it: not zero knowledge.'
        : 'Sent readable over TLS; S3 encrypts it at rest with a KMS key (SSE-KMS). AWS can read it: not zero knowledge.';
    case 'none':
      return 'Sent and stored as it is (apart from the bucket’s default encryption): not zero knowledge.';
  }
}

/**
 * The badge for an object from its HeadObject user metadata (`veil-format`, `veil-model`) and
 * server-side encryption header. Objects written by other tools have no Veil metadata: 'unknown'
 * until the body is sniffed.
 */
export function badgeOf(
  metadata: Readonly<Record<string, string>> | undefined,
  serverSideEncryption?: string,
): Badge {
  const format = metadata?.['veil-format'];
  const model = metadata?.['veil-model'];
  if (format && format !== 'plain') {
    return model === 'A' || model === 'B' || model === 'C'
      ? { kind: 'model', model }
      : { kind: 'esdk' };
  }
  if (format === 'plain') {
    return serverSideEncryption
      ? { kind: 'sse-only', sse: serverSideEncryption }
      : { kind: 'none' };
  }
  return { kind: 'unknown' };
}

/** A badge's short label. */
export function badgeLabel(badge: Badge): string {
  switch (badge.kind) {
    case 'model':
      return MODEL_NAMES[badge.model];
    case 'esdk':
      return 'Encrypted (ESDK)';
    case 'sse-only':
      return badge.sse === 'AES256' ? 'SSE-S3 only' : 'SSE-KMS only';
    case 'none':
      return 'Not encrypted';
    case 'unknown':
      return 'Unknown';
  }
}
