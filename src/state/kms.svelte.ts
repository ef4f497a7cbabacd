/**
 * Model C in Settings: check the KMS key uploads use (its ARN and state), list the aliases the
 * user could pick, and a round-trip self test (kms-self-test.ts: the upload's keyring and
 * encryption context, then the download's discovery keyring). Shows no key material.
 */
import type { AwsClients } from '../aws/clients';
import { VeilError } from '../core/errors';
import type { KmsAliasEntry, KmsKeyInfo } from '../keyrings/kms-keys';
import { listKmsAliases } from '../keyrings/kms-keys';
import type { KeyringSources } from './keyrings';
import { shownError } from './shown-error';
import { describeChosenKmsKey, runKmsSelfTest, type SelfTestResult } from './kms-self-test';

type Task<T> =
  | { state: 'idle' }
  | { state: 'working' }
  | { state: 'done'; value: T }
  | { state: 'failed'; code: string; message: string };

function failed(error: unknown): { state: 'failed'; code: string; message: string } {
  return { state: 'failed', ...shownError(error) };
}

export class KmsPanel {
  #key = $state<Task<KmsKeyInfo>>({ state: 'idle' });
  #aliases = $state<Task<KmsAliasEntry[]>>({ state: 'idle' });
  #selfTest = $state<Task<SelfTestResult>>({ state: 'idle' });

  get key(): Task<KmsKeyInfo> {
    return this.#key;
  }
  get aliases(): Task<KmsAliasEntry[]> {
    return this.#aliases;
  }
  get selfTest(): Task<SelfTestResult> {
    return this.#selfTest;
  }

  /** Describes the KMS key uploads use ([Note: key choice]). Never throws. */
  async checkKey(sources: KeyringSources): Promise<void> {
    this.#key = { state: 'working' };
    try {
      this.#key = { state: 'done', value: await describeChosenKmsKey(sources) };
    } catch (error) {
      this.#key = failed(error);
    }
  }

  /** Lists the aliases in the configured region. Never throws. */
  async listAliases(clients: () => AwsClients): Promise<void> {
    this.#aliases = { state: 'working' };
    try {
      const api = clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION');
      this.#aliases = { state: 'done', value: await listKmsAliases(api) };
    } catch (error) {
      this.#aliases = failed(error);
    }
  }

  /**
   * Round trip with the key and context uploads use; with `viaBucket`, the message also goes to
   * the bucket under `<prefix>.veil-selftest/` and is read back (then deleted). Never throws.
   */
  async runSelfTest(sources: KeyringSources, viaBucket: boolean): Promise<void> {
    this.#selfTest = { state: 'working' };
    try {
      this.#selfTest = { state: 'done', value: await runKmsSelfTest(sources, viaBucket) };
    } catch (error) {
      this.#selfTest = failed(error);
    }
  }
}
