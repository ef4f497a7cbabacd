/**
 * Model C in Settings: check the configured KMS key (its ARN and state), list the aliases the
 * user could pick, and a round-trip self test that encrypts random bytes with the core and the
 * KMS keyring (GenerateDataKey bound to Veil's encryption context), optionally stores the
 * message in the bucket and reads it back, and decrypts it with the read (discovery) keyring as
 * a download does (Decrypt). Shows no key material.
 */
import type { AwsClients } from '../aws/clients';
import type { VeilConfig } from '../aws/config';
import { modelCReadKeyring, modelCUploadContext, modelCWriteKeyring } from '../aws/model-c';
import { storeAndFetch } from '../aws/self-test-s3';
import { fromUtf8 } from '../core/bytes';
import { VeilError } from '../core/errors';
import { parseHeaderBytes } from '../core/message';
import { decryptBytes, encryptBytes } from '../core/one-shot';
import { credentialErrorCode, errorName } from '../keyrings/kms-errors';
import type { KmsAliasEntry, KmsKeyInfo } from '../keyrings/kms-keys';
import { describeKmsKey, listKmsAliases } from '../keyrings/kms-keys';

type Task<T> =
  | { state: 'idle' }
  | { state: 'working' }
  | { state: 'done'; value: T }
  | { state: 'failed'; code: string; message: string };

/** What the self test shows. */
export interface SelfTestResult {
  readonly plaintextBytes: number;
  readonly messageBytes: number;
  /** The EDK's provider id and info (the key ARN), as any ESDK would read them. */
  readonly providerId: string;
  readonly keyArn: string;
  readonly encryptionContext: Readonly<Record<string, string>>;
  /** The S3 key the message was stored under and read back from, if stored. */
  readonly objectKey: string | undefined;
  readonly elapsedMs: number;
}

const SELF_TEST_BYTES = 64 * 1024;

/** A self-test failure as shown: catalogue errors as they are, AWS errors mapped, never raw. */
function failed(error: unknown): { state: 'failed'; code: string; message: string } {
  let veil: VeilError;
  if (error instanceof VeilError) veil = error;
  else {
    const code = credentialErrorCode(error);
    veil = new VeilError(code ?? 'INTERNAL_ERROR', errorName(error) || undefined, { cause: error });
  }
  return { state: 'failed', code: veil.code, message: veil.message };
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

  /** Describes the configured key. Never throws. */
  async checkKey(config: VeilConfig, clients: () => AwsClients): Promise<void> {
    this.#key = { state: 'working' };
    try {
      const keyId = configuredKey(config);
      const api = clients().kmsApi();
      if (!api) throw new VeilError('KMS_WRONG_REGION', config.region);
      this.#key = { state: 'done', value: await describeKmsKey(api, keyId) };
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
   * Round trip with the configured key; with `viaBucket`, the message also goes to the bucket
   * under `<prefix>.veil-selftest/` and is read back (then deleted). Never throws.
   */
  async runSelfTest(
    config: VeilConfig,
    clients: () => AwsClients,
    identityId: string,
    viaBucket: boolean,
  ): Promise<void> {
    this.#selfTest = { state: 'working' };
    const started = performance.now();
    try {
      const aws = clients();
      const keyring = modelCWriteKeyring(aws, config);
      const encryptionContext = modelCUploadContext(config, identityId);
      const plaintext = crypto.getRandomValues(new Uint8Array(SELF_TEST_BYTES));
      let message = await encryptBytes(plaintext, { keyring, encryptionContext });
      const messageBytes = message.length;
      const edk = parseHeaderBytes(message).encryptedDataKeys[0];
      if (!edk) throw new VeilError('INTERNAL_ERROR', 'no EDK');
      let objectKey: string | undefined;
      if (viaBucket) {
        objectKey = `${config.prefix}.veil-selftest/${crypto.randomUUID()}.veil`;
        message = await storeAndFetch(aws, config.bucket, objectKey, message);
      }
      const reader = await modelCReadKeyring(aws, config);
      const opened = await decryptBytes(message, { keyring: reader });
      if (opened.length !== plaintext.length || !opened.every((byte, i) => byte === plaintext[i])) {
        throw new VeilError('INTERNAL_ERROR', 'self test: decrypted bytes differ');
      }
      this.#selfTest = {
        state: 'done',
        value: {
          plaintextBytes: plaintext.length,
          messageBytes,
          providerId: edk.providerId,
          keyArn: fromUtf8(edk.providerInfo, 'provider info'),
          encryptionContext,
          objectKey,
          elapsedMs: Math.round(performance.now() - started),
        },
      };
    } catch (error) {
      this.#selfTest = failed(error);
    }
  }
}

function configuredKey(config: VeilConfig): string {
  if (!config.kms) throw new VeilError('CONFIG_INVALID', 'kms.keyId is not set');
  return config.kms.keyId;
}
