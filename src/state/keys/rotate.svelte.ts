/**
 * "Rotate this key" as the Keys view uses it: rotate-core.ts over the app's Change protection
 * state (protection-change.svelte.ts), rooted at the user's prefix. One per dialog.
 */
import type { VeilConfig } from '../../aws/config';
import { shownError, type ShownError } from '../app/shown-error';
import { awsSession } from '../shared/credentials.svelte';
import { rootPrefix } from '../shared/object-paths';
import {
  ProtectionChange,
  appProtectionDeps,
  type ProtectionView,
} from '../files/protection-change.svelte';
import { canRetire, scanForRotation, type RotatedKey } from './rotate-core';

export class KeyRotation {
  readonly #config: VeilConfig;
  readonly change: ProtectionChange;
  #error = $state<ShownError | undefined>(undefined);

  constructor(config: VeilConfig, change = new ProtectionChange(appProtectionDeps(config))) {
    this.#config = config;
    this.change = change;
  }

  get view(): ProtectionView {
    return this.change.view;
  }
  /** A failure before the scan could start (no credentials for a per-identity prefix). */
  get error(): ShownError | undefined {
    return this.#error ?? this.change.view.error;
  }
  get canRetire(): boolean {
    return canRetire(this.change.view);
  }

  /** Reads the headers under the user's prefix and plans old → new. Never throws. */
  async scan(old: RotatedKey, newKeyName: string): Promise<void> {
    this.#error = undefined;
    let root: string;
    try {
      root = rootPrefix(this.#config, awsSession.identityId || undefined);
    } catch (error) {
      this.#error = shownError(error);
      return;
    }
    await scanForRotation(this.change, root, old, newKeyName);
  }

  close(): void {
    this.#error = undefined;
    this.change.close();
  }
}
