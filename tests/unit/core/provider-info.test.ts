/**
 * Raw AES provider info read by one rule ([Note: raw AES provider info] in
 * src/core/provider-info.ts), the keys a header needs, and their guards. Provider info written by
 * Veil's keyring and by client-node's RawAesKeyringNode parses the same; HSM labels, KMS ARNs
 * and near misses do not parse.
 */
import { describe, expect, it, test } from 'vitest';
import {
  concatBytes,
  encryptBytes,
  keysNeeded,
  parseHeaderBytes,
  parseRawAesProviderInfo,
  serializeRawAesProviderInfo,
  u32,
  utf8,
  type MessageHeader,
} from '../../../src/core';
import {
  PEER_SUITE_0478,
  expectThrowsCode,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from './helpers';

const KEY = testKeyBytes(256, 4);
const IV = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('parseRawAesProviderInfo', () => {
  it('reads back what serializeRawAesProviderInfo writes', () => {
    const info = serializeRawAesProviderInfo(utf8('key-é'), IV);
    expect(info.length).toBe(utf8('key-é').length + 20);
    const parsed = parseRawAesProviderInfo(info);
    expect(parsed).toMatchObject({ keyName: 'key-é', tagBits: 128, ivBytes: 12 });
    expect(parsed?.keyNameBytes).toEqual(utf8('key-é'));
    expect(parsed?.iv).toEqual(IV);
  });

  it("reads the provider info of Veil's keyring and of client-node's", async () => {
    const plaintext = patternBytes(10);
    const ours = await encryptBytes(plaintext, { keyring: await ourKeyring(KEY, 'ours', 'ns') });
    const { result: theirs } = await peer.encrypt(peerKeyring(KEY, 'theirs', 'ns'), plaintext, {
      suiteId: PEER_SUITE_0478,
    });
    for (const [message, name] of [
      [ours, 'ours'],
      [theirs, 'theirs'],
    ] as const) {
      const [edk] = parseHeaderBytes(message).encryptedDataKeys;
      const parsed = parseRawAesProviderInfo(edk!.providerInfo);
      expect(parsed?.keyName).toBe(name);
      expect(parsed?.iv.length).toBe(12);
    }
  });

  test.each([
    ['a KMS key ARN', utf8(ARN)],
    ['an HSM key label', utf8('veil-hsm-key')],
    ['nothing', new Uint8Array(0)],
    ['19 bytes', new Uint8Array(19)],
    ['an empty key name', concatBytes(u32(128), u32(12), IV)],
    ['96 tag bits', concatBytes(utf8('k'), u32(96), u32(12), IV)],
    ['a 16-byte IV length', concatBytes(utf8('k'), u32(128), u32(16), IV)],
    ['a 16-byte IV', concatBytes(utf8('k'), u32(128), u32(12), IV, new Uint8Array(4))],
  ])('%s is not raw AES provider info', (_, info) => {
    expect(parseRawAesProviderInfo(info)).toBeUndefined();
  });

  it('guard: provider info that is not bytes', () => {
    expectThrowsCode(
      () => parseRawAesProviderInfo('info' as unknown as Uint8Array),
      'BAD_ARGUMENT',
    );
  });
});

describe('serializeRawAesProviderInfo guards', () => {
  test.each([
    [
      'key name not bytes',
      () => serializeRawAesProviderInfo('k' as unknown as Uint8Array, IV),
      'BAD_ARGUMENT',
    ],
    ['empty key name', () => serializeRawAesProviderInfo(new Uint8Array(0), IV), 'OUT_OF_RANGE'],
    [
      'provider info over 65,535 bytes',
      () => serializeRawAesProviderInfo(new Uint8Array(0xffff - 19), IV),
      'OUT_OF_RANGE',
    ],
    [
      'IV not bytes',
      () => serializeRawAesProviderInfo(utf8('k'), [] as unknown as Uint8Array),
      'BAD_ARGUMENT',
    ],
    [
      'an 11-byte IV',
      () => serializeRawAesProviderInfo(utf8('k'), new Uint8Array(11)),
      'OUT_OF_RANGE',
    ],
    [
      'a 16-byte IV',
      () => serializeRawAesProviderInfo(utf8('k'), new Uint8Array(16)),
      'OUT_OF_RANGE',
    ],
  ] as const)('%s', (_, run, code) => {
    expectThrowsCode(run, code);
  });

  it('takes the longest key name that fits', () => {
    expect(serializeRawAesProviderInfo(new Uint8Array(0xffff - 20), IV).length).toBe(0xffff);
  });
});

describe('keysNeeded', () => {
  it('names the raw AES key name, else the provider info as text', () => {
    const header = {
      encryptedDataKeys: [
        {
          providerId: 'veil',
          providerInfo: serializeRawAesProviderInfo(utf8('laptop'), IV),
          ciphertext: new Uint8Array(48),
        },
        { providerId: 'aws-kms', providerInfo: utf8(ARN), ciphertext: new Uint8Array(8) },
        { providerId: 'veil-hsm', providerInfo: utf8('team-key'), ciphertext: new Uint8Array(8) },
      ],
    } as unknown as MessageHeader;
    expect(keysNeeded(header)).toEqual([
      { providerId: 'veil', keyName: 'laptop' },
      { providerId: 'aws-kms', keyName: ARN },
      { providerId: 'veil-hsm', keyName: 'team-key' },
    ]);
  });

  it('guard: a header without encrypted data keys', () => {
    expectThrowsCode(() => keysNeeded(undefined as unknown as MessageHeader), 'BAD_ARGUMENT');
    expectThrowsCode(() => keysNeeded({} as MessageHeader), 'BAD_ARGUMENT');
  });
});
