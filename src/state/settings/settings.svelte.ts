/**
 * Settings' state beyond credentials: the choices offered for each model's default key (HSM
 * labels the signed-in user may use, KMS aliases with their state) and "Check connection"
 * (connection-checks.ts). One instance per view.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { TaskState, type Task } from '../app/task.svelte';
import { runConnectionChecks, type CheckResult } from './connection-checks';
import { checkSessionOf } from './connection-s3';
import type { AwsSession } from '../shared/credentials.svelte';
import { resolveKeyChoice, type VaultKeyNames } from '../shared/key-choice';
import { hsmKeyLabels, kmsAliasesWithState, type KmsAliasRow } from '../keys/remote-keys';
import type { Preferences } from '../shared/preferences.svelte';

export class SettingsPanel {
  readonly #session: AwsSession;
  readonly #preferences: Preferences;
  readonly #vault: VaultKeyNames;
  readonly #checks = new TaskState<CheckResult[]>();
  readonly #hsmLabels = new TaskState<string[]>();
  readonly #kmsAliases = new TaskState<KmsAliasRow[]>();

  constructor(session: AwsSession, preferences: Preferences, vault: VaultKeyNames) {
    this.#session = session;
    this.#preferences = preferences;
    this.#vault = vault;
  }

  get checks(): Task<CheckResult[]> {
    return this.#checks.current;
  }
  get hsmLabels(): Task<string[]> {
    return this.#hsmLabels.current;
  }
  get kmsAliases(): Task<KmsAliasRow[]> {
    return this.#kmsAliases.current;
  }

  /** Runs every connection check, on the keys uploads use ([Note: key choice]). Never throws. */
  async checkConnection(config: VeilConfig): Promise<void> {
    await this.#checks.run(() =>
      runConnectionChecks({
        config,
        origin: location.origin,
        session: checkSessionOf(this.#session),
        keys: resolveKeyChoice(config, this.#preferences.values, this.#vault),
        fetch: fetch.bind(globalThis),
        randomId: () => crypto.randomUUID(),
      }),
    );
  }

  /** Lists the HSM labels the signed-in user may use. Never throws. */
  async listHsmLabels(config: VeilConfig): Promise<void> {
    await this.#hsmLabels.run(() => hsmKeyLabels(config, this.#session));
  }

  /** Lists the KMS aliases of the region with their keys' state. Never throws. */
  async listKmsAliases(config: VeilConfig): Promise<void> {
    await this.#kmsAliases.run(async () => {
      const api = this.#session.clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION', config.region);
      const known = [config.kms?.keyId, this.#preferences.values.kmsKeyId];
      return (await kmsAliasesWithState(api, known)).rows;
    });
  }
}
