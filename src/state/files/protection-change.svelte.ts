/**
 * "Change protection" as the views use it: protection-change-core.ts over the app's session,
 * vault and settings ([Note: keyring choice] in src/state/shared/keyrings.ts), with its view in
 * $state. The S3 seams are the engines': downloadS3For for headers, rewrapS3For with Blob bodies
 * (the browser's fetch takes them; [Note: Blob request bodies] in src/transfer/s3-api.ts); the
 * rewrap store is this browser's (unfinished-changes.svelte.ts lists what it keeps).
 */
import type { VeilConfig } from '../../aws/config';
import { bucketS3For } from '../../aws/bucket-s3';
import { VeilError } from '../../core/errors';
import type { NeededKey } from '../../core';
import { HSM_PROVIDER_ID } from '../../keyrings/hsm-proxy';
import { kmsReEncrypter } from '../../keyrings/kms-reencrypt';
import { downloadS3For } from '../../transfer/download-s3';
import { headerReader } from '../../transfer/rewrap-batch';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { awsSession } from '../shared/credentials.svelte';
import { keyChoiceOf, keyringForKeys, readKeyring, type KeyringSources } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import type { ModelId } from '../shared/protection';
import { vault } from '../keys/vault.svelte';
import { keysUnder } from './delete';
import { modelOfProvider } from './download-keys';
import { appRewrapStore } from './unfinished-changes.svelte';
import {
  EMPTY_VIEW,
  ProtectionChangeCore,
  type ChosenKey,
  type ProtectionDeps,
  type ProtectionOperation,
  type ProtectionTarget,
  type ProtectionView,
} from './protection-change-core';

export type {
  CarriedKey,
  ChosenKey,
  ProtectionOperation,
  ProtectionTarget,
  ProtectionView,
} from './protection-change-core';

/** The code a key's model needs when this session cannot wrap with it. */
const UNAVAILABLE: Readonly<
  Record<ModelId, 'VAULT_KEY_MISSING' | 'HSM_UNAUTHENTICATED' | 'CREDENTIALS_MISSING'>
> = {
  A: 'VAULT_KEY_MISSING',
  B: 'HSM_UNAUTHENTICATED',
  C: 'CREDENTIALS_MISSING',
};

function sourcesOf(config: VeilConfig): KeyringSources {
  return { config, session: awsSession, vault, preferences: preferences.values };
}

/** The core's dependencies in the app. */
export function appProtectionDeps(config: VeilConfig): ProtectionDeps {
  const s3 = () => awsSession.clients().s3();
  return {
    bucket: config.bucket,
    list: async (prefix, signal) =>
      (await keysUnder(bucketS3For(s3(), config.bucket), prefix, signal)).keys.map((key) => ({
        key,
      })),
    readHeader: (key, signal) => headerReader(downloadS3For(s3()), config.bucket)(key, signal),
    rewrapS3: () => rewrapS3For(s3(), { blobBodies: true }),
    // Multipart rewraps keep a record: an interrupted one is resumed from Files.
    rewrapStore: appRewrapStore,
    readKeyring: () => readKeyring(sourcesOf(config)),
    writeKeyring(key) {
      if (key.model === 'B' && !config.hsm) {
        throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no hsm');
      }
      const keyring = keyringForKeys([key], sourcesOf(config));
      if (!keyring) throw new VeilError(UNAVAILABLE[key.model], key.keyName);
      return keyring;
    },
    // Model C to another KMS key: KMS ReEncrypt when the caller may, so the data key stays in KMS.
    reEncrypter: (key) =>
      key.model === 'C'
        ? kmsReEncrypter({
            clients: awsSession.clients().kmsSupplier(),
            destinationKeyId: key.keyName,
          })
        : undefined,
    addedKey: (key) => addedKeyOf(key),
    canOpen: (key) => canOpen(config, key),
    modelOf: modelOfProvider,
    bindingRule: () => locationNames.bindingRule(config),
  };
}

/** How a key to add is named in a header. */
export function addedKeyOf(key: ChosenKey): NeededKey {
  switch (key.model) {
    case 'A': {
      const held = vault.keys.find((k) => k.keyName === key.keyName);
      return { providerId: held?.keyNamespace ?? 'veil', keyName: key.keyName };
    }
    case 'B':
      return { providerId: HSM_PROVIDER_ID, keyName: key.keyName };
    case 'C':
      return { providerId: 'aws-kms', keyName: key.keyName };
  }
}

/** Whether this session can use a key a header names. */
function canOpen(config: VeilConfig, key: NeededKey): boolean {
  switch (modelOfProvider(key.providerId)) {
    case 'A':
      return vault.keys.some((k) => k.keyName === key.keyName && k.keyNamespace === key.providerId);
    case 'B':
      return config.hsm !== undefined && awsSession.hasIdToken;
    case 'C':
      return awsSession.status.state === 'ready';
  }
}

/** The keys the user may add per model now: vault keys, the chosen HSM label and KMS key. */
export function keyOptions(config: VeilConfig): Record<ModelId, string[]> {
  const choice = keyChoiceOf(sourcesOf(config));
  return {
    A: vault.keys.map((k) => k.keyName),
    B: choice.hsm ? [choice.hsm.keyLabel] : [],
    C: choice.kmsKeyId ? [choice.kmsKeyId] : [],
  };
}

export class ProtectionChange {
  #view = $state<ProtectionView>(EMPTY_VIEW);
  readonly #core: ProtectionChangeCore;

  constructor(deps: ProtectionDeps) {
    this.#core = new ProtectionChangeCore(deps, (view) => {
      this.#view = view;
    });
  }

  get view(): ProtectionView {
    return this.#view;
  }
  get busy(): boolean {
    const { phase, versions } = this.#view;
    return (
      phase === 'scanning' ||
      phase === 'planning' ||
      phase === 'running' ||
      versions?.state === 'deleting'
    );
  }

  open(target: ProtectionTarget, match?: (keys: readonly NeededKey[]) => boolean): Promise<void> {
    return this.#core.open(target, match);
  }
  plan(operation: ProtectionOperation): Promise<void> {
    return this.#core.plan(operation);
  }
  start(): Promise<void> {
    return this.#core.start();
  }
  deletePreviousVersions(): Promise<void> {
    return this.#core.deletePreviousVersions();
  }
  pause(): void {
    this.#core.pause();
  }
  resume(): void {
    this.#core.resume();
  }
  cancel(): void {
    this.#core.cancel();
  }
  back(): void {
    this.#core.back();
  }
  close(): void {
    this.#core.close();
  }
}
