/**
 * [Note: rewrap and KMS ReEncrypt] with a fake KMS: a change from KMS key K1 to K2 makes the new
 * EDK with one ReEncrypt (the source EDK and its context in, the same context as destination),
 * no Encrypt; the data key is still opened once for the header tag. A refusal (access denied, an
 * endpoint without ReEncrypt, a destination in another region) falls back to Encrypt through
 * addWith; other failures and malformed answers are errors; guards trip.
 */
import { describe, expect, test } from 'vitest';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { concatBytes } from '../../../src/core/bytes';
import { parseHeaderBytes } from '../../../src/core/message';
import { rewrapHeader } from '../../../src/core/rewrap-header';
import type { KmsApi } from '../../../src/keyrings/kms-api';
import { KmsKeyring } from '../../../src/keyrings/kms';
import { kmsReEncrypter } from '../../../src/keyrings/kms-reencrypt';
import { expectCode, patternBytes } from '../core/helpers';
import { ACCOUNT, FakeKms, KEY_ARN, OTHER_KEY_ARN, awsError } from './kms-fake';

const EC = { 'veil-app': 'veil', 'veil-bucket': 'b' };

type ReEncryptInput = Parameters<NonNullable<KmsApi['reEncrypt']>>[0];

/** The fake KMS with ReEncrypt: Decrypt then Encrypt inside, recorded as one ReEncrypt call. */
class ReEncryptingKms extends FakeKms {
  readonly reEncrypts: ReEncryptInput[] = [];
  readonly reEncryptFailures: string[] = [];
  tamperSource: string | undefined;

  async reEncrypt(input: ReEncryptInput) {
    this.reEncrypts.push(input);
    const failure = this.reEncryptFailures.shift();
    if (failure) throw awsError(failure);
    const opened = await this.decrypt({
      KeyId: input.SourceKeyId,
      CiphertextBlob: input.CiphertextBlob,
      EncryptionContext: input.SourceEncryptionContext,
    });
    const wrapped = await this.encrypt({
      KeyId: input.DestinationKeyId,
      Plaintext: opened.Plaintext,
      EncryptionContext: input.DestinationEncryptionContext,
    });
    opened.Plaintext?.fill(0);
    this.calls.splice(-2, 2); // KMS's own work, not calls the client made
    return {
      KeyId: wrapped.KeyId,
      SourceKeyId: this.tamperSource ?? opened.KeyId,
      CiphertextBlob: wrapped.CiphertextBlob,
    };
  }
}

const keyring = (kms: KmsApi, key: string) =>
  new KmsKeyring({ clients: () => kms, generatorKeyId: key });

/** A message under K1, and the K1 -> K2 change with a reEncrypter. */
async function moveToK2(kms: FakeKms, destination = OTHER_KEY_ARN) {
  const plaintext = patternBytes(3000, 3);
  const message = await encryptBytes(plaintext, {
    keyring: keyring(kms, KEY_ARN),
    encryptionContext: EC,
  });
  const header = parseHeaderBytes(message);
  kms.calls.length = 0;
  const reEncrypt = kmsReEncrypter({
    clients: () => kms,
    destinationKeyId: destination,
    sourceKeyArns: [KEY_ARN],
  });
  const rewrapped = await rewrapHeader(header, {
    openWith: keyring(kms, KEY_ARN),
    addWith: keyring(kms, OTHER_KEY_ARN),
    reEncrypt,
    remove: [{ keyName: KEY_ARN }],
  });
  const next = concatBytes(rewrapped.headerBytes, message.subarray(header.headerBytes));
  return { plaintext, rewrapped, next, reEncrypt };
}

describe('kmsReEncrypter in a rewrap', () => {
  test('K1 to K2 makes the new EDK with one ReEncrypt and no Encrypt', async () => {
    const kms = new ReEncryptingKms();
    const { plaintext, rewrapped, next, reEncrypt } = await moveToK2(kms);
    expect(rewrapped.addedBy).toBe('reEncrypt');
    expect(reEncrypt.lastSourceKeyArn).toBe(KEY_ARN);
    expect(kms.reEncrypts).toHaveLength(1);
    expect(kms.reEncrypts[0]).toMatchObject({
      SourceKeyId: KEY_ARN,
      DestinationKeyId: OTHER_KEY_ARN,
      SourceEncryptionContext: EC,
      DestinationEncryptionContext: EC,
    });
    expect(kms.count('encrypt')).toBe(0);
    // One Decrypt opens the data key for the header tag; one more proves K2 opens the result,
    // as no kept key does ([Note: rewrap lock-out check]).
    expect(kms.count('decrypt')).toBe(2);
    const opened = await decryptBytes(next, { keyring: keyring(kms, OTHER_KEY_ARN) });
    expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
    await expectCode(decryptBytes(next, { keyring: keyring(kms, KEY_ARN) }), 'NO_MATCHING_EDK');
  });

  test.each([
    ['ReEncrypt is denied', 'denied'],
    ['the endpoint has no ReEncrypt', 'absent'],
    ['the destination is in another region', 'region'],
  ])('falls back to Encrypt through addWith when %s', async (_label, why) => {
    const kms = why === 'absent' ? new FakeKms() : new ReEncryptingKms();
    if (kms instanceof ReEncryptingKms && why === 'denied') {
      kms.reEncryptFailures.push('AccessDeniedException');
    }
    const destination =
      why === 'region'
        ? `arn:aws:kms:us-west-2:${ACCOUNT}:key/${OTHER_KEY_ARN.split('/')[1]}`
        : OTHER_KEY_ARN;
    const { plaintext, rewrapped, next } = await moveToK2(kms, destination);
    expect(rewrapped.addedBy).toBe('addWith');
    expect(kms.count('encrypt')).toBe(1);
    const opened = await decryptBytes(next, { keyring: keyring(kms, OTHER_KEY_ARN) });
    expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
  });

  test('other failures and malformed answers fail the rewrap', async () => {
    const throttled = new ReEncryptingKms();
    throttled.reEncryptFailures.push('ThrottlingException');
    await expectCode(moveToK2(throttled), 'KMS_THROTTLED');
    const lying = new ReEncryptingKms();
    lying.tamperSource = OTHER_KEY_ARN;
    await expectCode(moveToK2(lying), 'KMS_INVALID_RESPONSE');
  });

  test('only the source keys named are used; none left means the fallback', async () => {
    const kms = new ReEncryptingKms();
    const message = await encryptBytes(patternBytes(10), {
      keyring: keyring(kms, KEY_ARN),
      encryptionContext: EC,
    });
    const reEncrypt = kmsReEncrypter({
      clients: () => kms,
      destinationKeyId: OTHER_KEY_ARN,
      sourceKeyArns: [OTHER_KEY_ARN],
    });
    const header = parseHeaderBytes(message);
    const made = await reEncrypt.reEncrypt({
      suiteId: header.suiteId,
      encryptionContext: header.encryptionContext,
      encryptedDataKeys: header.encryptedDataKeys,
    });
    expect(made).toBeUndefined();
    expect(kms.reEncrypts).toHaveLength(0);
  });

  test('guards its options', async () => {
    const kms = new ReEncryptingKms();
    await expectCode(
      Promise.resolve().then(() => kmsReEncrypter(undefined as never)),
      'BAD_ARGUMENT',
    );
    await expectCode(
      Promise.resolve().then(() =>
        kmsReEncrypter({ clients: () => kms, destinationKeyId: 'nope' }),
      ),
      'KMS_KEY_INVALID',
    );
  });
});
