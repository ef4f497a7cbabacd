/**
 * Unfinished protection changes as Files uses them: unfinished-changes-core.ts over the app's
 * session and this browser's rewrap store (IndexedDB), with its state in $state.
 */
import type { VeilConfig } from '../../aws/config';
import { indexedDbRewrapStore } from '../../transfer/browser/idb-store';
import type { RewrapResult } from '../../transfer/rewrap-options';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import type { RewrapStore } from '../../transfer/rewrap-store';
import type { ShownError } from '../app/shown-error';
import { awsSession } from '../shared/credentials.svelte';
import { rootPrefix } from '../shared/object-paths';
import {
  UnfinishedChangesCore,
  emptyUnfinishedChangesState,
  type UnfinishedChange,
  type UnfinishedChangesState,
} from './unfinished-changes-core';

export type { UnfinishedChange } from './unfinished-changes-core';

let appStore: RewrapStore | undefined;

/** This browser's rewrap store, made once; undefined where IndexedDB is missing. */
export function appRewrapStore(): RewrapStore | undefined {
  if (appStore) return appStore;
  try {
    appStore = indexedDbRewrapStore();
  } catch {
    // No IndexedDB (private mode in some browsers): changes are not resumable.
    appStore = undefined;
  }
  return appStore;
}

/** The user's root prefix; undefined before credentials, or with no identity to scope by. */
function rootOf(config: VeilConfig): string | undefined {
  if (awsSession.status.state !== 'ready') return undefined;
  try {
    return rootPrefix(config, awsSession.identityId || undefined);
  } catch {
    return undefined;
  }
}

export class UnfinishedChanges {
  readonly #state = $state<UnfinishedChangesState>(emptyUnfinishedChangesState());
  readonly #core: UnfinishedChangesCore;

  constructor(config: VeilConfig, announce?: (text: string) => void) {
    this.#core = new UnfinishedChangesCore(
      {
        bucket: config.bucket,
        root: () => rootOf(config),
        store: appRewrapStore,
        rewrapS3: () => rewrapS3For(awsSession.clients().s3(), { blobBodies: true }),
        ...(announce ? { announce } : {}),
      },
      this.#state,
    );
  }

  get entries(): readonly UnfinishedChange[] {
    return this.#core.entries;
  }
  get dropped(): { name: string; error: ShownError } | undefined {
    return this.#core.dropped;
  }
  error(id: string): ShownError | undefined {
    return this.#core.error(id);
  }
  busy(id: string): boolean {
    return this.#core.busy(id);
  }
  load(): Promise<void> {
    return this.#core.load();
  }
  resume(id: string): Promise<RewrapResult | undefined> {
    return this.#core.resume(id);
  }
  discard(id: string): Promise<void> {
    return this.#core.discard(id);
  }
  dismissDropped(): void {
    this.#core.dismissDropped();
  }
}
