/**
 * The size padding setting of the app's current location, reactive: padding-setting.ts over the
 * app's preferences and session. Settings turns it on and off; Upload reads the scheme.
 */
import type { VeilConfig } from '../../aws/config';
import type { PaddingScheme } from '../../core';
import { awsSession } from './credentials.svelte';
import { rootPrefix } from './object-paths';
import { paddingState, withLocation, type PaddingState } from './padding-setting';
import { preferences } from './preferences.svelte';

/** The current location's root, or undefined before a per-identity prefix is known. */
function currentRoot(config: VeilConfig): string | undefined {
  try {
    return rootPrefix(config, awsSession.identityId || undefined);
  } catch {
    return undefined;
  }
}

export class PaddingSetting {
  /**
   * The setting of the current location; config.json's alone before the location is known.
   */
  state(config: VeilConfig): PaddingState {
    const root = currentRoot(config);
    return paddingState(config, root ?? '', root === undefined ? [] : preferences.values.padding);
  }

  /** The scheme new files of the current location are padded with, or undefined. */
  scheme(config: VeilConfig): PaddingScheme | undefined {
    return this.state(config).scheme;
  }

  /** Turns padding on or off for the current location in this browser. */
  set(config: VeilConfig, on: boolean): void {
    const root = currentRoot(config);
    if (root === undefined) return;
    preferences.update({ padding: withLocation(preferences.values.padding, config, root, on) });
  }
}

/** The app's one padding setting. */
export const paddingSetting = new PaddingSetting();
