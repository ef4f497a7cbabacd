/**
 * Model C in Settings: check the KMS key uploads use (its ARN and state), list the aliases the
 * user could pick, and a round-trip self test (kms-self-test.ts: the upload's keyring and
 * encryption context, then the download's discovery keyring). Shows no key material.
 */
import type { AwsClients } from '../../aws/clients';
import { VeilError } from '../../core/errors';
import type { KmsAliasEntry, KmsKeyInfo } from '../../keyrings/kms-keys';
import { listKmsAliases } from '../../keyrings/kms-keys';
import type { KeyringSources } from '../shared/keyrings';
import { TaskState, type Task } from '../app/task.svelte';
import { describeChosenKmsKey, runKmsSelfTest, type SelfTestResult } from './kms-self-test';

export class KmsPanel {
  readonly #key = new TaskState<KmsKeyInfo>();
  readonly #aliases = new TaskState<KmsAliasEntry[]>();
  readonly #selfTest = new TaskState<SelfTestResult>();

  get key(): Task<KmsKeyInfo> {
    return this.#key.current;
  }
  get aliases(): Task<KmsAliasEntry[]> {
    return this.#aliases.current;
  }
  get selfTest(): Task<SelfTestResult> {
    return this.#selfTest.current;
  }

  /** Describes the KMS key uploads use ([Note: key choice]). Never throws. */
  async checkKey(sources: KeyringSources): Promise<void> {
    await this.#key.run(() => describeChosenKmsKey(sources));
  }

  /** Lists the aliases in the configured region. Never throws. */
  async listAliases(clients: () => AwsClients): Promise<void> {
    await this.#aliases.run(() => {
      const api = clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION');
      return listKmsAliases(api);
    });
  }

  /**
   * Round trip with the key and context uploads use; with `viaBucket`, the message also goes to
   * the bucket under `<prefix>.veil-selftest/` and is read back (then deleted). Never throws.
   */
  async runSelfTest(sources: KeyringSources, viaBucket: boolean): Promise<void> {
    await this.#selfTest.run(() => runKmsSelfTest(sources, viaBucket));
  }
}
