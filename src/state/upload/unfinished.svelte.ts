/**
 * The Upload view's list of unfinished uploads, reactive: UnfinishedCore (unfinished-core.ts)
 * over the app's session, vault, resume store and Web Locks.
 */
import type { RecordSummary, ResumeBlock } from './records';
import type { RowError } from './errors';
import {
  UnfinishedCore,
  emptyUnfinishedState,
  type UnfinishedDeps,
  type UnfinishedHost,
  type UnfinishedState,
} from './unfinished-core';
import { holdUploadLock, withUploadLock } from './locks';
import { awsSession } from '../shared/credentials.svelte';
import { uploadStore } from '../shared/transfers';
import { vault } from '../keys/vault.svelte';

export type { UnfinishedHost } from './unfinished-core';

/** The app's objects, read when used (so the session's state is current and reactive). */
const appDeps: UnfinishedDeps = {
  store: uploadStore,
  session: {
    get ready() {
      return awsSession.status.state === 'ready';
    },
    get signedIn() {
      return awsSession.hasIdToken;
    },
    get identityId() {
      return awsSession.identityId;
    },
  },
  vaultKeyNames: () => vault.keys.map((key) => key.keyName),
  holdLock: holdUploadLock,
  withLock: withUploadLock,
};

export class UnfinishedUploads {
  readonly #state = $state<UnfinishedState>(emptyUnfinishedState());
  readonly #core: UnfinishedCore;

  constructor(host: UnfinishedHost, deps: UnfinishedDeps = appDeps) {
    this.#core = new UnfinishedCore(host, deps, this.#state);
  }

  get entries(): readonly RecordSummary[] {
    return this.#core.entries;
  }
  error(id: string): RowError | undefined {
    return this.#core.error(id);
  }
  busy(id: string): boolean {
    return this.#core.busy(id);
  }
  block(entry: RecordSummary): ResumeBlock | undefined {
    return this.#core.block(entry);
  }
  load(): Promise<void> {
    return this.#core.load();
  }
  resume(id: string, file: File): Promise<void> {
    return this.#core.resume(id, file);
  }
  discard(id: string): Promise<void> {
    return this.#core.discard(id);
  }
}
