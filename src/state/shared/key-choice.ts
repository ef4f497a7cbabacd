/**
 * [Note: key choice] Which key wraps a new upload's data key, per model, worked out once: the
 * user's preference from Settings when there is one (an empty choice counts as none), else
 * config.json's default, and for Model A the vault's first key. Uploads (writeKeys), "Check
 * connection" (settings/connection-checks.ts) and the KMS self test (settings/kms-self-test.ts) all take the key
 * from here, so a check can never pass for another key than the one uploads use. Pure.
 */
import type { VeilConfig } from '../../aws/config';
import type { PreferenceValues } from './preference-values';

/** Model B's choice: where the proxy is and which HSM key label wraps. */
export interface HsmChoice {
  /** Base URL of the HSM proxy (config.json's hsm.proxyUrl). */
  readonly proxyUrl: string;
  /** The HSM key label that wraps new data keys. */
  readonly keyLabel: string;
}

/** The key each model wraps new data keys with; undefined where that model has none. */
export interface KeyChoice {
  /** Model A: the vault key's name (the preference, else the vault's first key). */
  readonly vaultKeyName: string | undefined;
  /** Model B: undefined when config.json names no HSM proxy. */
  readonly hsm: HsmChoice | undefined;
  /** Model C: the KMS key as the user or config.json named it (alias, alias ARN, id or ARN). */
  readonly kmsKeyId: string | undefined;
}

/** What the choice needs of the vault: the names of the keys it holds, oldest first. */
export interface VaultKeyNames {
  readonly keys: readonly { readonly keyName: string }[];
}

/** The preferences the choice reads. */
export type KeyPreferences = Pick<PreferenceValues, 'vaultKeyId' | 'hsmKeyLabel' | 'kmsKeyId'>;

/** A chosen value, or undefined for none (unset, or emptied in Settings). */
function chosen(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Model A's key: the preferred vault key, else the vault's first (oldest) key. */
export function chosenVaultKeyName(
  preferences: Pick<KeyPreferences, 'vaultKeyId'>,
  vault: VaultKeyNames,
): string | undefined {
  return chosen(preferences.vaultKeyId) ?? vault.keys[0]?.keyName;
}

/**
 * Resolves the key of every model from config.json, the user's preferences and the vault (see
 * [Note: key choice]). Never throws: a model without a key gets undefined, and the caller that
 * needs it raises the catalogued error.
 */
export function resolveKeyChoice(
  config: Pick<VeilConfig, 'hsm' | 'kms'>,
  preferences: KeyPreferences,
  vault: VaultKeyNames,
): KeyChoice {
  const hsm = config.hsm;
  return {
    vaultKeyName: chosenVaultKeyName(preferences, vault),
    hsm: hsm
      ? { proxyUrl: hsm.proxyUrl, keyLabel: chosen(preferences.hsmKeyLabel) ?? hsm.keyLabel }
      : undefined,
    kmsKeyId: chosen(preferences.kmsKeyId) ?? config.kms?.keyId,
  };
}
