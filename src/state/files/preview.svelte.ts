/**
 * The preview dialog's state: preview-core.ts's logic wired to the app's seams (the same S3
 * adapter, worker pool, keys and binding rule as the downloads, downloads.svelte.ts), with what
 * the dialog shows in `$state`. One preview at a time.
 */
import type { VeilConfig } from '../../aws/config';
import { downloadS3For } from '../../transfer/download-s3';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import { workerPool } from '../shared/transfers';
import { vault } from '../keys/vault.svelte';
import { withPrompted } from './download-keys';
import { downloads } from './downloads.svelte';
import {
  PreviewCore,
  type PreviewDeps,
  type PreviewObject,
  type PreviewView,
} from './preview-core';

/** The app's objects as a preview needs them. */
const appDeps: PreviewDeps = {
  s3: () => downloadS3For(awsSession.clients().s3()),
  decryptor: workerPool,
  readKeyring: async (config) => {
    await vault.load();
    return withPrompted(
      downloads.promptedKeyrings,
      await readKeyring({ config, session: awsSession, vault, preferences: preferences.values }),
    );
  },
  bindingRule: (config) => locationNames.bindingRule(config),
  createUrl: (blob) => URL.createObjectURL(blob),
  revokeUrl: (url) => URL.revokeObjectURL(url),
};

/** The preview, as the dialog shows it. */
export class Preview {
  #view = $state<PreviewView>({ state: 'idle' });
  readonly #core: PreviewCore;

  constructor(deps: PreviewDeps = appDeps) {
    this.#core = new PreviewCore(deps, (view) => {
      this.#view = view;
    });
  }

  get view(): PreviewView {
    return this.#view;
  }

  /** Opens a preview of `object` (its stored key and clear name). */
  open(config: VeilConfig, object: PreviewObject): Promise<void> {
    return this.#core.open(config, object);
  }

  /** Stops any read and frees the shown Blob. */
  close(): void {
    this.#core.close();
  }
}

export const preview = new Preview();
