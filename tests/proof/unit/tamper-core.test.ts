/**
 * The tamper matrix at the core, in Node: every bit of every header byte, every bit of each
 * frame's framing and tag and a sample of ciphertext bytes, every cut, swap, repeat, drop and
 * appended tail, re-labelled encryption contexts and wrong keys, over real messages (Veil's own,
 * with one and two EDKs and at the app's 512 KiB frames, and client-node's 0x0478 and signed
 * 0x0578). Each case must fail with a code its [Note: expected codes of the tamper matrix]
 * allows, and release only whole authenticated frames before the damage. Prints the figures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import type { DecryptOptions } from '../../../src/core/decrypt-stream';
import { VeilError } from '../../../src/core/errors';
import type { Keyring } from '../../../src/core/keyring';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { encryptBytes } from '../../../src/core/one-shot';
import { DEFAULT_FRAME_BYTES } from '../../../src/core/suites';
import {
  PEER_SUITE_0478,
  PEER_SUITE_0578,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../../unit/core/helpers';
import {
  Tally,
  bodyBitFlips,
  contextCases,
  dissect,
  headerBitFlips,
  structuralCases,
  type Dissected,
  type TamperCase,
} from '../tamper-matrix';

const KEY = testKeyBytes(256, 3);
const SECOND_KEY = testKeyBytes(256, 9);
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'proof-bucket' };
const keyring = await ourKeyring(KEY);
const secondKeyring = await ourKeyring(SECOND_KEY, 'second-key');

interface Subject {
  readonly label: string;
  readonly plaintext: Uint8Array;
  readonly message: Dissected;
  /** Keyrings that open the message, with the EDK each opens. */
  readonly openers: readonly { keyring: Keyring; edk: number }[];
  readonly chunkBytes: number;
  readonly ciphertextSamples: number;
  /** Every bit of each framing byte, or one (the 512 KiB subject, to keep the run short). */
  readonly allBits: boolean;
}

async function veilSubject(
  label: string,
  plaintextBytes: number,
  frameBytes: number,
  twoEdks = false,
): Promise<Subject> {
  const plaintext = patternBytes(plaintextBytes, plaintextBytes % 251);
  const writer = twoEdks
    ? createMultiKeyring({ generator: keyring, children: [secondKeyring] })
    : keyring;
  const bytes = await encryptBytes(plaintext, {
    keyring: writer,
    frameBytes,
    encryptionContext: CONTEXT,
  });
  const openers = twoEdks
    ? [
        { keyring, edk: 0 },
        { keyring: secondKeyring, edk: 1 },
      ]
    : [{ keyring, edk: 0 }];
  const big = frameBytes > 64 * 1024;
  return {
    label,
    plaintext,
    message: dissect(bytes),
    openers,
    chunkBytes: big ? 256 * 1024 : 509,
    allBits: !big,
    ciphertextSamples: big ? 8 : 24,
  };
}

async function peerSubject(
  label: string,
  suiteId: number,
  plaintextBytes: number,
): Promise<Subject> {
  const plaintext = patternBytes(plaintextBytes, 77);
  const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
    suiteId,
    frameLength: 128,
    encryptionContext: CONTEXT,
  });
  return {
    label,
    plaintext,
    message: dissect(new Uint8Array(result)),
    openers: [{ keyring, edk: 0 }],
    chunkBytes: 61,
    allBits: true,
    ciphertextSamples: 24,
  };
}

const subjects: Subject[] = [
  await veilSubject('Veil, 5 frames of 256 B, one EDK', 256 * 4 + 100, 256),
  await veilSubject(
    'Veil, 3 frames of 4 KiB and an empty final frame, two EDKs',
    3 * 4096,
    4096,
    true,
  ),
  await veilSubject(
    'Veil, app frames (512 KiB), 3 frames',
    2 * DEFAULT_FRAME_BYTES + 1000,
    DEFAULT_FRAME_BYTES,
  ),
  await peerSubject('client-node 0x0478, empty final frame', PEER_SUITE_0478, 256),
  await peerSubject('client-node 0x0578 (signed)', PEER_SUITE_0578, 300),
];

/** Feeds `bytes` in chunks through a decrypt stream; returns what was released and the error. */
async function decrypt(
  bytes: Uint8Array,
  options: DecryptOptions,
  chunkBytes: number,
): Promise<{ released: Uint8Array; error: unknown }> {
  const transform = createDecryptStream(options);
  const output: Uint8Array[] = [];
  const writer = transform.writable.getWriter();
  const reading = (async () => {
    const reader = transform.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      output.push(value);
    }
  })();
  let error: unknown;
  try {
    for (let at = 0; at < bytes.length; at += chunkBytes) {
      await writer.write(bytes.subarray(at, at + chunkBytes));
    }
    await writer.close();
  } catch (caught) {
    error = caught;
  }
  await reading.catch((caught: unknown) => {
    error ??= caught;
  });
  return { released: concatBytes(...output), error };
}

const tallies = new Map<string, Tally>();
const tallyFor = (label: string): Tally => {
  const tally = tallies.get(label) ?? new Tally();
  tallies.set(label, tally);
  return tally;
};

/** Runs each case; collects every miss so one failure message lists them all. */
async function runCases(
  subject: Subject,
  cases: readonly TamperCase[],
  options: DecryptOptions,
  tallyLabel: string,
): Promise<string[]> {
  const misses: string[] = [];
  const tally = tallyFor(tallyLabel);
  for (const tamper of cases) {
    const { released, error } = await decrypt(tamper.bytes, options, subject.chunkBytes);
    const code =
      error instanceof VeilError
        ? error.code
        : error === undefined
          ? undefined
          : 'NOT_A_VEIL_ERROR';
    const detected = tally.add(tamper.category, code, tamper.expected);
    const safeRelease =
      released.length <= tamper.releasableBytes &&
      Buffer.from(released).equals(Buffer.from(subject.plaintext.subarray(0, released.length)));
    if (!detected || !safeRelease) {
      misses.push(
        `${tamper.category} ${tamper.name}: ${code ?? 'accepted'} (expected ${tamper.expected.join('|')}), released ${released.length} of at most ${tamper.releasableBytes}`,
      );
    }
  }
  return misses;
}

afterAll(() => {
  const tried = [...tallies.values()].reduce((sum, tally) => sum + tally.tried, 0);
  const detected = [...tallies.values()].reduce((sum, tally) => sum + tally.detected, 0);
  const tables = [...tallies.entries()].map(([label, tally]) => tally.format(label));
  console.log(
    `[proof] tamper matrix, core (Node): ${detected} of ${tried} cases detected\n${tables.join('\n')}`,
  );
});

describe.each(subjects)('$label', (subject) => {
  it('decrypts untouched (the matrix starts from a good message)', async () => {
    for (const { keyring: opener } of subject.openers) {
      const { released, error } = await decrypt(
        subject.message.bytes,
        { keyring: opener },
        subject.chunkBytes,
      );
      expect(error).toBeUndefined();
      expect(Buffer.from(released).equals(Buffer.from(subject.plaintext))).toBe(true);
    }
  });

  it('refuses every bit flip of every header byte, with the code bound to the field', async () => {
    const misses: string[] = [];
    for (const { keyring: opener, edk } of subject.openers) {
      const cases = headerBitFlips(subject.message, edk, subject.allBits);
      expect(cases.length).toBe(subject.message.headerBytes * (subject.allBits ? 8 : 1));
      misses.push(
        ...(await runCases(subject, cases, { keyring: opener }, `${subject.label}, header`)),
      );
    }
    expect(misses).toEqual([]);
  });

  it('refuses bit flips in every frame (framing and tag bits, sampled ciphertext) and the footer', async () => {
    const cases = bodyBitFlips(subject.message, subject.ciphertextSamples, subject.allBits);
    const misses = await runCases(subject, cases, { keyring }, `${subject.label}, body`);
    expect(misses).toEqual([]);
  });

  it('refuses every cut, swap, repeat, drop and appended tail', async () => {
    const cases = structuralCases(subject.message);
    const misses = await runCases(subject, cases, { keyring }, `${subject.label}, structure`);
    expect(misses).toEqual([]);
  });

  it('refuses a re-labelled encryption context, an unexpected one, and wrong keys', async () => {
    const misses = await runCases(
      subject,
      contextCases(subject.message),
      { keyring },
      `${subject.label}, context and keys`,
    );
    const tally = tallyFor(`${subject.label}, context and keys`);
    const otherKey = await ourKeyring(testKeyBytes(256, 4));
    const otherName = await ourKeyring(KEY, 'another-name');
    const otherNamespace = await ourKeyring(KEY, undefined, 'another-namespace');
    const checks: [string, DecryptOptions, string][] = [
      [
        'expected context differs',
        { keyring, reproducedContext: { 'veil-app': 'other' } },
        'CONTEXT_MISMATCH',
      ],
      [
        'an expected pair the file lacks',
        { keyring, reproducedContext: { 'veil-extra': '1' } },
        'WRONG_KEY',
      ],
      ['same key name, other key', { keyring: otherKey }, 'WRONG_KEY'],
      ['other key name', { keyring: otherName }, 'NO_MATCHING_EDK'],
      ['other namespace', { keyring: otherNamespace }, 'NO_MATCHING_EDK'],
    ];
    for (const [name, options, code] of checks) {
      const { released, error } = await decrypt(subject.message.bytes, options, subject.chunkBytes);
      const got = error instanceof VeilError ? error.code : undefined;
      const category =
        name.startsWith('expected') || name.startsWith('an expected')
          ? 'encryption context changed'
          : 'wrong key';
      if (!tally.add(category, got, [code]) || released.length > 0) {
        misses.push(
          `${name}: ${got ?? 'accepted'} (expected ${code}), released ${released.length}`,
        );
      }
    }
    expect(misses).toEqual([]);
  });
});
