/**
 * "Share link…" of several files as the views use it: bulk-share-core.ts over the single
 * dialog's app dependencies (appShareDeps in share.svelte.ts: the session's keys, the location's
 * binding rule, the presigner).
 */
import type { VeilConfig } from '../../aws/config';
import {
  BulkShareCore,
  copyAllText,
  emptyBulkShareView,
  type BulkFile,
  type BulkRequest,
  type BulkShareDeps,
  type BulkShareView,
} from './bulk-share-core';
import { appShareDeps } from './share.svelte';

export type { BulkItem, BulkShareView } from './bulk-share-core';

/** The bulk dialog's dependencies in the app. */
export function appBulkShareDeps(config: VeilConfig): BulkShareDeps {
  return appShareDeps(config);
}

/** The bulk dialog's state for the views. */
export class BulkShareState {
  readonly #view = $state<BulkShareView>(emptyBulkShareView());
  readonly #core: BulkShareCore;
  #includeNames = false;

  constructor(deps: BulkShareDeps) {
    this.#core = new BulkShareCore(deps, this.#view);
  }

  get view(): BulkShareView {
    return this.#view;
  }

  get busy(): boolean {
    return this.#core.busy;
  }

  get counts(): { made: number; failed: number; total: number } {
    return this.#core.counts;
  }

  open(files: readonly BulkFile[]): Promise<void> {
    return this.#core.open(files);
  }

  create(request: BulkRequest): Promise<void> {
    this.#includeNames = request.includeNames;
    return this.#core.create(request);
  }

  /** What "Copy all" copies (names only when they are in the links). */
  copyText(): string {
    return copyAllText(this.#view.items, this.#includeNames);
  }

  set expirySeconds(seconds: number) {
    this.#view.expirySeconds = seconds;
  }
}
