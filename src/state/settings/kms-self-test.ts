/**
 * Model C's checks in Settings, pure over the app's sources (KeyringSources) so they run in unit
 * tests with a fake KMS: "Check KMS key" describes the chosen key, and the self test encrypts
 * random bytes exactly as an upload would (writeKeys: the chosen key, the upload encryption
 * context), optionally stores the message in the bucket and reads it back, and decrypts it with
 * the read (discovery) keyring as a download does. Both use the key uploads use ([Note: key
 * choice]), never only config.json's. kms.svelte.ts holds their reactive state.
 */
import { modelCReadKeyring } from '../../aws/model-c';
import { storeAndFetch } from '../../aws/self-test-s3';
import { fromUtf8 } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import { parseHeaderBytes } from '../../core/message';
import { decryptBytes, encryptBytes } from '../../core/one-shot';
import { describeKmsKey, type KmsKeyInfo } from '../../keyrings/kms-keys';
import { keyChoiceOf, writeKeys, type KeyringSources } from '../shared/keyrings';

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

/** How much random plaintext the self test encrypts. */
export const SELF_TEST_BYTES = 64 * 1024;

/**
 * Describes the KMS key uploads would use (its ARN, state and problems).
 * @throws VeilError MODEL_NOT_CONFIGURED without a KMS key, KMS_WRONG_REGION without a KMS
 *   client for the region, and the KMS_* and CREDENTIALS_* codes of DescribeKey.
 */
export async function describeChosenKmsKey(sources: KeyringSources): Promise<KmsKeyInfo> {
  const keyId = keyChoiceOf(sources).kmsKeyId;
  if (!keyId) throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no kms.keyId');
  const api = sources.session.clients().kmsApi();
  if (!api) throw new VeilError('KMS_WRONG_REGION', sources.config.region);
  return describeKmsKey(api, keyId);
}

/**
 * Round trip with the key and context an upload would use; with `viaBucket`, the message also
 * goes to the bucket under `<prefix>.veil-selftest/` and is read back (then deleted).
 * @throws VeilError from writeKeys (MODEL_NOT_CONFIGURED, CREDENTIALS_MISSING), from KMS
 *   (KMS_*), from S3 (S3_*), or INTERNAL_ERROR when the bytes do not come back the same.
 */
export async function runKmsSelfTest(
  sources: KeyringSources,
  viaBucket: boolean,
  nowMs: () => number = () => performance.now(),
): Promise<SelfTestResult> {
  const started = nowMs();
  const { config } = sources;
  const { keyring, encryptionContext } = writeKeys('C', sources);
  const aws = sources.session.clients();
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
  return {
    plaintextBytes: plaintext.length,
    messageBytes,
    providerId: edk.providerId,
    keyArn: fromUtf8(edk.providerInfo, 'provider info'),
    encryptionContext,
    objectKey,
    elapsedMs: Math.round(nowMs() - started),
  };
}
