/**
 * Fuzzing with fast-check: the header parser, the frame decoder and the streaming decryptor fed
 * arbitrary bytes and mutated real messages (bit flips, byte overwrites, extreme u16/u32 length
 * values, insertions, deletions, cuts, any chunking). Each may only succeed on an authentic
 * message, ask for more bytes, or fail with a VeilError whose code its doc comment lists; the
 * stream releases nothing that is not a prefix of the real plaintext; no JS allocation exceeds
 * the bytes fed plus 64 KiB, and headers or frames that claim huge lengths fail without
 * allocating them. Hangs surface as the test's time-out.
 *
 * Runs per property default to a few seconds' worth; VEIL_FUZZ_RUNS=N sets N runs per property
 * for a longer opt-in run (e.g. VEIL_FUZZ_RUNS=20000 npx vitest run tests/proof/unit/fuzz.test.ts).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { asBufferSource, concatBytes, u16, u32, u64, utf8 } from '../../../src/core/bytes';
import { createDecryptStream } from '../../../src/core/decrypt-stream';
import { VeilError } from '../../../src/core/errors';
import type { ErrorCode } from '../../../src/core/errors';
import { decryptFrame, encryptFrame } from '../../../src/core/frame';
import { DEFAULT_MAX_FRAME_BYTES, tryParseHeader } from '../../../src/core/header';
import type { Keyring } from '../../../src/core/keyring';
import { createMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import type { WrittenHeader } from '../../../src/core/message';
import { createMultiKeyring } from '../../../src/core/multi-keyring';
import { encryptBytes } from '../../../src/core/one-shot';
import { BODY_AAD_LABEL } from '../../../src/core/suites';
import {
  PEER_SUITE_0578,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../../unit/core/helpers';

const RUNS = Number(process.env.VEIL_FUZZ_RUNS ?? 0) || undefined;
const runs = (fallback: number): number => RUNS ?? fallback;
/** Generous: a hang is what this catches, not slowness. */
const TIMEOUT_MS = RUNS ? Math.max(60_000, RUNS * 20) : 60_000;
const totals = new Map<string, number>();
const counted = (name: string, count: number): { numRuns: number } => {
  totals.set(name, count);
  return { numRuns: count };
};

/** Codes tryParseHeader / parseHeaderBytes document. */
const PARSE_CODES: readonly ErrorCode[] = [
  'UNSUPPORTED_VERSION',
  'NON_COMMITTING_SUITE',
  'UNSUPPORTED_SUITE',
  'MALFORMED',
  'TOO_MANY_EDKS',
  'FRAME_TOO_LARGE',
  'BASE64_INPUT',
];
/** Codes decryptFrame documents (for well-formed parameters). */
const FRAME_CODES: readonly ErrorCode[] = [
  'OUT_OF_ORDER',
  'NON_CANONICAL_IV',
  'MALFORMED',
  'FRAME_TAMPERED',
];
/** Codes createDecryptStream documents. */
const STREAM_CODES: readonly ErrorCode[] = [
  'TRUNCATED',
  'SIGNATURE_MISSING',
  'TRAILING_BYTES',
  'OUT_OF_ORDER',
  'NON_CANONICAL_IV',
  'FRAME_TAMPERED',
  'HEADER_TAMPERED',
  'COMMITMENT_MISMATCH',
  'NO_MATCHING_EDK',
  'WRONG_KEY',
  'TOO_MANY_EDKS',
  'FRAME_TOO_LARGE',
  'NON_FRAMED_TOO_LARGE',
  'SIGNATURE_INVALID',
  'MALFORMED',
  'BASE64_INPUT',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_SUITE',
  'NON_COMMITTING_SUITE',
];

/** The code of a VeilError; anything else is a finding, reported by name. */
function codeOf(error: unknown): string {
  if (error instanceof VeilError) return error.code;
  return `not a VeilError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

// [Note: allocation tracking] While `tracked` runs, `new Uint8Array(n)` and `new ArrayBuffer(n)`
// anywhere in JS go through proxies that record the largest size asked for. Views (subarray),
// copies made by slice and WebCrypto's own output are not seen; those are bounded by bytes
// that already exist.
let largestAllocationBytes = 0;
function sizeOf(args: readonly unknown[]): number {
  const first = args[0];
  if (typeof first === 'number') return first;
  if (first instanceof ArrayBuffer) return 0; // a view of an existing buffer
  if (first && typeof first === 'object' && 'length' in first) return Number(first.length) || 0;
  return 0;
}
async function tracked<T>(run: () => Promise<T>): Promise<{ result: T; largestBytes: number }> {
  const scope = globalThis as {
    Uint8Array: Uint8ArrayConstructor;
    ArrayBuffer: ArrayBufferConstructor;
  };
  const original = { Uint8Array: scope.Uint8Array, ArrayBuffer: scope.ArrayBuffer };
  const watch = <C extends object>(target: C): C =>
    new Proxy(target, {
      construct(constructor, args: unknown[], newTarget) {
        largestAllocationBytes = Math.max(largestAllocationBytes, sizeOf(args));
        return Reflect.construct(
          constructor as new (...a: unknown[]) => object,
          args,
          newTarget,
        ) as object;
      },
    });
  largestAllocationBytes = 0;
  scope.Uint8Array = watch(original.Uint8Array);
  scope.ArrayBuffer = watch(original.ArrayBuffer);
  try {
    const result = await run();
    return { result, largestBytes: largestAllocationBytes };
  } finally {
    scope.Uint8Array = original.Uint8Array;
    scope.ArrayBuffer = original.ArrayBuffer;
  }
}

const KEY = testKeyBytes(256, 11);
const keyring = await ourKeyring(KEY);
const second = await ourKeyring(testKeyBytes(256, 12), 'fuzz-second');
const CONTEXT = { 'veil-app': 'veil', purpose: 'fuzz' };

/** A non-framed (legacy) message built by hand: the header re-authenticated with the key. */
async function nonFramedMessage(plaintext: Uint8Array): Promise<Uint8Array> {
  const written = await createMessageHeader({
    keyring,
    encryptionContext: CONTEXT,
    frameBytes: 64,
  });
  const body = written.header.headerBody.slice();
  // Content type (1) and frame length (4) sit right before the 32-byte commit key.
  const at = body.length - 32 - 5;
  body.set([0x01, 0, 0, 0, 0], at);
  const tag = await seal(written, new Uint8Array(12), body, new Uint8Array(0));
  const iv = concatBytes(new Uint8Array(8), u32(1));
  const aad = concatBytes(
    written.messageId,
    utf8(BODY_AAD_LABEL.singleBlock),
    u32(1),
    u64(plaintext.length),
  );
  return concatBytes(body, tag, iv, u64(plaintext.length), await seal(written, iv, aad, plaintext));
}

async function seal(
  written: WrittenHeader,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: asBufferSource(iv),
        additionalData: asBufferSource(aad),
        tagLength: 128,
      },
      written.contentKey,
      asBufferSource(plaintext),
    ),
  );
}

interface Base {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly keyring: Keyring;
}
const plain = patternBytes(700, 5);
const bases: Base[] = [
  {
    name: 'Veil, frames of 128 B',
    bytes: await encryptBytes(plain, { keyring, frameBytes: 128, encryptionContext: CONTEXT }),
    plaintext: plain,
    keyring,
  },
  {
    name: 'Veil, two EDKs, one frame',
    bytes: await encryptBytes(plain, {
      keyring: createMultiKeyring({ generator: keyring, children: [second] }),
      frameBytes: 4096,
      encryptionContext: CONTEXT,
    }),
    plaintext: plain,
    keyring: second,
  },
  {
    name: 'client-node 0x0578',
    bytes: new Uint8Array(
      (
        await peer.encrypt(peerKeyring(KEY), Buffer.from(plain), {
          suiteId: PEER_SUITE_0578,
          frameLength: 256,
          encryptionContext: CONTEXT,
        })
      ).result,
    ),
    plaintext: plain,
    keyring,
  },
  { name: 'non-framed', bytes: await nonFramedMessage(plain), plaintext: plain, keyring },
];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u16'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'cut'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant('u16' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 2, 17, 0x7fff, 0x8000, 0xfffe, 0xffff),
  }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: fc.nat(),
    value: fc.constantFrom(
      0,
      1,
      0x7fff_ffff,
      0xffff_fffe,
      0xffff_ffff,
      DEFAULT_MAX_FRAME_BYTES,
      DEFAULT_MAX_FRAME_BYTES + 1,
    ),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out: Uint8Array = bytes.slice();
  for (const mutation of mutations) {
    if (out.length === 0) break;
    const at = mutation.at % out.length;
    switch (mutation.kind) {
      case 'flip':
        out[at] = (out[at] ?? 0) ^ (1 << mutation.bit);
        break;
      case 'set':
        out[at] = mutation.value;
        break;
      case 'u16':
        out.set(u16(mutation.value).subarray(0, out.length - at), at);
        break;
      case 'u32':
        out.set(u32(mutation.value).subarray(0, out.length - at), at);
        break;
      case 'delete':
        out = concatBytes(out.subarray(0, at), out.subarray(at + mutation.count));
        break;
      case 'insert':
        out = concatBytes(out.subarray(0, at), mutation.bytes, out.subarray(at));
        break;
      case 'cut':
        out = out.slice(0, at);
        break;
    }
  }
  return out;
}

/** Decrypts `bytes` in `chunkBytes` pieces; what was released and the error, if any. */
async function streamDecrypt(
  bytes: Uint8Array,
  decryptKeyring: Keyring,
  chunkBytes: number,
): Promise<{ released: Uint8Array; error: unknown }> {
  const transform = createDecryptStream({ keyring: decryptKeyring });
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

/** Checks one parse outcome against the parser's contract. */
function checkParse(bytes: Uint8Array): void {
  let outcome: ReturnType<typeof tryParseHeader> | undefined;
  try {
    outcome = tryParseHeader(bytes, {
      maxEncryptedDataKeys: 16,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    });
  } catch (error) {
    expect(PARSE_CODES).toContain(codeOf(error));
    return;
  }
  if ('header' in outcome) {
    expect(outcome.header.headerBytes).toBeLessThanOrEqual(bytes.length);
    expect(outcome.header.encryptedDataKeys.length).toBeGreaterThanOrEqual(1);
  } else {
    // It asks for more than it has, and never more than one length-prefixed field beyond it.
    expect(outcome.needBytes).toBeGreaterThan(bytes.length);
    expect(outcome.needBytes).toBeLessThanOrEqual(bytes.length + 0xffff + 2);
  }
}

afterAll(() => {
  const all = [...totals.values()].reduce((sum, count) => sum + count, 0);
  const list = [...totals.entries()].map(([name, count]) => `  ${name}: ${count}`).join('\n');
  console.log(
    `[proof] fuzzing: ${all} runs, none with an uncatalogued error, a hang or an oversized allocation\n${list}`,
  );
});

describe('the header parser', () => {
  it(
    'takes arbitrary bytes: a header, a request for more, or a documented code',
    () => {
      const count = runs(10_000);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 600 }),
            // Plausible starts: version 2 and a committing suite, then anything.
            fc
              .uint8Array({ maxLength: 600 })
              .map((tail) => concatBytes(Uint8Array.of(2, 4, 0x78), tail)),
          ),
          checkParse,
        ),
        counted('header parser, arbitrary bytes', count),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'takes mutated real headers the same way, and parseHeaderBytes agrees',
    () => {
      const count = runs(10_000);
      fc.assert(
        fc.property(
          fc.constantFrom(...bases),
          fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
          (base, mutations) => {
            const headerBytes = parseHeaderBytes(base.bytes).headerBytes;
            const bytes = mutate(base.bytes.subarray(0, headerBytes + 8), mutations);
            checkParse(bytes);
            try {
              parseHeaderBytes(bytes);
            } catch (error) {
              expect(PARSE_CODES).toContain(codeOf(error));
            }
          },
        ),
        counted('header parser, mutated headers', count),
      );
    },
    TIMEOUT_MS,
  );
});

const frameHeader = await createMessageHeader({ keyring, frameBytes: 64 });
const frames = await Promise.all(
  [1, 2, 3].map((seq) =>
    encryptFrame({
      contentKey: frameHeader.contentKey,
      messageId: frameHeader.messageId,
      seq,
      isFinal: seq === 3,
      plaintext: patternBytes(seq === 3 ? 10 : 64, seq),
    }),
  ),
);
const params = (seq: number, isFinal: boolean, frame: Uint8Array) => ({
  contentKey: frameHeader.contentKey,
  messageId: frameHeader.messageId,
  seq,
  isFinal,
  frame,
  frameBytes: 64,
});
const bigFrameHeader = await createMessageHeader({ keyring, frameBytes: DEFAULT_MAX_FRAME_BYTES });

describe('the frame decoder', () => {
  it(
    'refuses arbitrary frames with a documented code',
    async () => {
      const count = runs(4000);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 200 }),
          fc.integer({ min: 1, max: 5 }),
          fc.boolean(),
          async (frame, seq, isFinal) => {
            const error = await decryptFrame(params(seq, isFinal, frame)).then(
              () => undefined,
              (caught: unknown) => caught,
            );
            expect(FRAME_CODES).toContain(codeOf(error));
          },
        ),
        counted('frame decoder, arbitrary frames', count),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'opens a mutated real frame only when it is unchanged, else a documented code',
    async () => {
      const count = runs(4000);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 }),
          fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
          async (index, mutations) => {
            const original = frames[index] as Uint8Array;
            const frame = mutate(original, mutations);
            const outcome = await decryptFrame(params(index + 1, index === 2, frame)).then(
              (plaintext) => ({ plaintext }),
              (error: unknown) => ({ error }),
            );
            if ('plaintext' in outcome) {
              expect(Buffer.from(frame).equals(Buffer.from(original))).toBe(true);
            } else {
              expect(FRAME_CODES).toContain(codeOf(outcome.error));
            }
          },
        ),
        counted('frame decoder, mutated frames', count),
      );
    },
    TIMEOUT_MS,
  );
});

describe('the streaming decryptor', () => {
  it(
    'refuses arbitrary input with a documented code, allocating no more than it was fed',
    async () => {
      const count = runs(1000);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 400 }),
            fc
              .uint8Array({ maxLength: 400 })
              .map((tail) => concatBytes(Uint8Array.of(2, 4, 0x78), tail)),
          ),
          fc.integer({ min: 1, max: 200 }),
          async (bytes, chunkBytes) => {
            const { result, largestBytes } = await tracked(() =>
              streamDecrypt(bytes, keyring, chunkBytes),
            );
            expect(STREAM_CODES).toContain(codeOf(result.error));
            expect(result.released.length).toBe(0);
            expect(largestBytes).toBeLessThanOrEqual(bytes.length + 64 * 1024);
          },
        ),
        counted('stream, arbitrary bytes', count),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'releases only a prefix of the real plaintext from mutated messages, then fails with a documented code',
    async () => {
      const count = runs(1000);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...bases),
          fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 1024 }),
          async (base, mutations, chunkBytes) => {
            const bytes = mutate(base.bytes, mutations);
            const { result, largestBytes } = await tracked(() =>
              streamDecrypt(bytes, base.keyring, chunkBytes),
            );
            const { released, error } = result;
            expect(
              Buffer.from(released).equals(
                Buffer.from(base.plaintext.subarray(0, released.length)),
              ),
            ).toBe(true);
            if (error === undefined) {
              // Only an authentic message decrypts: the mutation changed nothing that counts.
              expect(released.length).toBe(base.plaintext.length);
            } else {
              expect(STREAM_CODES).toContain(codeOf(error));
            }
            expect(largestBytes).toBeLessThanOrEqual(bytes.length + 64 * 1024);
          },
        ),
        counted('stream, mutated messages', count),
      );
    },
    TIMEOUT_MS,
  );
});

describe('length fields that claim huge sizes', () => {
  const MiB = 1024 * 1024;

  it('the allocation tracker sees a large allocation (so the bounds below can fail)', async () => {
    const { largestBytes } = await tracked(() =>
      Promise.resolve(concatBytes(new Uint8Array(3 * MiB))),
    );
    expect(largestBytes).toBeGreaterThanOrEqual(3 * MiB);
  });

  it('a frame or final frame of 64 MiB announced in 200 bytes fails TRUNCATED without allocating it', async () => {
    const iv = (seq: number) => concatBytes(new Uint8Array(8), u32(seq));
    for (const body of [
      concatBytes(u32(1), iv(1), new Uint8Array(100)),
      concatBytes(
        u32(0xffff_ffff),
        u32(1),
        iv(1),
        u32(DEFAULT_MAX_FRAME_BYTES),
        new Uint8Array(100),
      ),
    ]) {
      const bytes = concatBytes(bigFrameHeader.headerBytes, body);
      const { result, largestBytes } = await tracked(() => streamDecrypt(bytes, keyring, 64));
      expect(codeOf(result.error)).toBe('TRUNCATED');
      expect(largestBytes).toBeLessThan(MiB);
    }
  });

  it('a non-framed body claiming 60 MiB, 2^40 or 2^60 bytes fails fast without allocating it', async () => {
    const message = await nonFramedMessage(plain);
    const headerBytes = parseHeaderBytes(message).headerBytes;
    const head = message.subarray(0, headerBytes + 12);
    const claims: [Uint8Array, string][] = [
      [u64(60 * MiB), 'TRUNCATED'],
      [u64(2 ** 40), 'NON_FRAMED_TOO_LARGE'],
      [Uint8Array.of(0x10, 0, 0, 0, 0, 0, 0, 0), 'MALFORMED'],
    ];
    for (const [claim, code] of claims) {
      const bytes = concatBytes(head, claim, new Uint8Array(100));
      const { result, largestBytes } = await tracked(() => streamDecrypt(bytes, keyring, 50));
      expect(codeOf(result.error)).toBe(code);
      expect(largestBytes).toBeLessThan(MiB);
    }
  });

  it('a header whose context and EDK fields claim 65535 bytes each waits, then fails TRUNCATED', async () => {
    const prefix = concatBytes(Uint8Array.of(2, 4, 0x78), new Uint8Array(32));
    for (const bytes of [
      concatBytes(prefix, u16(0xffff), new Uint8Array(300)),
      concatBytes(prefix, u16(0), u16(16), u16(0xffff), new Uint8Array(300)),
    ]) {
      const { result, largestBytes } = await tracked(() => streamDecrypt(bytes, keyring, 7));
      expect(codeOf(result.error)).toBe('TRUNCATED');
      expect(largestBytes).toBeLessThan(64 * 1024);
    }
  });

  it('the hand-built non-framed message is itself valid (so the cases above are not vacuous)', async () => {
    const { released, error } = await streamDecrypt(await nonFramedMessage(plain), keyring, 100);
    expect(error).toBeUndefined();
    expect(Buffer.from(released).equals(Buffer.from(plain))).toBe(true);
  });
});
