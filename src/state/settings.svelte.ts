/**
 * Settings' state beyond credentials: the choices offered for each model's default key (HSM
 * labels the signed-in user may use, KMS aliases with their state) and "Check connection"
 * (connection-checks.ts). One instance per view.
 */
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import { shownError, type ShownError } from './shown-error';
import { runConnectionChecks, type CheckResult } from './connection-checks';
import { checkSessionOf } from './connection-s3';
import type { AwsSession } from './credentials.svelte';
import { resolveKeyChoice, type VaultKeyNames } from './key-choice';
import { hsmKeyLabels, kmsAliasesWithState, type KmsAliasRow } from './keys-remote';
import type { Preferences } from './preferences.svelte';

type Task<T> =
  | { state: 'idle' }
  | { state: 'working' }
  | { state: 'done'; value: T }
  | { state: 'failed'; error: ShownError };

export class SettingsPanel {
  readonly #session: AwsSession;
  readonly #preferences: Preferences;
  readonly #vault: VaultKeyNames;
  #checks = $state<Task<CheckResult[]>>({ state: 'idle' });
  #hsmLabels = $state<Task<string[]>>({ state: 'idle' });
  #kmsAliases = $state<Task<KmsAliasRow[]>>({ state: 'idle' });

  constructor(session: AwsSession, preferences: Preferences, vault: VaultKeyNames) {
    this.#session = session;
    this.#preferences = preferences;
    this.#vault = vault;
  }

  get checks(): Task<CheckResult[]> {
    return this.#checks;
  }
  get hsmLabels(): Task<string[]> {
    return this.#hsmLabels;
  }
  get kmsAliases(): Task<KmsAliasRow[]> {
    return this.#kmsAliases;
  }

  /** Runs every connection check, on the keys uploads use ([Note: key choice]). Never throws. */
  async checkConnection(config: VeilConfig): Promise<void> {
    this.#checks = { state: 'working' };
    try {
      const rows = await runConnectionChecks({
        config,
        origin: location.origin,
        session: checkSessionOf(this.#session),
        keys: resolveKeyChoice(config, this.#preferences.values, this.#vault),
        fetch: fetch.bind(globalThis),
        randomId: () => crypto.randomUUID(),
      });
      this.#checks = { state: 'done', value: rows };
    } catch (error) {
      this.#checks = { state: 'failed', error: shownError(error) };
    }
  }

  /** Lists the HSM labels the signed-in user may use. Never throws. */
  async listHsmLabels(config: VeilConfig): Promise<void> {
    this.#hsmLabels = { state: 'working' };
    try {
      this.#hsmLabels = { state: 'done', value: await hsmKeyLabels(config, this.#session) };
    } catch (error) {
      this.#hsmLabels = { state: 'failed', error: shownError(error) };
    }
  }

  /** Lists the KMS aliases of the region with their keys' state. Never throws. */
  async listKmsAliases(config: VeilConfig): Promise<void> {
    this.#kmsAliases = { state: 'working' };
    try {
      const api = this.#session.clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION', config.region);
      const known = [config.kms?.keyId, this.#preferences.values.kmsKeyId];
      this.#kmsAliases = { state: 'done', value: (await kmsAliasesWithState(api, known)).rows };
    } catch (error) {
      this.#kmsAliases = { state: 'failed', error: shownError(error) };
    }
  }
}
