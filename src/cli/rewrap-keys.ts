/**
 * The keys of `veil rewrap`: the keyring that opens the file (the usual KEYS, as for decrypt:
 * key files, the HSM proxy, KMS, or KMS discovery when none is named), the keyring that wraps
 * the data key for each key added (`--add-key-file`, `--add-kms-key`, `--add-hsm-key` with
 * `--hsm-proxy`), the keys removed (`--remove-key NAME`, the key name as `veil inspect` and
 * `veil ls` show it), and the model badge an object has once changed.
 */
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { createMultiKeyring } from '../core/multi-keyring';
import type { NeededKey } from '../core/provider-info';
import type { KeyToRemove } from '../core/rewrap-keys';
import { HSM_PROVIDER_ID, HsmProxyKeyring } from '../keyrings/hsm-proxy';
import { KMS_PROVIDER_ID } from '../keyrings/kms';
import { loadKeyring } from './key-files';
import { cliKeyring, type KeyringFlags } from './keyrings';
import { createCliKmsKeyring } from './kms';
import { checkHsmProxyUrl } from './options';

/** The changes a rewrap makes, as the flags give them; each list may be empty. */
export interface RewrapChangeFlags {
  /** `--add-key-file`, each one given. */
  readonly addKeyFiles: readonly string[];
  /** `--add-kms-key`, each one given. */
  readonly addKmsKeys: readonly string[];
  /** `--add-hsm-key`, each one given (with `--hsm-proxy`). */
  readonly addHsmKeys: readonly string[];
  /** `--remove-key`, each one given. */
  readonly removeKeys: readonly string[];
}

/** The keyrings and key lists of one rewrap, and what closes their clients. */
export interface RewrapKeys {
  /** Opens the stored header. */
  readonly openWith: Keyring;
  /** Wraps the data key for the keys added; absent when none is added. */
  readonly addWith?: Keyring;
  /** The keys added, by provider id and name (to leave out objects that already have them). */
  readonly adds: readonly NeededKey[];
  /** The keys removed, by name. */
  readonly remove: readonly KeyToRemove[];
  close(this: void): void;
}

/** The model letter of a provider id: C for KMS, B for the HSM proxy, else A (a raw AES key). */
export function modelOfProvider(providerId: string): 'A' | 'B' | 'C' {
  if (providerId === KMS_PROVIDER_ID) return 'C';
  if (providerId === HSM_PROVIDER_ID) return 'B';
  return 'A';
}

/**
 * The model badge of an object whose keys are `providerIds` after the change, by the rule of
 * `veil cp`: C when a KMS key is among them, else B with an HSM key, else A. Pure.
 */
export function badgeOf(providerIds: readonly string[]): 'A' | 'B' | 'C' | undefined {
  const models = new Set(providerIds.map(modelOfProvider));
  if (models.has('C')) return 'C';
  if (models.has('B')) return 'B';
  return models.has('A') ? 'A' : undefined;
}

/**
 * Checks that the flags ask for a change at all and that each is complete.
 * @throws VeilError USAGE naming what is missing.
 */
export function checkChangeFlags(change: RewrapChangeFlags, keys: KeyringFlags): void {
  const count =
    change.addKeyFiles.length +
    change.addKmsKeys.length +
    change.addHsmKeys.length +
    change.removeKeys.length;
  if (count === 0) {
    throw new VeilError(
      'USAGE',
      'name a change: --add-key-file, --add-kms-key, --add-hsm-key or --remove-key',
    );
  }
  if (change.addHsmKeys.length > 0 && keys.hsmProxy === undefined) {
    throw new VeilError('USAGE', '--add-hsm-key needs --hsm-proxy');
  }
  if (change.removeKeys.some((name) => name.length === 0)) {
    throw new VeilError('USAGE', '--remove-key takes a key name as veil inspect shows it');
  }
}

function addedHsmKeyring(proxyUrl: string, keyLabel: string, env: NodeJS.ProcessEnv): Keyring {
  checkHsmProxyUrl(proxyUrl);
  const token = env.VEIL_HSM_TOKEN?.trim();
  if (!token) {
    throw new VeilError(
      'USAGE',
      'set VEIL_HSM_TOKEN to your Cognito ID token to use the HSM proxy',
    );
  }
  return new HsmProxyKeyring({ proxyUrl, keyLabel, idToken: () => token });
}

/**
 * The keyrings for a rewrap. `--hsm-key` is not a key that opens (the proxy tries every HSM key
 * the file names), so it is refused here in favour of `--add-hsm-key`.
 * @throws VeilError USAGE for incomplete flags; IO_FAILED / KEY_FILE_INVALID for a key file;
 *   KMS_KEY_INVALID for a malformed --add-kms-key; HSM_PROXY_INSECURE.
 */
export async function rewrapKeys(
  keys: KeyringFlags,
  change: RewrapChangeFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RewrapKeys> {
  checkChangeFlags(change, keys);
  if (keys.hsmKeys.length > 0) {
    throw new VeilError(
      'USAGE',
      'rewrap opens HSM keys through --hsm-proxy alone; to add one, use --add-hsm-key LABEL',
    );
  }
  const closers: (() => void)[] = [];
  const closeAll = (): void => closers.splice(0).forEach((close) => close());
  try {
    const opening = await cliKeyring('decrypt', { ...keys, kmsKeys: keys.kmsKeys }, env);
    closers.push(opening.close);
    const adders: Keyring[] = [];
    const adds: NeededKey[] = [];
    for (const path of change.addKeyFiles) {
      const keyring = await loadKeyring(path);
      adders.push(keyring);
      adds.push({ providerId: keyring.keyNamespace, keyName: keyring.keyName });
    }
    if (change.addKmsKeys.length > 0) {
      const kms = await createCliKmsKeyring({
        kmsKeys: change.addKmsKeys,
        region: keys.region,
        endpointUrl: keys.endpointUrl,
        env,
      });
      closers.push(() => kms.close());
      adders.push(kms.keyring);
      for (const keyName of change.addKmsKeys) adds.push({ providerId: KMS_PROVIDER_ID, keyName });
    }
    for (const label of change.addHsmKeys) {
      adders.push(addedHsmKeyring(keys.hsmProxy ?? '', label, env));
      adds.push({ providerId: HSM_PROVIDER_ID, keyName: label });
    }
    const [only] = adders;
    const addWith =
      adders.length === 0
        ? undefined
        : adders.length === 1 && only
          ? only
          : createMultiKeyring({ children: adders });
    return {
      openWith: opening.keyring,
      ...(addWith ? { addWith } : {}),
      adds,
      remove: change.removeKeys.map((keyName) => ({ keyName })),
      close: closeAll,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}
