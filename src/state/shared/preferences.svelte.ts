/**
 * The user's defaults (preference-values.ts), kept in localStorage so they survive a reload.
 */
import { parsePreferences, type PreferenceValues } from './preference-values';

const STORAGE_KEY = 'veil:preferences';

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

export class Preferences {
  #values = $state<PreferenceValues>(parsePreferences(storage()?.getItem(STORAGE_KEY) ?? null));

  get values(): PreferenceValues {
    return this.#values;
  }

  /** Changes some preferences and stores them. */
  update(change: Partial<PreferenceValues>): void {
    this.#values = { ...this.#values, ...change };
    try {
      storage()?.setItem(STORAGE_KEY, JSON.stringify(this.#values));
    } catch {
      // Storage full or blocked: the choice still holds for this page.
    }
  }
}

/** The app's one set of preferences. */
export const preferences = new Preferences();
