/**
 * [Note: rewrap and KMS ReEncrypt] against moto's KMS and S3: an object moved from KMS key K1 to
 * K2 gets its new EDK from one ReEncrypt (no Encrypt), opens with K2 in Veil and in client-node
 * and no longer with K1; when ReEncrypt is refused the same change goes through Encrypt.
 *
 * What moto 5.2.1 does with ReEncrypt, pinned here: it implements it (Decrypt then Encrypt inside)
 * and checks the source encryption context, but ignores SourceKeyId (KMS answers
 * IncorrectKeyException for a ciphertext of another key) and evaluates no key policy, so
 * kms:ReEncryptFrom / kms:ReEncryptTo refusals are shown with a wrapper, not by moto.
 */
import { KmsKeyringNode } from '@aws-crypto/client-node';
import { CreateKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kmsApiFor } from '../../src/aws/clients';
import {
  decryptBytes,
  encryptBytes,
  isLocationEdk,
  keyEdks,
  parseHeaderBytes,
} from '../../src/core';
import type { KmsApi } from '../../src/keyrings/kms-api';
import { KmsKeyring } from '../../src/keyrings/kms';
import { kmsReEncrypter } from '../../src/keyrings/kms-reencrypt';
import { buildUploadContext } from '../../src/keyrings/upload-context';
import { objectParams } from '../../src/transfer/object-params';
import { rewrapObject } from '../../src/transfer/rewrap';
import { rewrapS3For } from '../../src/transfer/rewrap-s3';
import { patternBytes, peer } from '../unit/core/helpers';
import {
  FAST_RETRY,
  MIB,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  type RewrapMoto,
} from './rewrap-moto';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };

let stack: RewrapMoto;
let endpoint: string;
let kmsClient: KMSClient;
let k1: string;
let k2: string;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-rewrap-kms');
  endpoint = stack.url;
  kmsClient = new KMSClient({ region: REGION, endpoint, credentials: CREDENTIALS });
  const make = async () =>
    (await kmsClient.send(new CreateKeyCommand({ Description: 'veil rewrap test' }))).KeyMetadata!
      .Arn!;
  k1 = await make();
  k2 = await make();
});

afterAll(async () => {
  kmsClient?.destroy();
  await stack?.stop();
});

/** moto's KMS behind the keyring interface, counting the calls; `refuse` denies ReEncrypt. */
function countingKms(refuse = false) {
  const real = kmsApiFor(kmsClient, REGION);
  const counts = { decrypt: 0, encrypt: 0, reEncrypt: 0, generateDataKey: 0 };
  const api: KmsApi = {
    ...real,
    decrypt: (input) => (counts.decrypt++, real.decrypt(input)),
    encrypt: (input) => (counts.encrypt++, real.encrypt(input)),
    generateDataKey: (input) => (counts.generateDataKey++, real.generateDataKey(input)),
    reEncrypt: (input) => {
      counts.reEncrypt++;
      if (refuse) {
        return Promise.reject(Object.assign(new Error(''), { name: 'AccessDeniedException' }));
      }
      return real.reEncrypt!(input);
    },
  };
  return { api, counts };
}

const ring = (api: KmsApi, key: string) =>
  new KmsKeyring({ clients: () => api, generatorKeyId: key });
const CONTEXT = buildUploadContext({ bucket: 'veil-rewrap-kms', identityId: 'us-east-1:test' });

async function storeUnderK1(key: string, bytes: number) {
  const plaintext = patternBytes(bytes, 5);
  const message = await encryptBytes(plaintext, {
    keyring: ring(kmsApiFor(kmsClient, REGION), k1),
    encryptionContext: CONTEXT,
  });
  const params = objectParams(true, 'C', { type: 'SSE-S3' });
  await stack.client.send(
    new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: message, ...params }),
  );
  return { plaintext, message };
}

async function moveToK2(key: string, refuse: boolean) {
  const { api, counts } = countingKms(refuse);
  const result = await rewrapObject({
    s3: rewrapS3For(stack.client, { blobBodies: false }),
    bucket: stack.bucket,
    key,
    openWith: ring(api, k1),
    addWith: ring(api, k2),
    reEncrypt: kmsReEncrypter({ clients: () => api, destinationKeyId: k2, sourceKeyArns: [k1] }),
    remove: [{ keyName: k1 }],
    model: 'C',
    copyPartBytes: 5 * MIB,
    retry: FAST_RETRY,
  });
  return { result, counts };
}

describe('rewrap from one KMS key to another in moto', () => {
  test.each([
    ['a small', 1000],
    ['a multipart', 6 * MIB],
  ])('%s object gets its K2 EDK from ReEncrypt, no Encrypt', async (_label, bytes) => {
    const key = `kms/move-${bytes}.veil`;
    const { plaintext } = await storeUnderK1(key, bytes);
    const { result, counts } = await moveToK2(key, false);
    expect(result.addedBy).toBe('reEncrypt');
    expect(counts).toEqual({ decrypt: 2, encrypt: 0, reEncrypt: 1, generateDataKey: 0 });

    const stored = await readObject(stack, key);
    const header = parseHeaderBytes(stored);
    const keys = keyEdks(header.encryptedDataKeys);
    expect(keys.map((edk) => Buffer.from(edk.providerInfo).toString())).toEqual([k2]);
    // Stored before bindings, the object is bound to its key by the rewrap.
    expect(header.encryptedDataKeys.filter(isLocationEdk)).toHaveLength(1);
    const opened = await decryptBytes(stored, { keyring: ring(kmsApiFor(kmsClient, REGION), k2) });
    expect(sameBytes(opened, plaintext)).toBe(true);
    const viaPeer = await peer.decrypt(
      new KmsKeyringNode({
        generatorKeyId: k2,
        clientProvider: () => new KMS({ region: REGION, endpoint, credentials: CREDENTIALS }),
      }),
      stored,
    );
    expect(sameBytes(viaPeer.plaintext, plaintext)).toBe(true);
    const refused = await rejection(
      decryptBytes(stored, { keyring: ring(kmsApiFor(kmsClient, REGION), k1) }),
    );
    expect(refused.code).toBe('NO_MATCHING_EDK');
  });

  test('a refused ReEncrypt falls back to Decrypt then Encrypt', async () => {
    const key = 'kms/refused.veil';
    const { plaintext } = await storeUnderK1(key, 1000);
    const { result, counts } = await moveToK2(key, true);
    expect(result.addedBy).toBe('addWith');
    expect(counts.reEncrypt).toBe(1);
    expect(counts.encrypt).toBe(1);
    const stored = await readObject(stack, key);
    const opened = await decryptBytes(stored, { keyring: ring(kmsApiFor(kmsClient, REGION), k2) });
    expect(sameBytes(opened, plaintext)).toBe(true);
  });

  test('moto checks the source context of ReEncrypt but not SourceKeyId', async () => {
    const { message } = await storeUnderK1('kms/pin.veil', 10);
    const edk = parseHeaderBytes(message).encryptedDataKeys[0]!;
    const api = kmsApiFor(kmsClient, REGION);
    const input = {
      CiphertextBlob: edk.ciphertext,
      SourceKeyId: k1,
      SourceEncryptionContext: CONTEXT,
      DestinationKeyId: k2,
      DestinationEncryptionContext: CONTEXT,
    };
    await expect(
      api.reEncrypt!({ ...input, SourceEncryptionContext: { ...CONTEXT, 'veil-bucket': 'x' } }),
    ).rejects.toBeDefined();
    // KMS would answer IncorrectKeyException: the ciphertext is K1's, not K2's.
    const wrongSource = await api.reEncrypt!({ ...input, SourceKeyId: k2 });
    expect(wrongSource.SourceKeyId).toBe(k1);
  });
});
