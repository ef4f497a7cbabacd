import { describe, expect, test } from 'vitest';
import { describeHeader } from '../../../../src/core/header-view';
import type { EncryptedDataKey, Keyring } from '../../../../src/core/keyring';
import { createMultiKeyring } from '../../../../src/core/multi-keyring';
import { parseHeaderBytes } from '../../../../src/core/message';
import { encryptBytes } from '../../../../src/core/one-shot';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import {
  keyAdvice,
  keyFileMatches,
  offersKeyFile,
} from '../../../../src/state/files/download-keys';
import { inspectView, objectDetails } from '../../../../src/state/files/details';
import { keysNeeded } from '../../../../src/transfer/download';

const keyBytes = () => new Uint8Array(32).fill(9);

/** The characters of `text` that act on a terminal or reorder text (a newline is JSON layout). */
const unsafeChars = (text: string): string[] =>
  [...text].filter((char) => {
    const code = char.codePointAt(0) ?? 0;
    return (
      (code < 0x20 && code !== 0x0a) ||
      (code >= 0x7f && code <= 0x9f) ||
      [0x061c, 0x200e, 0x200f].includes(code) ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });

/** A keyring that only adds one fixed EDK (a stand-in for the HSM and KMS providers' copies). */
function fixedEdk(edk: EncryptedDataKey): Keyring {
  return {
    onEncrypt: (request) =>
      Promise.resolve({
        dataKey: request.dataKey ?? new Uint8Array(32),
        encryptedDataKeys: [edk],
      }),
    onDecrypt: () => Promise.resolve(undefined),
  };
}

async function message(keyring: Keyring) {
  const bytes = await encryptBytes(new Uint8Array(1000).fill(1), {
    keyring,
    encryptionContext: { 'veil-app': 'veil', 'veil-bucket': 'b' },
    frameBytes: 4096,
  });
  return { bytes, header: parseHeaderBytes(bytes) };
}

describe('object details', () => {
  test('the header view names the suite and the raw AES key, unauthenticated', async () => {
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: keyBytes(),
      keyName: 'team-key',
      keyNamespace: 'veil',
    });
    const { header } = await message(keyring);
    expect(inspectView(header, false)).toMatchObject({
      version: 2,
      suite: 'AES-256-GCM, HKDF-SHA512, key commitment',
      encryptedDataKeys: [{ providerId: 'veil', rawAesKeyName: 'team-key', ciphertextBytes: 48 }],
      headerAuthenticated: false,
    });
  });

  test('suite, frames, keys by model, context and metadata', async () => {
    const raw = await RawAesKeyring.fromBytes({
      keyBytes: keyBytes(),
      keyName: 'team-key',
      keyNamespace: 'veil',
    });
    const te = new TextEncoder();
    const keyring = createMultiKeyring({
      generator: raw,
      children: [
        fixedEdk({
          providerId: 'aws-kms',
          providerInfo: te.encode('arn:aws:kms:us-east-1:111122223333:key/k'),
          ciphertext: new Uint8Array(8),
        }),
        fixedEdk({
          providerId: 'veil-hsm',
          providerInfo: te.encode('veil-wrap-1'),
          ciphertext: new Uint8Array(8),
        }),
      ],
    });
    const { bytes, header } = await message(keyring);
    const details = objectDetails(
      'docs/a.pdf',
      {
        objectBytes: bytes.length,
        etag: '"abc"',
        metadata: { 'veil-model': 'A', 'veil-format': 'esdk-v2-0478-framed' },
        header,
      },
      'AES256',
    );
    expect(details).toMatchObject({
      key: 'docs/a.pdf',
      etag: 'abc',
      format: 'esdk',
      serverSideEncryption: 'AES256',
      metadata: [
        ['veil-format', 'esdk-v2-0478-framed'],
        ['veil-model', 'A'],
      ],
      header: {
        suiteId: '0x0478',
        suite: 'AES-256-GCM, HKDF-SHA512, key commitment',
        contentType: 'framed',
        frameBytes: 4096,
        context: [
          ['veil-app', 'veil'],
          ['veil-bucket', 'b'],
        ],
      },
    });
    expect(details.header?.keys.map((k) => [k.model, k.keyName])).toEqual([
      ['A', 'team-key'],
      ['C', 'arn:aws:kms:us-east-1:111122223333:key/k'],
      ['B', 'veil-wrap-1'],
    ]);
    expect(JSON.parse(details.header?.inspectJson ?? '')).toEqual(
      JSON.parse(JSON.stringify(describeHeader(header, false))),
    );
  });

  test('text from a hostile header or metadata is shown escaped: C1 controls, ESC, bidi overrides', async () => {
    // U+009B is a one-byte CSI, ESC starts a terminal sequence, U+202E/U+2066 reorder text,
    // U+0085 and U+2028 break lines, DEL erases.
    const hostile = 'a\u009b31mb\u001b[2Jc\u202etxt.exe\u2066d\u0085e\u2028f\u007fg';
    const shown = 'a\\u009b31mb\\u001b[2Jc\\u202etxt.exe\\u2066d\\u0085e\\u2028f\\u007fg';
    const te = new TextEncoder();
    const keyring = createMultiKeyring({
      generator: await RawAesKeyring.fromBytes({
        keyBytes: keyBytes(),
        keyName: 'team-key',
        keyNamespace: 'veil',
      }),
      children: [
        fixedEdk({
          providerId: `aws-kms${hostile}`,
          providerInfo: te.encode(`arn${hostile}`),
          ciphertext: new Uint8Array(8),
        }),
        fixedEdk({
          providerId: 'veil-hsm',
          providerInfo: te.encode(`label${hostile}`),
          ciphertext: new Uint8Array(8),
        }),
      ],
    });
    const bytes = await encryptBytes(new Uint8Array(10), {
      keyring,
      encryptionContext: { [`k${hostile}`]: `v${hostile}` },
      frameBytes: 4096,
    });
    const header = parseHeaderBytes(bytes);
    const details = objectDetails('x', {
      objectBytes: bytes.length,
      etag: '"e"',
      metadata: { [`m${hostile}`]: `n${hostile}` },
      header,
    });
    expect(details.header?.context).toEqual([[`k${shown}`, `v${shown}`]]);
    expect(details.metadata).toEqual([[`m${shown}`, `n${shown}`]]);
    expect(details.header?.keys.map((key) => [key.providerId, key.keyName])).toEqual([
      ['veil', 'team-key'],
      [`aws-kms${shown}`, `arn${shown}`],
      ['veil-hsm', `label${shown}`],
    ]);
    const view = inspectView(header, false) as {
      encryptionContext: Record<string, string>;
      encryptedDataKeys: { providerId: string; providerInfoText?: string }[];
    };
    expect(view.encryptionContext).toEqual({ [`k${shown}`]: `v${shown}` });
    expect(view.encryptedDataKeys[1]).toMatchObject({
      providerId: `aws-kms${shown}`,
      providerInfoText: `arn${shown}`,
    });
    // Nothing unsafe is left anywhere the dialog or `veil inspect` shows.
    expect(unsafeChars(JSON.stringify(details))).toEqual([]);
    expect(unsafeChars(details.header?.inspectJson ?? '')).toEqual([]);
  });

  test('a plain object has no header and says so through its format', () => {
    const details = objectDetails('a.txt', {
      objectBytes: 5,
      etag: '"e"',
      metadata: undefined,
      header: undefined,
    });
    expect(details).toEqual({
      key: 'a.txt',
      objectBytes: 5,
      etag: 'e',
      metadata: [],
      serverSideEncryption: undefined,
      format: 'plain',
    });
  });
});

describe('key advice', () => {
  const needed = [
    { providerId: 'aws-kms', keyName: 'arn:aws:kms:us-east-1:1:key/k' },
    { providerId: 'veil-hsm', keyName: 'veil-wrap-1' },
    { providerId: 'veil', keyName: 'team-key' },
  ];

  test('Model A first with its key name; B asks to sign in; C names the ARN', () => {
    const advice = keyAdvice(needed, { signedIn: false, vaultKeyNames: [] });
    expect(advice.map((a) => a.model)).toEqual(['A', 'B', 'C']);
    expect(advice[0]?.text).toContain('“team-key”');
    expect(advice[0]?.text).toContain('Pick its key file');
    expect(advice[1]?.text).toContain('“veil-wrap-1”');
    expect(advice[1]?.text).toContain('Sign in');
    expect(advice[2]?.text).toContain('arn:aws:kms:us-east-1:1:key/k');
    expect(advice[2]?.text).toContain('credentials may not be allowed');
    expect(offersKeyFile(advice)).toBe(true);
  });

  test('signed in, B says the account may lack the key; a same-named vault key is suspect', () => {
    const advice = keyAdvice(needed, { signedIn: true, vaultKeyNames: ['team-key'] });
    expect(advice[0]?.text).toContain('different key with the same name');
    expect(advice[1]?.text).toContain('may not be allowed');
    expect(offersKeyFile(advice.slice(1))).toBe(false);
  });

  test('a key file matches only by namespace and name', () => {
    const advice = keyAdvice(needed, { signedIn: false, vaultKeyNames: [] });
    expect(keyFileMatches(advice, { keyName: 'team-key', keyNamespace: 'veil' })).toBe(true);
    expect(keyFileMatches(advice, { keyName: 'team-key', keyNamespace: 'other' })).toBe(false);
    expect(keyFileMatches(advice, { keyName: 'veil-wrap-1', keyNamespace: 'veil-hsm' })).toBe(
      false,
    );
  });

  test('key names are escaped in the advice text and kept as they are for matching', () => {
    const crafted = [
      { providerId: 'veil', keyName: 'cod\u202eexe.key' },
      { providerId: 'veil-hsm', keyName: 'wrap\u200b\u2066' },
      { providerId: 'aws-kms', keyName: 'arn:aws:kms:us-east-1:1:key/k\u001b[2J' },
    ];
    for (const signedIn of [false, true]) {
      const advice = keyAdvice(crafted, { signedIn, vaultKeyNames: ['cod\u202eexe.key'] });
      expect(advice.map((a) => a.text).filter((text) => unsafeChars(text).length > 0)).toEqual([]);
      expect(advice[0]?.text).toContain('“cod\\u202eexe.key”');
      expect(advice[1]?.text).toContain('“wrap\\u200b\\u2066”');
      expect(advice[2]?.text).toContain('key/k\\u001b[2J');
    }
    const advice = keyAdvice(crafted, { signedIn: false, vaultKeyNames: [] });
    expect(keyFileMatches(advice, { keyName: 'cod\u202eexe.key', keyNamespace: 'veil' })).toBe(
      true,
    );
  });

  test('keysNeeded of a real header feeds the advice', async () => {
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: keyBytes(),
      keyName: 'k1',
      keyNamespace: 'veil',
    });
    const { header } = await message(keyring);
    const advice = keyAdvice(keysNeeded(header), { signedIn: false, vaultKeyNames: [] });
    expect(advice).toEqual([
      expect.objectContaining({ model: 'A', keyName: 'k1', providerId: 'veil' }),
    ]);
  });
});
