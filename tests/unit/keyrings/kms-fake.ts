/**
 * A fake KMS behind the keyring's narrow interface, honest about what the keyring relies on:
 * data keys wrapped under a key ARN and bound to the encryption context (a blob opens only with
 * the same key and context), aliases resolving to keys, key states, and injectable failures
 * by error name as the SDK raises them.
 */
import type { KmsApi, KmsKeyMetadata } from '../../../src/keyrings/kms-api';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-central-1';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
export const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${OTHER_KEY_ID}`;
export const ALIAS = 'alias/veil';

/** An SDK-style service error: the code is the name. */
export function awsError(name: string): Error {
  const error = new Error('');
  error.name = name;
  return error;
}

type Operation = 'generateDataKey' | 'encrypt' | 'decrypt' | 'describeKey' | 'listAliases';

interface Wrapped {
  arn: string;
  context: string;
  plaintext: Uint8Array;
}

export class FakeKms implements KmsApi {
  readonly region: string;
  readonly calls: { operation: Operation; input: Record<string, unknown> }[] = [];
  /** Error names to throw, per operation, once each (a queue). */
  readonly failures: Partial<Record<Operation, string[]>> = {};
  readonly states = new Map<string, string>();
  /** Overrides of response fields, for malformed-response tests. */
  readonly tamper: {
    keyId?: string;
    plaintextBytes?: number;
    noBlob?: boolean;
  } = {};
  private readonly blobs = new Map<string, Wrapped>();
  private next = 0;

  constructor(region = REGION) {
    this.region = region;
  }

  private resolve(keyId: string): string | undefined {
    if (keyId === KEY_ARN || keyId === KEY_ID || keyId === ALIAS) return KEY_ARN;
    if (keyId === `arn:aws:kms:${REGION}:${ACCOUNT}:${ALIAS}`) return KEY_ARN;
    if (keyId === OTHER_KEY_ARN || keyId === OTHER_KEY_ID) return OTHER_KEY_ARN;
    return undefined;
  }

  private enter(operation: Operation, input: object): void {
    this.calls.push({ operation, input: { ...input } });
    const failure = this.failures[operation]?.shift();
    if (failure) throw awsError(failure);
  }

  private wrap(arn: string, context: Record<string, string>, plaintext: Uint8Array): Uint8Array {
    const id = `blob-${this.next++}`;
    this.blobs.set(id, {
      arn,
      context: JSON.stringify(sorted(context)),
      plaintext: plaintext.slice(),
    });
    return new TextEncoder().encode(id);
  }

  generateDataKey(input: Parameters<KmsApi['generateDataKey']>[0]) {
    this.enter('generateDataKey', input);
    const arn = this.resolve(input.KeyId);
    if (!arn) return Promise.reject(awsError('NotFoundException'));
    const plaintext = crypto.getRandomValues(
      new Uint8Array(this.tamper.plaintextBytes ?? input.NumberOfBytes),
    );
    const blob = this.wrap(arn, input.EncryptionContext, plaintext);
    return Promise.resolve({
      KeyId: this.tamper.keyId ?? arn,
      Plaintext: plaintext,
      ...(this.tamper.noBlob ? {} : { CiphertextBlob: blob }),
    });
  }

  encrypt(input: Parameters<KmsApi['encrypt']>[0]) {
    this.enter('encrypt', input);
    const arn = this.resolve(input.KeyId);
    if (!arn) return Promise.reject(awsError('NotFoundException'));
    return Promise.resolve({
      KeyId: this.tamper.keyId ?? arn,
      CiphertextBlob: this.wrap(arn, input.EncryptionContext, input.Plaintext),
    });
  }

  decrypt(input: Parameters<KmsApi['decrypt']>[0]) {
    this.enter('decrypt', input);
    const wrapped = this.blobs.get(new TextDecoder().decode(input.CiphertextBlob));
    if (!wrapped || wrapped.context !== JSON.stringify(sorted(input.EncryptionContext))) {
      return Promise.reject(awsError('InvalidCiphertextException'));
    }
    if (this.resolve(input.KeyId) !== wrapped.arn) {
      return Promise.reject(awsError('IncorrectKeyException'));
    }
    const plaintext = this.tamper.plaintextBytes
      ? new Uint8Array(this.tamper.plaintextBytes)
      : wrapped.plaintext.slice();
    return Promise.resolve({ KeyId: this.tamper.keyId ?? wrapped.arn, Plaintext: plaintext });
  }

  describeKey(input: { KeyId: string }) {
    this.enter('describeKey', input);
    const arn = this.resolve(input.KeyId);
    if (!arn) return Promise.reject(awsError('NotFoundException'));
    const metadata: KmsKeyMetadata = {
      Arn: arn,
      KeyId: arn.split('/')[1]!,
      KeyState: this.states.get(arn) ?? 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyManager: 'CUSTOMER',
    };
    return Promise.resolve({ KeyMetadata: metadata });
  }

  listAliases(input: { Marker?: string; Limit?: number }) {
    this.enter('listAliases', input);
    if (!input.Marker) {
      return Promise.resolve({
        Aliases: [
          {
            AliasName: 'alias/zeta',
            AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/zeta`,
            TargetKeyId: OTHER_KEY_ID,
          },
          {
            AliasName: 'alias/aws/s3',
            AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/s3`,
            TargetKeyId: 'x',
          },
          { AliasName: 'alias/unused', AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/unused` },
        ],
        Truncated: true,
        NextMarker: 'page-2',
      });
    }
    return Promise.resolve({
      Aliases: [
        {
          AliasName: ALIAS,
          AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:${ALIAS}`,
          TargetKeyId: KEY_ID,
        },
      ],
      Truncated: false,
    });
  }

  count(operation: Operation): number {
    return this.calls.filter((call) => call.operation === operation).length;
  }
}

function sorted(context: Record<string, string>): [string, string][] {
  return Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
