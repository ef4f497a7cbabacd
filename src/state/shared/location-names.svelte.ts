/**
 * The names of the app's current location, reactive: LocationNamesCore (location-names-core.ts,
 * [Note: names of the current location]) over the app's session, vault and preferences. One
 * instance for the page (`locationNames`), shared by Files, Upload, Downloads and Settings, so
 * the names key is read once. The names are forgotten when the vault locks and asked again after
 * an unlock (followVaultLock).
 */
import { namesKeyStorageFor } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import type { BindingRule } from '../../core';
import type { LocationNames } from '../../transfer/location-names';
import { vault } from '../keys/vault.svelte';
import { awsSession } from './credentials.svelte';
import { readKeyring } from './keyrings';
import {
  followVaultLock,
  LocationNamesCore,
  locationId,
  namesPlace,
  type LocationNamesView,
  type NamesPlace,
  type NamesStatus,
  type NamesWriter,
} from './location-names-core';
import { rootPrefix } from './object-paths';
import { preferences } from './preferences.svelte';

export type { NamesStatus, NamesWriter } from './location-names-core';

export class CurrentLocationNames {
  readonly #view = $state<LocationNamesView>({ status: { state: 'unknown' } });
  readonly #core: LocationNamesCore;
  #config: VeilConfig | undefined;

  constructor() {
    this.#core = new LocationNamesCore(
      {
        storage: (bucket) => namesKeyStorageFor(awsSession.clients().s3(), bucket),
        readKeyring: async () => {
          const config = this.#config;
          if (!config) return undefined;
          await vault.load();
          return readKeyring({
            config,
            session: awsSession,
            vault,
            preferences: preferences.values,
          });
        },
      },
      this.#view,
    );
    followVaultLock(this.#core, vault);
  }

  get status(): NamesStatus {
    return this.#view.status;
  }

  /**
   * The current location of `config` and its setting.
   * @throws VeilError CREDENTIALS_MISSING for a per-identity prefix before the identity is known.
   */
  place(config: VeilConfig): NamesPlace {
    const root = rootPrefix(config, awsSession.identityId || undefined);
    return namesPlace(config, root, preferences.values.privateNames);
  }

  /**
   * The current location's names, opened once (asks the bucket; never throws for a names key
   * that does not open).
   * @throws VeilError CREDENTIALS_MISSING as place.
   */
  open(config: VeilConfig): Promise<LocationNames> {
    this.#config = config;
    return this.#core.open(this.place(config));
  }

  /**
   * How downloads and changes check an object's binding here ([Note: location binding]): the
   * opened names' rule, and 'required' (strict) where the names cannot be learned, for example
   * without credentials or when the names key does not open. Never throws.
   */
  bindingRule(config: VeilConfig): Promise<BindingRule> {
    return Promise.resolve(config)
      .then((opened) => this.open(opened))
      .then(
        (names) => names.bindingRule,
        () => 'required' as const,
      );
  }

  /** See LocationNamesCore.forUpload. */
  forUpload(config: VeilConfig, writer: NamesWriter | undefined): Promise<LocationNames> {
    this.#config = config;
    return this.#core.forUpload(this.place(config), writer);
  }

  /** The clear path of a stored key of this location, or the stored key (LocationNamesCore). */
  shownPath(objectKey: string): string {
    // Read the status so a view showing this updates once the names are opened.
    void this.#view.status;
    return this.#core.shownPath(objectKey);
  }

  /** Asks the bucket again on the next open (new credentials or keys, Try again). */
  reset(): void {
    this.#core.reset();
  }

  /** True when this browser turned private names on for the current location. */
  turnedOn(config: VeilConfig): boolean {
    try {
      return preferences.values.privateNames.includes(locationId(this.place(config)));
    } catch {
      return false;
    }
  }

  /**
   * Turns private names on for the current location in this browser: the names key is created
   * on the next upload. There is no way back once the bucket has a names key (the names in it
   * are encrypted), so there is no "off" here.
   * @throws VeilError CREDENTIALS_MISSING as place.
   */
  turnOn(config: VeilConfig): void {
    const id = locationId(this.place(config));
    const list = preferences.values.privateNames;
    if (!list.includes(id)) preferences.update({ privateNames: [...list, id] });
    this.#core.reset();
  }

  /** Undoes turnOn while no names key exists yet (nothing was encrypted under it). */
  turnOff(config: VeilConfig): void {
    if (this.#view.status.state === 'private' || this.#view.status.state === 'unreadable') return;
    const id = locationId(this.place(config));
    preferences.update({
      privateNames: preferences.values.privateNames.filter((other) => other !== id),
    });
    this.#core.reset();
  }
}

/** The app's one view of the current location's names. */
export const locationNames = new CurrentLocationNames();
