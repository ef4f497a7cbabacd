/**
 * The Model C keyring against a fake KMS: the EDK format, which calls it makes (and with what),
 * key naming forms and the once-only alias resolution, the checks on KMS responses, guards, and
 * the mapping of every KMS error name to the catalogue (including states moto cannot produce).
 */
import { describe, expect, test } from 'vitest';
import { fromUtf8, utf8 } from '../../../src/core/bytes';
import { VeilError } from '../../../src/core/errors';
import type { EncryptedDataKey } from '../../../src/core/keyring';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import type { KmsApi } from '../../../src/keyrings/kms-api';
import { asKeyArn, parseKmsKeyName } from '../../../src/keyrings/kms-arn';
import { KMS_PROVIDER_ID, KmsKeyring } from '../../../src/keyrings/kms';
import { kmsError } from '../../../src/keyrings/kms-errors';
import { describeKmsKey, listKmsAliases } from '../../../src/keyrings/kms-keys';
import {
  ACCOUNT,
  ALIAS,
  FakeKms,
  KEY_ARN,
  KEY_ID,
  OTHER_KEY_ARN,
  REGION,
  awsError,
} from './kms-fake';

const EC = { 'veil-app': 'veil', 'veil-bucket': 'b' };
const SUITE = 0x0478 as const;

function ring(
  kms: FakeKms,
  options: { generatorKeyId?: string; keyIds?: string[]; discovery?: boolean } = {
    generatorKeyId: ALIAS,
  },
): KmsKeyring {
  return new KmsKeyring({ clients: () => kms, ...options });
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

describe('encrypt', () => {
  test('GenerateDataKey for the generator, Encrypt for each extra key; EDKs in the ESDK format', async () => {
    const kms = new FakeKms();
    const result = await ring(kms, { generatorKeyId: ALIAS, keyIds: [OTHER_KEY_ARN] }).onEncrypt({
      suiteId: SUITE,
      encryptionContext: EC,
    });
    expect(result.dataKey).toHaveLength(32);
    expect(result.encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
      KMS_PROVIDER_ID,
      KMS_PROVIDER_ID,
    ]);
    expect(result.encryptedDataKeys.map((edk) => fromUtf8(edk.providerInfo, 'x'))).toEqual([
      KEY_ARN,
      OTHER_KEY_ARN,
    ]);
    expect(kms.calls.map((call) => call.operation)).toEqual(['generateDataKey', 'encrypt']);
    expect(kms.calls[0]!.input).toEqual({ KeyId: ALIAS, NumberOfBytes: 32, EncryptionContext: EC });
    expect(kms.calls[1]!.input).toMatchObject({ KeyId: OTHER_KEY_ARN, EncryptionContext: EC });
  });

  test('with a data key from another keyring, every key (generator first) uses Encrypt', async () => {
    const kms = new FakeKms();
    const dataKey = new Uint8Array(32).fill(7);
    const result = await ring(kms, { generatorKeyId: KEY_ID, keyIds: [OTHER_KEY_ARN] }).onEncrypt({
      suiteId: SUITE,
      encryptionContext: EC,
      dataKey,
    });
    expect(result.dataKey).toBe(dataKey);
    expect(kms.calls.map((call) => [call.operation, call.input.KeyId])).toEqual([
      ['encrypt', KEY_ID],
      ['encrypt', OTHER_KEY_ARN],
    ]);
  });

  test('grant tokens go with every call', async () => {
    const kms = new FakeKms();
    const keyring = new KmsKeyring({
      clients: () => kms,
      generatorKeyId: ALIAS,
      grantTokens: ['token-1'],
    });
    const made = await keyring.onEncrypt({ suiteId: SUITE, encryptionContext: EC });
    await keyring.onDecrypt({
      suiteId: SUITE,
      encryptionContext: EC,
      encryptedDataKeys: made.encryptedDataKeys,
    });
    const kmsCalls = kms.calls.filter((call) => call.operation !== 'describeKey');
    expect(kmsCalls.map((call) => call.operation)).toEqual(['generateDataKey', 'decrypt']);
    for (const call of kmsCalls) expect(call.input.GrantTokens).toEqual(['token-1']);
  });

  test.each([
    ['a KeyId that is not a key ARN', { keyId: ALIAS }],
    ['a data key of 16 bytes', { plaintextBytes: 16 }],
    ['no ciphertext blob', { noBlob: true }],
  ])('refuses a response with %s (KMS_INVALID_RESPONSE)', async (_name, tamper) => {
    const kms = new FakeKms();
    Object.assign(kms.tamper, tamper);
    expect(await codeOf(ring(kms).onEncrypt({ suiteId: SUITE, encryptionContext: EC }))).toBe(
      'KMS_INVALID_RESPONSE',
    );
  });

  test('a discovery keyring cannot encrypt', async () => {
    expect(
      await codeOf(
        ring(new FakeKms(), { discovery: true }).onEncrypt({
          suiteId: SUITE,
          encryptionContext: EC,
        }),
      ),
    ).toBe('KEYRING_INVALID');
  });
});

describe('decrypt', () => {
  async function encrypted(
    kms: FakeKms,
    keyIds: string[] = [],
  ): Promise<{
    dataKey: Uint8Array;
    edks: readonly EncryptedDataKey[];
  }> {
    const made = await ring(kms, { generatorKeyId: ALIAS, keyIds }).onEncrypt({
      suiteId: SUITE,
      encryptionContext: EC,
    });
    return { dataKey: made.dataKey.slice(), edks: made.encryptedDataKeys };
  }

  test.each([ALIAS, `arn:aws:kms:${REGION}:${ACCOUNT}:${ALIAS}`, KEY_ID, KEY_ARN])(
    'a keyring configured as %s opens the EDK; Decrypt names the key ARN and the context',
    async (name) => {
      const kms = new FakeKms();
      const { dataKey, edks } = await encrypted(kms);
      kms.calls.length = 0;
      const opened = await ring(kms, { generatorKeyId: name }).onDecrypt({
        suiteId: SUITE,
        encryptionContext: EC,
        encryptedDataKeys: edks,
      });
      expect(opened).toEqual(dataKey);
      const decrypts = kms.calls.filter((call) => call.operation === 'decrypt');
      expect(decrypts).toHaveLength(1);
      expect(decrypts[0]!.input).toMatchObject({ KeyId: KEY_ARN, EncryptionContext: EC });
      expect(kms.count('describeKey')).toBe(name === KEY_ARN ? 0 : 1);
    },
  );

  test('an alias is resolved with DescribeKey once per keyring, not per message', async () => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    const keyring = ring(kms, { generatorKeyId: ALIAS });
    kms.calls.length = 0;
    for (let i = 0; i < 3; i++) {
      await keyring.onDecrypt({ suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks });
    }
    expect(kms.count('describeKey')).toBe(1);
    expect(kms.count('decrypt')).toBe(3);
  });

  test('EDKs of other providers, other keys or malformed ARNs are skipped (undefined)', async () => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    const foreign: EncryptedDataKey[] = [
      { providerId: 'veil', providerInfo: utf8('k'), ciphertext: new Uint8Array(48) },
      {
        providerId: KMS_PROVIDER_ID,
        providerInfo: utf8('not an arn'),
        ciphertext: new Uint8Array(9),
      },
      {
        providerId: KMS_PROVIDER_ID,
        providerInfo: Uint8Array.of(0xff, 0xfe),
        ciphertext: new Uint8Array(9),
      },
    ];
    kms.calls.length = 0;
    expect(
      await ring(kms, { generatorKeyId: OTHER_KEY_ARN }).onDecrypt({
        suiteId: SUITE,
        encryptionContext: EC,
        encryptedDataKeys: [...foreign, ...edks],
      }),
    ).toBeUndefined();
    expect(kms.count('decrypt')).toBe(0);
    const discovery = ring(kms, { discovery: true });
    expect(
      await discovery.onDecrypt({
        suiteId: SUITE,
        encryptionContext: EC,
        encryptedDataKeys: foreign,
      }),
    ).toBeUndefined();
  });

  test('discovery tries EDKs in order and returns the first that opens', async () => {
    const kms = new FakeKms();
    const { dataKey, edks } = await encrypted(kms, [OTHER_KEY_ARN]);
    kms.failures.decrypt = ['AccessDeniedException'];
    const opened = await ring(kms, { discovery: true }).onDecrypt({
      suiteId: SUITE,
      encryptionContext: EC,
      encryptedDataKeys: edks,
    });
    expect(opened).toEqual(dataKey);
    expect(kms.calls.filter((c) => c.operation === 'decrypt').map((c) => c.input.KeyId)).toEqual([
      KEY_ARN,
      OTHER_KEY_ARN,
    ]);
  });

  test('a discovery filter keeps out keys of other accounts', async () => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    const keyring = new KmsKeyring({
      clients: () => kms,
      discovery: { partition: 'aws', accountIds: ['999999999999'] },
    });
    expect(
      await keyring.onDecrypt({ suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks }),
    ).toBeUndefined();
  });

  test('a filter found later: asked once, only for a KMS EDK, and keeps other accounts out', async () => {
    const kms = new FakeKms();
    const { dataKey, edks } = await encrypted(kms);
    let asked = 0;
    const keyring = (accountIds: string[]) =>
      new KmsKeyring({
        clients: () => kms,
        discovery: true,
        discoveryFilter: () => {
          asked += 1;
          return Promise.resolve({ partition: 'aws', accountIds });
        },
      });
    const planted = keyring(['999999999999']);
    const rawEdk = {
      providerId: 'veil',
      providerInfo: new Uint8Array(4),
      ciphertext: new Uint8Array(60),
    };
    expect(
      await planted.onDecrypt({
        suiteId: SUITE,
        encryptionContext: EC,
        encryptedDataKeys: [rawEdk],
      }),
    ).toBeUndefined();
    expect(asked).toBe(0);
    const request = { suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks };
    expect(await planted.onDecrypt(request)).toBeUndefined();
    expect(await planted.onDecrypt(request)).toBeUndefined();
    expect(asked).toBe(1);
    expect(kms.count('decrypt')).toBe(0);
    expect(await keyring([ACCOUNT]).onDecrypt(request)).toEqual(dataKey);
  });

  test('a filter that cannot be found fails the decrypt, and is asked again next time', async () => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    let asked = 0;
    const keyring = new KmsKeyring({
      clients: () => kms,
      discovery: true,
      discoveryFilter: () => {
        asked += 1;
        return Promise.reject(new VeilError('CREDENTIALS_MISSING'));
      },
    });
    const request = { suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks };
    expect(await codeOf(keyring.onDecrypt(request))).toBe('CREDENTIALS_MISSING');
    expect(await codeOf(keyring.onDecrypt(request))).toBe('CREDENTIALS_MISSING');
    expect(asked).toBe(2);
    expect(kms.count('decrypt')).toBe(0);
    expect(
      () =>
        new KmsKeyring({
          clients: () => kms,
          generatorKeyId: ALIAS,
          discoveryFilter: () => Promise.reject(new Error('x')),
        }),
    ).toThrow(VeilError);
  });

  test('another context is KMS_CONTEXT_MISMATCH', async () => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    expect(
      await codeOf(
        ring(kms).onDecrypt({
          suiteId: SUITE,
          encryptionContext: { ...EC, 'veil-bucket': 'other' },
          encryptedDataKeys: edks,
        }),
      ),
    ).toBe('KMS_CONTEXT_MISMATCH');
  });

  test.each([
    ['a response for another key', { keyId: OTHER_KEY_ARN }],
    ['a data key of 31 bytes', { plaintextBytes: 31 }],
  ])('refuses %s (KMS_INVALID_RESPONSE)', async (_name, tamper) => {
    const kms = new FakeKms();
    const { edks } = await encrypted(kms);
    Object.assign(kms.tamper, tamper);
    expect(
      await codeOf(
        ring(kms, { generatorKeyId: KEY_ARN }).onDecrypt({
          suiteId: SUITE,
          encryptionContext: EC,
          encryptedDataKeys: edks,
        }),
      ),
    ).toBe('KMS_INVALID_RESPONSE');
  });

  test('an unusable answer for one EDK is kept and the next EDK tried, as the ESDK does', async () => {
    let lies = 1;
    class LyingOnce extends FakeKms {
      override async decrypt(input: Parameters<KmsApi['decrypt']>[0]) {
        const answer = await super.decrypt(input);
        if (lies-- > 0)
          return {
            ...answer,
            KeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${'f'.repeat(8)}-ffff-ffff-ffff-${'f'.repeat(12)}`,
          };
        return answer;
      }
    }
    const kms = new LyingOnce();
    const { dataKey, edks } = await encrypted(kms, [OTHER_KEY_ARN]);
    const request = { suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks };
    expect(await ring(kms, { discovery: true }).onDecrypt(request)).toEqual(dataKey);
    expect(kms.count('decrypt')).toBe(2);
    // When every EDK fails, the collected failure is thrown at the end.
    lies = 2;
    expect(await codeOf(ring(kms, { discovery: true }).onDecrypt(request))).toBe(
      'KMS_INVALID_RESPONSE',
    );
    expect(kms.count('decrypt')).toBe(4);
  });

  test('a failed alias lookup is reported and retried on the next message', async () => {
    const kms = new FakeKms();
    const { dataKey, edks } = await encrypted(kms);
    const keyring = ring(kms, { generatorKeyId: ALIAS });
    kms.failures.describeKey = ['ThrottlingException'];
    const request = { suiteId: SUITE, encryptionContext: EC, encryptedDataKeys: edks };
    expect(await codeOf(keyring.onDecrypt(request))).toBe('KMS_THROTTLED');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await keyring.onDecrypt(request)).toEqual(dataKey);
  });

  test('whole messages round-trip through the core', async () => {
    const kms = new FakeKms();
    const plaintext = crypto.getRandomValues(new Uint8Array(5000));
    const message = await encryptBytes(plaintext, {
      keyring: ring(kms),
      encryptionContext: EC,
      frameBytes: 1000,
    });
    expect(await decryptBytes(message, { keyring: ring(kms, { discovery: true }) })).toEqual(
      plaintext,
    );
  });
});

describe('errors', () => {
  test.each([
    ['AccessDeniedException', 'KMS_ACCESS_DENIED'],
    ['DisabledException', 'KMS_KEY_DISABLED'],
    ['KMSInvalidStateException', 'KMS_KEY_UNAVAILABLE'],
    ['KeyUnavailableException', 'KMS_KEY_UNAVAILABLE'],
    ['NotFoundException', 'KMS_KEY_NOT_FOUND'],
    ['InvalidArnException', 'KMS_KEY_INVALID'],
    ['InvalidKeyUsageException', 'KMS_KEY_INVALID'],
    ['InvalidCiphertextException', 'KMS_CONTEXT_MISMATCH'],
    ['IncorrectKeyException', 'KMS_WRONG_KEY'],
    ['ThrottlingException', 'KMS_THROTTLED'],
    ['LimitExceededException', 'KMS_FAILED'],
    ['ExpiredTokenException', 'CREDENTIALS_EXPIRED'],
    ['UnrecognizedClientException', 'CREDENTIALS_INVALID'],
    ['InvalidSignatureException', 'CREDENTIALS_INVALID'],
    ['CredentialsProviderError', 'CREDENTIALS_MISSING'],
    ['KMSInternalException', 'KMS_FAILED'],
    ['TypeError', 'KMS_FAILED'],
  ])('%s becomes %s, with the operation and key in the detail', (name, code) => {
    const error = kmsError(awsError(name), 'Decrypt', KEY_ARN);
    expect(error.code).toBe(code);
    expect(error.detail).toBe(`Decrypt ${KEY_ARN}: ${name}`);
  });

  test('a message from AWS never reaches the detail', () => {
    const error = new Error('secret-looking server text');
    error.name = 'AccessDeniedException';
    expect(kmsError(error, 'Decrypt', ALIAS).message).not.toContain('secret-looking');
  });

  test.each([
    ['PendingDeletion', 'KMS_KEY_PENDING_DELETION'],
    ['Disabled', 'KMS_KEY_DISABLED'],
    ['PendingImport', 'KMS_KEY_UNAVAILABLE'],
  ])('an invalid-state error on a key in state %s becomes %s', async (state, code) => {
    const kms = new FakeKms();
    kms.states.set(KEY_ARN, state);
    kms.failures.generateDataKey = ['KMSInvalidStateException'];
    expect(await codeOf(ring(kms).onEncrypt({ suiteId: SUITE, encryptionContext: EC }))).toBe(code);
  });

  test('errors on decrypt: the first KMS failure is thrown when no EDK opens', async () => {
    const kms = new FakeKms();
    const made = await ring(kms).onEncrypt({ suiteId: SUITE, encryptionContext: EC });
    kms.failures.decrypt = ['AccessDeniedException'];
    expect(
      await codeOf(
        ring(kms, { generatorKeyId: KEY_ARN }).onDecrypt({
          suiteId: SUITE,
          encryptionContext: EC,
          encryptedDataKeys: made.encryptedDataKeys,
        }),
      ),
    ).toBe('KMS_ACCESS_DENIED');
  });

  test('a generated data key is zeroed when a later Encrypt fails', async () => {
    const kms = new FakeKms();
    kms.failures.encrypt = ['AccessDeniedException'];
    const seen: Uint8Array[] = [];
    const spy: KmsApi = {
      ...kms,
      region: kms.region,
      generateDataKey: async (input) => kms.generateDataKey(input),
      encrypt: async (input) => {
        seen.push(input.Plaintext);
        return kms.encrypt(input);
      },
      decrypt: (input) => kms.decrypt(input),
      describeKey: (input) => kms.describeKey(input),
      listAliases: (input) => kms.listAliases(input),
    };
    const keyring = new KmsKeyring({
      clients: () => spy,
      generatorKeyId: ALIAS,
      keyIds: [OTHER_KEY_ARN],
    });
    expect(await codeOf(keyring.onEncrypt({ suiteId: SUITE, encryptionContext: EC }))).toBe(
      'KMS_ACCESS_DENIED',
    );
    expect(seen[0]!.every((byte) => byte === 0)).toBe(true);
  });

  test('a key ARN in a region the supplier cannot reach is KMS_WRONG_REGION', async () => {
    const kms = new FakeKms();
    const elsewhere = KEY_ARN.replace(REGION, 'ap-south-1');
    const pinned = new KmsKeyring({
      clients: (region) => (region === undefined || region === REGION ? kms : undefined),
      generatorKeyId: elsewhere,
    });
    expect(await codeOf(pinned.onEncrypt({ suiteId: SUITE, encryptionContext: EC }))).toBe(
      'KMS_WRONG_REGION',
    );
    const mismatched = new KmsKeyring({ clients: () => kms, generatorKeyId: elsewhere });
    expect(await codeOf(mismatched.onEncrypt({ suiteId: SUITE, encryptionContext: EC }))).toBe(
      'KMS_WRONG_REGION',
    );
    expect(kms.calls).toHaveLength(0);
  });
});

describe('guards', () => {
  const none = (): undefined => undefined;
  test.each<[string, unknown, string]>([
    ['no options', undefined, 'BAD_ARGUMENT'],
    ['no client supplier', { generatorKeyId: ALIAS }, 'BAD_ARGUMENT'],
    ['no key and no discovery', { clients: none }, 'KEYRING_INVALID'],
    [
      'keys with discovery',
      { clients: none, generatorKeyId: ALIAS, discovery: true },
      'KEYRING_INVALID',
    ],
    ['a malformed key name', { clients: none, generatorKeyId: 'my key' }, 'KMS_KEY_INVALID'],
    [
      'an empty discovery filter',
      { clients: none, discovery: { partition: 'aws', accountIds: [] } },
      'KEYRING_INVALID',
    ],
  ])('refuses %s', (_name, options, code) => {
    expect(() => new KmsKeyring(options as never)).toThrow(
      expect.objectContaining({ code }) as Error,
    );
  });

  test('refuses a caller data key that is not 32 bytes', async () => {
    expect(
      await codeOf(
        ring(new FakeKms()).onEncrypt({
          suiteId: SUITE,
          encryptionContext: EC,
          dataKey: new Uint8Array(16),
        }),
      ),
    ).toBe('KEYRING_INVALID');
  });
});

describe('key names', () => {
  test.each([
    [ALIAS, 'alias', undefined],
    [`arn:aws:kms:${REGION}:${ACCOUNT}:${ALIAS}`, 'alias-arn', REGION],
    [KEY_ID, 'key-id', undefined],
    ['mrk-1234abcd12ab34cd56ef1234567890ab', 'key-id', undefined],
    [KEY_ARN, 'key-arn', REGION],
    [`arn:aws-us-gov:kms:us-gov-west-1:${ACCOUNT}:key/${KEY_ID}`, 'key-arn', 'us-gov-west-1'],
  ])('%s is a %s', (text, kind, region) => {
    const name = parseKmsKeyName(text);
    expect(name.kind).toBe(kind);
    expect('region' in name ? name.region : undefined).toBe(region);
  });

  test.each([
    '',
    'veil',
    'alias/',
    'alias/a b',
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/`,
    'arn:aws:s3:::bucket',
  ])('refuses %j', (text) => {
    expect(() => parseKmsKeyName(text)).toThrow(
      expect.objectContaining({ code: 'KMS_KEY_INVALID' }) as Error,
    );
    expect(asKeyArn(text)).toBeUndefined();
  });
});

describe('key helpers', () => {
  test('lists aliases over pages, without AWS managed or unattached ones, sorted', async () => {
    const kms = new FakeKms();
    expect((await listKmsAliases(kms)).map((alias) => alias.aliasName)).toEqual([
      ALIAS,
      'alias/zeta',
    ]);
    expect(kms.count('listAliases')).toBe(2);
  });

  test('describes a key and names what stops its use', async () => {
    const kms = new FakeKms();
    expect(await describeKmsKey(kms, ALIAS)).toMatchObject({
      arn: KEY_ARN,
      state: 'Enabled',
      problem: undefined,
    });
    kms.states.set(KEY_ARN, 'PendingDeletion');
    expect((await describeKmsKey(kms, ALIAS)).problem?.code).toBe('KMS_KEY_PENDING_DELETION');
    kms.failures.describeKey = ['AccessDeniedException'];
    expect(await codeOf(describeKmsKey(kms, ALIAS))).toBe('KMS_ACCESS_DENIED');
  });
});
