/**
 * [Note: keyring choice] The one place the app turns the user's choices into keyrings.
 *
 * Upload (write): the model's keyring with the chosen key ([Note: key choice] in key-choice.ts,
 * which the connection checks and the KMS self test use too) and the encryption context ([Note:
 * upload encryption context] in src/keyrings/upload-context.ts: app, bucket, identity; never a
 * file name), the same for every model so policies can bind to it.
 *
 * Download (read): a multi-keyring of everything this session could open: the vault's keys
 * (Model A), the HSM proxy when configured and signed in (Model B), and KMS discovery limited to
 * the configured key's account (Model C). The core picks the EDK a child can open.
 */
import type { VeilConfig } from '../../aws/config';
import { modelCReadKeyring, modelCWriteKeyring } from '../../aws/model-c';
import { VeilError } from '../../core/errors';
import type { EncryptionContext } from '../../core/encryption-context';
import type { Keyring } from '../../core/keyring';
import { createMultiKeyring } from '../../core/multi-keyring';
import { HsmProxyKeyring } from '../../keyrings/hsm-proxy';
import { buildUploadContext } from '../../keyrings/upload-context';
import type { AwsSession } from './credentials.svelte';
import { resolveKeyChoice, type KeyChoice } from './key-choice';
import type { PreferenceValues } from './preference-values';
import type { ModelId } from './protection';
import type { RecordKey } from '../upload/records';
import type { Vault } from '../keys/vault.svelte';

/** What the choice needs of the app. */
export interface KeyringSources {
  readonly config: VeilConfig;
  readonly session: Pick<AwsSession, 'clients' | 'identityId' | 'idToken' | 'hasIdToken'>;
  readonly vault: Pick<Vault, 'keyring' | 'keyrings' | 'keys'>;
  readonly preferences: PreferenceValues;
}

/** A new upload's keyring and encryption context. */
export interface WriteKeys {
  readonly keyring: Keyring;
  readonly encryptionContext: EncryptionContext;
  /** What wraps the data key, for display (vault key name, HSM label or KMS key). */
  readonly keyName: string;
}

/**
 * The keyring and context that write a new object under `model`.
 * @throws VeilError VAULT_KEY_MISSING (A without a chosen vault key), MODEL_NOT_CONFIGURED
 *   (B or C without proxy or KMS key), CREDENTIALS_MISSING (C without credentials),
 *   HSM_UNAUTHENTICATED (B without a user sign-in).
 */
export function writeKeys(model: ModelId, sources: KeyringSources): WriteKeys {
  const { config, session } = sources;
  const choice = keyChoiceOf(sources);
  const encryptionContext = buildUploadContext({
    bucket: config.bucket,
    identityId: session.identityId || undefined,
  });
  switch (model) {
    case 'A': {
      const name = choice.vaultKeyName;
      if (!name) throw new VeilError('VAULT_KEY_MISSING', 'no key in the vault yet');
      return { keyring: sources.vault.keyring(name), encryptionContext, keyName: name };
    }
    case 'B': {
      const hsm = choice.hsm;
      if (!hsm) throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no hsm');
      if (!session.hasIdToken) {
        throw new VeilError('HSM_UNAUTHENTICATED', 'Model B needs a user sign-in in Settings');
      }
      const keyring = new HsmProxyKeyring({
        proxyUrl: hsm.proxyUrl,
        keyLabel: hsm.keyLabel,
        idToken: () => session.idToken(),
      });
      return { keyring, encryptionContext, keyName: hsm.keyLabel };
    }
    case 'C': {
      const keyId = choice.kmsKeyId;
      if (!keyId) throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no kms.keyId');
      const keyring = modelCWriteKeyring(session.clients(), keyId);
      return { keyring, encryptionContext, keyName: keyId };
    }
  }
}

/** The key choice of these sources ([Note: key choice]). */
export function keyChoiceOf(sources: KeyringSources): KeyChoice {
  return resolveKeyChoice(sources.config, sources.preferences, sources.vault);
}

/**
 * A keyring that wraps a new data key under exactly `keys` (an unfinished upload's keys, when it
 * must start over as a new message: [Note: resume digests] in src/transfer/part-digest.ts), or
 * undefined when this session cannot use every one of them (a vault key that is gone, no sign-in
 * for the HSM, no credentials for KMS): a key is never silently dropped.
 */
export function keyringForKeys(
  keys: readonly RecordKey[],
  sources: KeyringSources,
): Keyring | undefined {
  const keyrings = keys.map((key) => keyringForKey(key, sources));
  const [generator, ...children] = keyrings;
  if (!generator || children.some((child) => child === undefined)) return undefined;
  return children.length === 0
    ? generator
    : createMultiKeyring({ generator, children: children as Keyring[] });
}

function keyringForKey(key: RecordKey, sources: KeyringSources): Keyring | undefined {
  const { config, session } = sources;
  switch (key.model) {
    case 'A':
      return sources.vault.keys.some((held) => held.keyName === key.keyName)
        ? sources.vault.keyring(key.keyName)
        : undefined;
    case 'B':
      return config.hsm && session.hasIdToken
        ? new HsmProxyKeyring({
            proxyUrl: config.hsm.proxyUrl,
            keyLabel: key.keyName,
            idToken: () => session.idToken(),
          })
        : undefined;
    case 'C':
      try {
        return modelCWriteKeyring(session.clients(), key.keyName);
      } catch {
        return undefined;
      }
  }
}

/**
 * The keyring that opens downloads: every source available now. Sources that are not set up
 * (no vault keys, no sign-in, no credentials) are left out; the core then reports
 * NO_MATCHING_EDK, and the view names the key the object needs (keysNeeded).
 */
export async function readKeyring(sources: KeyringSources): Promise<Keyring | undefined> {
  const { config, session } = sources;
  const children: Keyring[] = [...sources.vault.keyrings()];
  if (config.hsm && session.hasIdToken) {
    children.push(
      new HsmProxyKeyring({ proxyUrl: config.hsm.proxyUrl, idToken: () => session.idToken() }),
    );
  }
  let clients;
  try {
    clients = session.clients();
  } catch {
    clients = undefined;
  }
  if (clients) {
    try {
      children.push(await modelCReadKeyring(clients, config));
    } catch {
      // KMS is out of reach for this session (DescribeKey denied, no KMS in the region): leave
      // it out so keys from the vault and the HSM still open their objects; a Model C object
      // then fails with NO_MATCHING_EDK and the view names its key.
    }
  }
  return children.length === 0 ? undefined : createMultiKeyring({ children });
}
