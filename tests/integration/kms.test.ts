/**
 * Model C against moto's KMS: Veil's KMS keyring with the core's encrypt/decrypt, interop both
 * ways with the official @aws-crypto/client-node KmsKeyringNode, the encryption context bound by
 * KMS, key naming forms, and the catalogued errors moto can produce.
 *
 * Untested locally because moto does not enforce them: disabled keys and keys pending deletion
 * (moto still uses them; the mapping of DisabledException/KMSInvalidStateException is unit
 * tested with a fake), key policies, IAM policies and their kms:EncryptionContext conditions,
 * grant tokens, throttling (the SDK's adaptive retry is configured in src/aws/clients.ts), and
 * credentials validity (moto accepts any signature). moto answers a Decrypt with the wrong key
 * or a damaged blob with AccessDeniedException where KMS says IncorrectKeyException or
 * InvalidCiphertextException; the context mismatch moto reports like KMS.
 */
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  KmsKeyringNode,
  buildClient,
} from '@aws-crypto/client-node';
import { KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { AwsClients, KMS_MAX_ATTEMPTS } from '../../src/aws/clients';
import { modelCReadKeyring } from '../../src/aws/model-c';
import { createCliKmsKeyring } from '../../src/cli/kms';
import { fromUtf8 } from '../../src/core/bytes';
import { VeilError } from '../../src/core/errors';
import { parseHeaderBytes } from '../../src/core/message';
import { createMultiKeyring } from '../../src/core/multi-keyring';
import { decryptBytes, encryptBytes } from '../../src/core/one-shot';
import { KMS_PROVIDER_ID, KmsKeyring } from '../../src/keyrings/kms';
import { buildUploadContext } from '../../src/keyrings/upload-context';
import { describeKmsKey, listKmsAliases } from '../../src/keyrings/kms-keys';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { startProvisionedMoto, type MotoStack } from './kms-moto';

let stack: MotoStack;
let clients: AwsClients;
const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

beforeAll(async () => {
  stack = await startProvisionedMoto();
  clients = new AwsClients(stack.config, LOCAL_CREDENTIALS);
});

afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
});

function keyring(generatorKeyId: string, keyIds: string[] = []): KmsKeyring {
  return new KmsKeyring({ clients: clients.kmsSupplier(), generatorKeyId, keyIds });
}

function context(): Record<string, string> {
  return buildUploadContext({
    bucket: stack.config.bucket,
    identityId: 'us-east-1:00000000-1111-2222-3333-444444444444',
  });
}

function peerKeyring(generatorKeyId: string): KmsKeyringNode {
  return new KmsKeyringNode({
    generatorKeyId,
    clientProvider: () =>
      new KMS({ region: 'us-east-1', endpoint: stack.motoUrl, credentials: LOCAL_CREDENTIALS }),
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VeilError) return error.code;
    throw error;
  }
  throw new Error('expected a VeilError');
}

const plaintext = (bytes: number): Uint8Array =>
  Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + 3) & 0xff);

describe('Model C round trip (Veil only)', () => {
  test.each([0, 1, 4096, 200_000])('%i bytes, by alias; EDK in the ESDK KMS format', async (n) => {
    const input = plaintext(n);
    const message = await encryptBytes(input, {
      keyring: keyring(stack.aws.kmsAlias),
      encryptionContext: context(),
      frameBytes: 4096,
    });
    const header = parseHeaderBytes(message);
    expect(header.encryptedDataKeys).toHaveLength(1);
    const [edk] = header.encryptedDataKeys;
    expect(edk?.providerId).toBe(KMS_PROVIDER_ID);
    expect(fromUtf8(edk!.providerInfo, 'info')).toBe(stack.aws.kmsKeyArn);
    expect(edk!.ciphertext.length).toBeGreaterThan(32);
    expect({ ...header.encryptionContext }).toEqual(context());
    for (const reader of [
      keyring(stack.aws.kmsAlias),
      keyring(stack.aws.kmsKeyArn),
      keyring(stack.aws.kmsKeyArn.split('/')[1]!),
      keyring(stack.aws.kmsKeyArn.replace(/key\/.*$/, stack.aws.kmsAlias)),
      new KmsKeyring({ clients: clients.kmsSupplier(), discovery: true }),
      new KmsKeyring({
        clients: clients.kmsSupplier(),
        discovery: { partition: 'aws', accountIds: [stack.aws.kmsKeyArn.split(':')[4]!] },
      }),
    ]) {
      expect(await decryptBytes(message, { keyring: reader })).toEqual(input);
    }
  });

  test("the app's read keyring resolves a configured alias to its account with DescribeKey", async () => {
    const input = crypto.getRandomValues(new Uint8Array(2048));
    const message = await encryptBytes(input, {
      keyring: keyring(stack.aws.kmsAlias),
      encryptionContext: context(),
    });
    const config = { ...stack.config, kms: { keyId: stack.aws.kmsAlias } };
    const reader = await modelCReadKeyring(clients, config);
    expect(reader.discovery).toEqual({
      partition: 'aws',
      accountIds: [stack.aws.kmsKeyArn.split(':')[4]!],
    });
    expect(await decryptBytes(message, { keyring: reader })).toEqual(input);
  });

  test('a second KMS key and a raw AES recovery key each open the same message', async () => {
    const second = await clients
      .kms()!
      .send(new (await import('@aws-sdk/client-kms')).CreateKeyCommand({ Description: 'second' }));
    const secondArn = second.KeyMetadata!.Arn!;
    const recovery = await RawAesKeyring.fromBytes({
      keyNamespace: 'veil',
      keyName: 'recovery',
      keyBytes: crypto.getRandomValues(new Uint8Array(32)),
    });
    const input = plaintext(10_000);
    const message = await encryptBytes(input, {
      keyring: createMultiKeyring({
        generator: keyring(stack.aws.kmsAlias, [secondArn]),
        children: [recovery],
      }),
      encryptionContext: context(),
    });
    const edks = parseHeaderBytes(message).encryptedDataKeys;
    expect(edks.map((edk) => edk.providerId)).toEqual(['aws-kms', 'aws-kms', 'veil']);
    expect(fromUtf8(edks[1]!.providerInfo, 'info')).toBe(secondArn);
    expect(await decryptBytes(message, { keyring: keyring(secondArn) })).toEqual(input);
    expect(await decryptBytes(message, { keyring: recovery })).toEqual(input);
  });

  test('a keyring for another key finds no EDK of its own (NO_MATCHING_EDK)', async () => {
    const other = await clients
      .kms()!
      .send(new (await import('@aws-sdk/client-kms')).CreateKeyCommand({}));
    const message = await encryptBytes(plaintext(10), {
      keyring: keyring(stack.aws.kmsAlias),
      encryptionContext: context(),
    });
    expect(await codeOf(decryptBytes(message, { keyring: keyring(other.KeyMetadata!.Arn!) }))).toBe(
      'NO_MATCHING_EDK',
    );
  });
});

describe('interop with @aws-crypto/client-node KmsKeyringNode at moto', () => {
  test('client-node decrypts Veil Model C output', async () => {
    const input = plaintext(70_000);
    const message = await encryptBytes(input, {
      keyring: keyring(stack.aws.kmsAlias),
      encryptionContext: context(),
      frameBytes: 4096,
    });
    const opened = await peer.decrypt(peerKeyring(stack.aws.kmsKeyArn), message);
    expect(new Uint8Array(opened.plaintext)).toEqual(input);
    expect({ ...opened.messageHeader.encryptionContext }).toEqual(context());
    const edk = opened.messageHeader.encryptedDataKeys[0];
    expect(edk?.providerId).toBe('aws-kms');
    expect(edk?.providerInfo).toBe(stack.aws.kmsKeyArn);
  });

  test.each([
    ['0x0478', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY],
    [
      '0x0578',
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    ],
  ])('Veil decrypts client-node %s output made with the KMS keyring', async (_label, suiteId) => {
    const input = plaintext(9_999);
    const { result } = await peer.encrypt(peerKeyring(stack.aws.kmsKeyArn), input, {
      encryptionContext: { team: 'interop', 'veil-app': 'veil' },
      suiteId,
      frameLength: 1024,
    });
    const message = new Uint8Array(result);
    for (const reader of [
      keyring(stack.aws.kmsAlias),
      new KmsKeyring({ clients: clients.kmsSupplier(), discovery: true }),
    ]) {
      expect(await decryptBytes(message, { keyring: reader })).toEqual(input);
    }
  });
});

describe('the encryption context is bound by KMS', () => {
  test('a changed header context makes KMS refuse the data key (KMS_CONTEXT_MISMATCH)', async () => {
    const message = await encryptBytes(plaintext(100), {
      keyring: keyring(stack.aws.kmsAlias),
      encryptionContext: context(),
    });
    // Flip one letter of the value "veil" of veil-app in the stored context.
    const at = Buffer.from(message).indexOf(Buffer.from('veil-app\u0000\u0004veil'));
    expect(at).toBeGreaterThan(0);
    const altered = message.slice();
    altered[at + 'veil-app'.length + 2] = 'V'.charCodeAt(0);
    expect(await codeOf(decryptBytes(altered, { keyring: keyring(stack.aws.kmsAlias) }))).toBe(
      'KMS_CONTEXT_MISMATCH',
    );
  });

  test('the keyring asked with another context fails the same way', async () => {
    const ring = keyring(stack.aws.kmsAlias);
    const made = await ring.onEncrypt({ suiteId: 0x0478, encryptionContext: context() });
    await expect(
      ring.onDecrypt({
        suiteId: 0x0478,
        encryptionContext: { ...context(), 'veil-identity-id': 'us-east-1:someone-else' },
        encryptedDataKeys: made.encryptedDataKeys,
      }),
    ).rejects.toMatchObject({ code: 'KMS_CONTEXT_MISMATCH' });
    expect(
      await ring.onDecrypt({
        suiteId: 0x0478,
        encryptionContext: context(),
        encryptedDataKeys: made.encryptedDataKeys,
      }),
    ).toEqual(made.dataKey);
  });
});

describe('catalogued errors', () => {
  test('a missing alias or key is KMS_KEY_NOT_FOUND', async () => {
    const missingArn = stack.aws.kmsKeyArn.replace(
      /key\/.*$/,
      'key/11111111-2222-3333-4444-555555555555',
    );
    for (const name of ['alias/no-such-key', missingArn]) {
      expect(
        await codeOf(encryptBytes(plaintext(1), { keyring: keyring(name), encryptionContext: {} })),
      ).toBe('KMS_KEY_NOT_FOUND');
    }
  });

  test('a key ARN in another region than the pinned KMS endpoint is KMS_WRONG_REGION', async () => {
    const elsewhere = stack.aws.kmsKeyArn.replace(':us-east-1:', ':eu-west-1:');
    expect(
      await codeOf(
        encryptBytes(plaintext(1), { keyring: keyring(elsewhere), encryptionContext: {} }),
      ),
    ).toBe('KMS_WRONG_REGION');
  });

  test('no credentials at all is CREDENTIALS_MISSING (the SDK refuses before calling)', async () => {
    // What the SDK's providers throw when a chain finds nothing (CredentialsProviderError).
    const nothing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
      tryNextLink: false,
    });
    const noCredentials = new AwsClients(stack.config, () => Promise.reject(nothing));
    const ring = new KmsKeyring({
      clients: noCredentials.kmsSupplier(),
      generatorKeyId: stack.aws.kmsAlias,
    });
    expect(await codeOf(encryptBytes(plaintext(1), { keyring: ring }))).toBe('CREDENTIALS_MISSING');
    noCredentials.destroy();
  });
});

describe('throttling', () => {
  /**
   * A proxy in front of moto that answers the first `throttles` KMS calls with the error KMS
   * sends when its request quota is exceeded, then forwards. It tests the retry policy of the
   * client factory and the mapping of what gets through, not KMS's own quotas.
   */
  async function throttlingProxy(throttles: number) {
    const { createServer } = await import('node:http');
    let left = throttles;
    let seen = 0;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen += 1;
        if (left > 0) {
          left -= 1;
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        const headers = Object.fromEntries(
          Object.entries(request.headers).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        );
        void fetch(`${stack.motoUrl}${request.url ?? '/'}`, {
          method: request.method,
          headers,
          body: Buffer.concat(chunks),
        }).then(async (answer) => {
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          response.end(Buffer.from(await answer.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      seen: () => seen,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  test.each([
    [2, 'absorbed by the SDK retries'],
    [KMS_MAX_ATTEMPTS, 'KMS_THROTTLED once the retries are spent'],
  ])('%i throttled answers are %s', async (throttles, _outcome) => {
    const proxy = await throttlingProxy(throttles);
    const throttled = new AwsClients(
      { ...stack.config, endpoints: { ...stack.config.endpoints, kms: proxy.url } },
      LOCAL_CREDENTIALS,
    );
    try {
      const ring = new KmsKeyring({
        clients: throttled.kmsSupplier(),
        generatorKeyId: stack.aws.kmsKeyArn,
      });
      const attempt = encryptBytes(plaintext(10), { keyring: ring });
      if (throttles < KMS_MAX_ATTEMPTS) {
        await expect(attempt).resolves.toBeInstanceOf(Uint8Array);
        expect(proxy.seen()).toBe(throttles + 1);
      } else {
        expect(await codeOf(attempt)).toBe('KMS_THROTTLED');
        expect(proxy.seen()).toBe(KMS_MAX_ATTEMPTS);
      }
    } finally {
      throttled.destroy();
      await proxy.close();
    }
  });
});

describe('key helpers', () => {
  test('lists the demo alias and shows the key state', async () => {
    const api = clients.kmsApi()!;
    const aliases = await listKmsAliases(api);
    expect(aliases.map((alias) => alias.aliasName)).toContain(stack.aws.kmsAlias);
    expect(aliases.every((alias) => !alias.aliasName.startsWith('alias/aws/'))).toBe(true);
    const info = await describeKmsKey(api, stack.aws.kmsAlias);
    expect(info).toMatchObject({
      arn: stack.aws.kmsKeyArn,
      state: 'Enabled',
      keyUsage: 'ENCRYPT_DECRYPT',
      problem: undefined,
    });
    await expect(describeKmsKey(api, 'alias/no-such-key')).rejects.toMatchObject({
      code: 'KMS_KEY_NOT_FOUND',
    });
  });
});

describe('command-line keyring (src/cli/kms.ts)', () => {
  test('encrypts by alias with --endpoint-url and decrypts by discovery', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    try {
      const writer = await createCliKmsKeyring({
        kmsKeys: [stack.aws.kmsAlias],
        region: 'us-east-1',
        endpointUrl: stack.motoUrl,
      });
      const reader = await createCliKmsKeyring({ region: 'us-east-1', endpointUrl: stack.motoUrl });
      const input = plaintext(5000);
      const message = await encryptBytes(input, { keyring: writer.keyring });
      expect(await decryptBytes(message, { keyring: reader.keyring })).toEqual(input);
      writer.close();
      reader.close();
      await expect(
        createCliKmsKeyring({
          kmsKeys: ['alias/x'],
          endpointUrl: 'not a url',
          region: 'us-east-1',
        }),
      ).rejects.toMatchObject({ code: 'USAGE' });
    } finally {
      process.env = saved;
    }
  });
});
