/**
 * The user's defaults, chosen in Settings and used by Upload: the key model and, per model, the
 * key (a vault key id for A, an HSM key label for B, a KMS key for C), the optional SSE layer and
 * the locations whose names the user made private in this browser.
 * Not secret. Empty choices fall back to config.json's defaults (hsm.keyLabel, kms.keyId). Pure:
 * the values and their parsing; preferences.svelte.ts keeps them in localStorage.
 */
import type { AtRest } from '../../transfer/upload';
import type { ModelId } from './protection';

export interface PreferenceValues {
  readonly model: ModelId;
  /** Model A: the vault key's id (its key name). */
  readonly vaultKeyId: string | undefined;
  /** Model B: the HSM key label; undefined means config.json's hsm.keyLabel. */
  readonly hsmKeyLabel: string | undefined;
  /** Model C: the KMS key (alias name or ARN); undefined means config.json's kms.keyId. */
  readonly kmsKeyId: string | undefined;
  /** SSE at rest on top of client-side encryption. */
  readonly atRest: AtRest | undefined;
  /**
   * Locations (`bucket/root`, locationId in location-names-core.ts) with private names turned on
   * in Settings ([Note: names of the current location]); config.json may turn them on as well.
   */
  readonly privateNames: readonly string[];
  /**
   * Locations (locationIds) whose new files this browser pads to a bucketed size ([Note: size
   * padding] in core/padding.ts); config.json may turn it on as well.
   */
  readonly padding: readonly string[];
}

export const DEFAULT_PREFERENCES: PreferenceValues = {
  model: 'A',
  vaultKeyId: undefined,
  hsmKeyLabel: undefined,
  kmsKeyId: undefined,
  atRest: undefined,
  privateNames: [],
  padding: [],
};

function isModel(value: unknown): value is ModelId {
  return value === 'A' || value === 'B' || value === 'C';
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function parseAtRest(value: unknown): AtRest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, kmsKeyId } = value as { type?: unknown; kmsKeyId?: unknown };
  if (type === 'SSE-S3') return { type };
  if (type === 'SSE-KMS') {
    const key = optionalString(kmsKeyId);
    return key ? { type, kmsKeyId: key } : { type };
  }
  return undefined;
}

/** A stored list of locationIds; anything else is an empty list. */
function locationIds(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((id): id is string => typeof id === 'string' && id.length > 0)
    : [];
}

/** Parses stored preferences; anything unreadable falls back to the defaults, field by field. */
export function parsePreferences(text: string | null): PreferenceValues {
  if (!text) return DEFAULT_PREFERENCES;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return DEFAULT_PREFERENCES;
  }
  if (typeof value !== 'object' || value === null) return DEFAULT_PREFERENCES;
  const v = value as Record<string, unknown>;
  return {
    model: isModel(v.model) ? v.model : DEFAULT_PREFERENCES.model,
    vaultKeyId: optionalString(v.vaultKeyId),
    hsmKeyLabel: optionalString(v.hsmKeyLabel),
    kmsKeyId: optionalString(v.kmsKeyId),
    atRest: parseAtRest(v.atRest),
    privateNames: locationIds(v.privateNames),
    padding: locationIds(v.padding),
  };
}
