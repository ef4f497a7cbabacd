/**
 * "Rename…" and "Move…" as the views use them: move-core.ts over the app's session, keys and the
 * current location's names, with its view in $state. The listing goes through the app's S3
 * adapter (aws/bucket-s3.ts), the moves through the rewrap engine's S3 seam with Blob bodies
 * ([Note: Blob request bodies] in src/transfer/s3-api.ts), and objects open with the keyring the
 * Files downloads use ([Note: keyring choice] in src/state/shared/keyrings.ts).
 */
import { bucketS3For } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import { s3Failure } from '../../core';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { vault } from '../keys/vault.svelte';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import {
  EMPTY_MOVE_VIEW,
  MoveCore,
  listAll,
  type MoveDeps,
  type MoveKind,
  type MoveSource,
  type MoveView,
} from './move-core';

export type { MoveKind, MoveSource, MoveView } from './move-core';

/** The core's dependencies in the app. */
export function appMoveDeps(config: VeilConfig): MoveDeps {
  const s3 = () => awsSession.clients().s3();
  return {
    bucket: config.bucket,
    names: () => locationNames.open(config),
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
      return readKeyring({ config, session: awsSession, vault, preferences: preferences.values });
    },
  };
}

export class Move {
  #view = $state<MoveView>(EMPTY_MOVE_VIEW);
  readonly #core: MoveCore;

  constructor(deps: MoveDeps) {
    this.#core = new MoveCore(deps, (view) => {
      this.#view = view;
    });
  }

  get view(): MoveView {
    return this.#view;
  }
  get busy(): boolean {
    const phase = this.#view.phase;
    return phase === 'opening' || phase === 'planning' || phase === 'running';
  }
  get changed(): boolean {
    return this.#view.run?.items.some((item) => item.state === 'done') ?? false;
  }
  shown(key: string): string {
    // Read the view so a component showing this updates with it.
    void this.#view.phase;
    return this.#core.shown(key);
  }

  shownMove(key: string): string {
    void this.#view.phase;
    return this.#core.shownMove(key);
  }

  open(kind: MoveKind, source: MoveSource, currentPrefix: string): Promise<void> {
    return this.#core.open(kind, source, currentPrefix);
  }
  plan(typed: string): Promise<void> {
    return this.#core.plan(typed);
  }
  start(): Promise<void> {
    return this.#core.start();
  }
  edit(): void {
    this.#core.edit();
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
