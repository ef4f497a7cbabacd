/**
 * "Rotate names key…" as Settings uses it: names-rotation-core.ts over the app's session, keys
 * and current location, with its view in $state. The listing goes through the app's S3 adapter
 * (aws/bucket-s3.ts), the names keys through namesKeyStorageFor, the renames through the rewrap
 * engine's S3 seam with Blob bodies; objects and names keys open with the keyring the Files
 * downloads use, and the new names key is wrapped as an upload would wrap it (the model and key
 * chosen in Settings: [Note: keyring choice] in src/state/shared/keyrings.ts). Once finished, the
 * location's names are forgotten and opened again (their cipher was the old key's).
 */
import { bucketS3For, namesKeyStorageFor } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import { s3Failure } from '../../core';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { listAll } from '../files/move-core';
import { vault } from '../keys/vault.svelte';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring, writeKeys, type KeyringSources } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import {
  EMPTY_ROTATION_VIEW,
  NamesRotationCore,
  type NamesRotationDeps,
  type RotationView,
} from './names-rotation-core';

export type { RotationView } from './names-rotation-core';

/** The core's dependencies in the app. */
export function appNamesRotationDeps(config: VeilConfig): NamesRotationDeps {
  const s3 = () => awsSession.clients().s3();
  const sources = (): KeyringSources => ({
    config,
    session: awsSession,
    vault,
    preferences: preferences.values,
  });
  return {
    location: () => {
      const { bucket, root } = locationNames.place(config);
      return { bucket, root };
    },
    storage: () => namesKeyStorageFor(s3(), config.bucket),
    list: async (prefix, signal) => {
      try {
        return await listAll(bucketS3For(s3(), config.bucket), prefix, signal);
      } catch (error) {
        throw s3Failure(error, { task: 'list', operation: 'ListObjectsV2' });
      }
    },
    rewrapS3: () => rewrapS3For(s3(), { blobBodies: true }),
    readKeyring: async () => {
      await vault.load();
      return readKeyring(sources());
    },
    // The upload's keyring and context (buildUploadContext) for the model chosen in Settings.
    writeKeys: () => writeKeys(preferences.values.model, sources()),
    reopen: () => {
      locationNames.reset();
      try {
        void locationNames.open(config);
      } catch {
        // No identity yet: the next view that needs the names opens them.
      }
    },
  };
}

export class NamesRotation {
  #view = $state<RotationView>(EMPTY_ROTATION_VIEW);
  readonly #core: NamesRotationCore;

  constructor(deps: NamesRotationDeps) {
    this.#core = new NamesRotationCore(deps, (view) => {
      this.#view = view;
    });
  }

  get view(): RotationView {
    return this.#view;
  }
  get running(): boolean {
    return this.#view.phase === 'running' || this.#view.phase === 'finishing';
  }
  shown(key: string): string {
    // Read the view so a component showing this updates with it.
    void this.#view.plan;
    return this.#core.shown(key);
  }

  open(): Promise<void> {
    return this.#core.open();
  }
  plan(): Promise<void> {
    return this.#core.plan();
  }
  start(): Promise<void> {
    return this.#core.start();
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
  close(): void {
    this.#core.close();
  }
}
