/**
 * Every needs() guard on a public entry of the core and the raw AES keyring, tripped once each
 * (CONVENTIONS.md 6): wrong types give BAD_ARGUMENT, wrong sizes OUT_OF_RANGE, bad
 * configurations KEYRING_INVALID / KEY_FILE_INVALID.
 */
import { describe, expect, it } from 'vitest';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { createEncryptStream } from '../../../src/core/encrypt-stream';
import {
  assertWritableContext,
  contextFromPairs,
  serializeEncryptionContext,
} from '../../../src/core/encryption-context';
import type { ErrorCode } from '../../../src/core/errors';
import { VeilError, isErrorCode, needs } from '../../../src/core/errors';
import { decryptFrame, encryptFrame } from '../../../src/core/frame';
import { deriveMessageKeys } from '../../../src/core/kdf';
import { parseKeyFile, serializeKeyFile } from '../../../src/core/key-file';
import type { Keyring } from '../../../src/core/keyring';
import {
  createMessageHeader,
  openMessageHeader,
  parseHeaderBytes,
} from '../../../src/core/message';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import {
  ciphertextSize,
  frameCount,
  frameRange,
  framesForPlaintextRange,
} from '../../../src/core/sizes';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { ourKeyring, testKeyBytes } from './helpers';

const KEY = testKeyBytes(256);
const keyring = await ourKeyring(KEY);
const written = await createMessageHeader({ keyring, frameBytes: 16 });
const contentKey = written.contentKey;
const messageId = written.messageId;
const frameBase = { contentKey, messageId, seq: 1, isFinal: true };
const frame = await encryptFrame({ ...frameBase, plaintext: new Uint8Array(3) });
const bad = <T>(value: unknown): T => value as T;
const aesKey = await crypto.subtle.importKey('raw', testKeyBytes(256), 'AES-GCM', false, [
  'encrypt',
  'decrypt',
]);
const hmacKey = await crypto.subtle.importKey(
  'raw',
  testKeyBytes(256),
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['sign'],
);
const noDataKeyKeyring: Keyring = {
  onEncrypt: () => Promise.resolve({ dataKey: new Uint8Array(16), encryptedDataKeys: [] }),
  onDecrypt: () => Promise.resolve(new Uint8Array(16)),
};
const noEdkKeyring: Keyring = {
  onEncrypt: () => Promise.resolve({ dataKey: new Uint8Array(32), encryptedDataKeys: [] }),
  onDecrypt: () => Promise.resolve(undefined),
};

/** Pipes a string chunk (not bytes) through `transform` and reads until it errors. */
async function pipeNonBytes(transform: TransformStream<Uint8Array, Uint8Array>): Promise<void> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bad<Uint8Array>('not bytes'));
      controller.close();
    },
  });
  const reader = source.pipeThrough(transform).getReader();
  for (;;) if ((await reader.read()).done) return;
}

type Case = [name: string, run: () => unknown, code: ErrorCode];

const CASES: Case[] = [
  // encryption-context.ts
  [
    'serializeEncryptionContext: not an object',
    () => serializeEncryptionContext(bad(null)),
    'BAD_ARGUMENT',
  ],
  ['assertWritableContext: not an object', () => assertWritableContext(bad('x')), 'BAD_ARGUMENT'],
  [
    'assertWritableContext: non-string value',
    () => assertWritableContext(bad({ a: 1 })),
    'BAD_ARGUMENT',
  ],
  ['contextFromPairs: no =', () => contextFromPairs(['novalue']), 'BAD_ARGUMENT'],
  ['contextFromPairs: repeated key', () => contextFromPairs(['a=1', 'a=2']), 'BAD_ARGUMENT'],
  // kdf.ts
  [
    'deriveMessageKeys: dataKey type',
    () => deriveMessageKeys(0x0478, bad('k'), messageId),
    'BAD_ARGUMENT',
  ],
  [
    'deriveMessageKeys: dataKey size',
    () => deriveMessageKeys(0x0478, new Uint8Array(31), messageId),
    'OUT_OF_RANGE',
  ],
  [
    'deriveMessageKeys: messageId type',
    () => deriveMessageKeys(0x0478, new Uint8Array(32), bad(1)),
    'BAD_ARGUMENT',
  ],
  [
    'deriveMessageKeys: messageId size',
    () => deriveMessageKeys(0x0478, new Uint8Array(32), new Uint8Array(16)),
    'OUT_OF_RANGE',
  ],
  // frame.ts
  [
    'encryptFrame: contentKey',
    () => encryptFrame({ ...frameBase, contentKey: bad({}), plaintext: new Uint8Array(1) }),
    'BAD_ARGUMENT',
  ],
  [
    'encryptFrame: messageId type',
    () => encryptFrame({ ...frameBase, messageId: bad([]), plaintext: new Uint8Array(1) }),
    'BAD_ARGUMENT',
  ],
  [
    'encryptFrame: messageId size',
    () =>
      encryptFrame({ ...frameBase, messageId: new Uint8Array(16), plaintext: new Uint8Array(1) }),
    'OUT_OF_RANGE',
  ],
  [
    'encryptFrame: seq not an integer',
    () => encryptFrame({ ...frameBase, seq: 1.5, plaintext: new Uint8Array(1) }),
    'BAD_ARGUMENT',
  ],
  [
    'encryptFrame: seq 0',
    () => encryptFrame({ ...frameBase, seq: 0, plaintext: new Uint8Array(1) }),
    'OUT_OF_RANGE',
  ],
  [
    'encryptFrame: seq = final marker',
    () => encryptFrame({ ...frameBase, seq: 0xffff_ffff, plaintext: new Uint8Array(1) }),
    'OUT_OF_RANGE',
  ],
  [
    'encryptFrame: isFinal type',
    () => encryptFrame({ ...frameBase, isFinal: bad(1), plaintext: new Uint8Array(1) }),
    'BAD_ARGUMENT',
  ],
  [
    'encryptFrame: plaintext type',
    () => encryptFrame({ ...frameBase, plaintext: bad('abc') }),
    'BAD_ARGUMENT',
  ],
  [
    'decryptFrame: frame type',
    () => decryptFrame({ ...frameBase, frame: bad(null), frameBytes: 16 }),
    'BAD_ARGUMENT',
  ],
  [
    'decryptFrame: frameBytes type',
    () => decryptFrame({ ...frameBase, frame, frameBytes: 1.5 }),
    'BAD_ARGUMENT',
  ],
  [
    'decryptFrame: frameBytes 0',
    () => decryptFrame({ ...frameBase, frame, frameBytes: 0 }),
    'OUT_OF_RANGE',
  ],
  // sizes.ts
  ['frameCount: plaintextBytes type', () => frameCount(0.5, 16), 'BAD_ARGUMENT'],
  ['frameCount: negative plaintextBytes', () => frameCount(-1, 16), 'OUT_OF_RANGE'],
  ['frameCount: frameBytes type', () => frameCount(1, Number.NaN), 'BAD_ARGUMENT'],
  ['frameCount: frameBytes 0', () => frameCount(1, 0), 'OUT_OF_RANGE'],
  ['frameCount: too many frames', () => frameCount(2 ** 40, 1), 'OUT_OF_RANGE'],
  ['ciphertextSize: headerBytes', () => ciphertextSize(1, 16, -1), 'OUT_OF_RANGE'],
  ['frameRange: seq type', () => frameRange(1.5, 100, 16, 0), 'BAD_ARGUMENT'],
  ['frameRange: seq beyond the last frame', () => frameRange(8, 100, 16, 0), 'OUT_OF_RANGE'],
  ['frameRange: headerBytes', () => frameRange(1, 100, 16, -5), 'OUT_OF_RANGE'],
  ['framesForPlaintextRange: type', () => framesForPlaintextRange(0.5, 1, 100, 16), 'BAD_ARGUMENT'],
  [
    'framesForPlaintextRange: start > end',
    () => framesForPlaintextRange(5, 1, 100, 16),
    'OUT_OF_RANGE',
  ],
  [
    'framesForPlaintextRange: end beyond',
    () => framesForPlaintextRange(0, 101, 100, 16),
    'OUT_OF_RANGE',
  ],
  // message.ts
  ['createMessageHeader: options', () => createMessageHeader(bad(null)), 'BAD_ARGUMENT'],
  ['createMessageHeader: keyring', () => createMessageHeader(bad({ keyring: {} })), 'BAD_ARGUMENT'],
  [
    'createMessageHeader: frameBytes type',
    () => createMessageHeader({ keyring, frameBytes: 2.5 }),
    'BAD_ARGUMENT',
  ],
  [
    'createMessageHeader: frameBytes above 64 MiB',
    () => createMessageHeader({ keyring, frameBytes: 64 * 1024 * 1024 + 1 }),
    'OUT_OF_RANGE',
  ],
  [
    'createMessageHeader: maxEncryptedDataKeys',
    () => createMessageHeader({ keyring, maxEncryptedDataKeys: 0 }),
    'OUT_OF_RANGE',
  ],
  [
    'createMessageHeader: frameBytes 0',
    () => createMessageHeader({ keyring, frameBytes: 0 }),
    'OUT_OF_RANGE',
  ],
  [
    'createMessageHeader: bad data key from keyring',
    () => createMessageHeader({ keyring: noDataKeyKeyring }),
    'KEYRING_INVALID',
  ],
  [
    'createMessageHeader: no EDK from keyring',
    () => createMessageHeader({ keyring: noEdkKeyring }),
    'KEYRING_INVALID',
  ],
  ['openMessageHeader: header', () => openMessageHeader(bad(null), { keyring }), 'BAD_ARGUMENT'],
  ['openMessageHeader: header body', () => openMessageHeader(bad({}), { keyring }), 'BAD_ARGUMENT'],
  ['openMessageHeader: keyring', () => openMessageHeader(written.header, bad({})), 'BAD_ARGUMENT'],
  [
    'openMessageHeader: data key size from keyring',
    () => openMessageHeader(written.header, { keyring: noDataKeyKeyring }),
    'WRONG_KEY',
  ],
  ['parseHeaderBytes: type', () => parseHeaderBytes(bad('x')), 'BAD_ARGUMENT'],
  // decrypt-stream.ts / encrypt-stream.ts / one-shot.ts
  ['createDecryptStream: options', () => createDecryptStream(bad(undefined)), 'BAD_ARGUMENT'],
  ['createDecryptStream: keyring', () => createDecryptStream(bad({ keyring: 1 })), 'BAD_ARGUMENT'],
  [
    'createDecryptStream: maxEncryptedDataKeys',
    () => createDecryptStream({ keyring, maxEncryptedDataKeys: 0 }),
    'OUT_OF_RANGE',
  ],
  [
    'createDecryptStream: maxFrameBytes',
    () => createDecryptStream({ keyring, maxFrameBytes: -1 }),
    'OUT_OF_RANGE',
  ],
  [
    'createDecryptStream: maxNonFramedBytes',
    () => createDecryptStream({ keyring, maxNonFramedBytes: 0.5 }),
    'OUT_OF_RANGE',
  ],
  [
    'createDecryptStream: maxNonFramedBytes above 2^36 - 32',
    () => createDecryptStream({ keyring, maxNonFramedBytes: 2 ** 36 - 31 }),
    'OUT_OF_RANGE',
  ],
  [
    'decrypt stream: chunk type',
    () => pipeNonBytes(createDecryptStream({ keyring })),
    'BAD_ARGUMENT',
  ],
  ['createEncryptStream: options', () => createEncryptStream(bad(null)), 'BAD_ARGUMENT'],
  [
    'createEncryptStream: framesInFlight',
    () => createEncryptStream({ keyring, framesInFlight: 0 }),
    'OUT_OF_RANGE',
  ],
  [
    'createDecryptStream: framesInFlight',
    () => createDecryptStream({ keyring, framesInFlight: 1.5 }),
    'OUT_OF_RANGE',
  ],
  [
    'createEncryptStream: plaintextBytes',
    () => createEncryptStream({ keyring, plaintextBytes: -1 }),
    'OUT_OF_RANGE',
  ],
  [
    'encrypt stream: chunk type',
    () => pipeNonBytes(createEncryptStream({ keyring })),
    'BAD_ARGUMENT',
  ],
  ['encryptBytes: plaintext', () => encryptBytes(bad('text'), { keyring }), 'BAD_ARGUMENT'],
  ['decryptBytes: ciphertext', () => decryptBytes(bad('text'), { keyring }), 'BAD_ARGUMENT'],
  // multi-keyring.ts
  ['createMultiKeyring: empty', () => createMultiKeyring({}), 'BAD_ARGUMENT'],
  [
    'createMultiKeyring: not a keyring',
    () => createMultiKeyring({ children: [bad({})] }),
    'BAD_ARGUMENT',
  ],
  [
    'multi-keyring onEncrypt without generator',
    () =>
      createMultiKeyring({ children: [keyring] }).onEncrypt({
        suiteId: 0x0478,
        encryptionContext: {},
      }),
    'KEYRING_INVALID',
  ],
  // key-file.ts
  ['parseKeyFile: not text', () => parseKeyFile(bad(42)), 'BAD_ARGUMENT'],
  [
    'serializeKeyFile: keyBytes type',
    () => serializeKeyFile({ keyBytes: bad('k'), keyName: 'a', keyNamespace: 'veil' }),
    'BAD_ARGUMENT',
  ],
  [
    'serializeKeyFile: key size',
    () => serializeKeyFile({ keyBytes: new Uint8Array(20), keyName: 'a', keyNamespace: 'veil' }),
    'OUT_OF_RANGE',
  ],
  [
    'serializeKeyFile: keyName',
    () => serializeKeyFile({ keyBytes: new Uint8Array(32), keyName: '', keyNamespace: 'veil' }),
    'BAD_ARGUMENT',
  ],
  [
    'serializeKeyFile: keyNamespace',
    () => serializeKeyFile({ keyBytes: new Uint8Array(32), keyName: 'a', keyNamespace: '' }),
    'BAD_ARGUMENT',
  ],
  // keyrings/raw-aes.ts
  ['RawAesKeyring: options', () => new RawAesKeyring(bad(null)), 'BAD_ARGUMENT'],
  [
    'RawAesKeyring: empty namespace',
    () => new RawAesKeyring({ keyNamespace: '', keyName: 'k', wrappingKey: aesKey }),
    'KEYRING_INVALID',
  ],
  [
    'RawAesKeyring: aws-kms namespace',
    () => new RawAesKeyring({ keyNamespace: 'aws-kms', keyName: 'k', wrappingKey: aesKey }),
    'KEYRING_INVALID',
  ],
  [
    'RawAesKeyring: empty key name',
    () => new RawAesKeyring({ keyNamespace: 'veil', keyName: '', wrappingKey: aesKey }),
    'KEYRING_INVALID',
  ],
  [
    'RawAesKeyring: not a CryptoKey',
    () =>
      new RawAesKeyring({
        keyNamespace: 'veil',
        keyName: 'k',
        wrappingKey: bad(new Uint8Array(32)),
      }),
    'BAD_ARGUMENT',
  ],
  [
    'RawAesKeyring: not AES-GCM',
    () => new RawAesKeyring({ keyNamespace: 'veil', keyName: 'k', wrappingKey: hmacKey }),
    'KEYRING_INVALID',
  ],
  [
    'RawAesKeyring.fromBytes: keyBytes type',
    () => RawAesKeyring.fromBytes({ keyBytes: bad('x'), keyName: 'k', keyNamespace: 'veil' }),
    'BAD_ARGUMENT',
  ],
  [
    'RawAesKeyring.fromBytes: key size',
    () =>
      RawAesKeyring.fromBytes({ keyBytes: new Uint8Array(20), keyName: 'k', keyNamespace: 'veil' }),
    'OUT_OF_RANGE',
  ],
  [
    'RawAesKeyring.onEncrypt: data key size',
    () =>
      keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {}, dataKey: new Uint8Array(16) }),
    'KEYRING_INVALID',
  ],
];

describe('guards', () => {
  it.each(CASES)('%s', async (_name, run, code) => {
    let caught: unknown;
    try {
      await run();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VeilError);
    expect((caught as VeilError).code).toBe(code);
  });

  it('needs() and isErrorCode() behave', () => {
    expect(() => needs(false, 'BAD_ARGUMENT', 'x')).toThrow(/An argument was missing.*\(x\)/);
    expect(() => needs(true, 'BAD_ARGUMENT')).not.toThrow();
    expect(isErrorCode('TRUNCATED')).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
  });
});
