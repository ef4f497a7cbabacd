/**
 * The tamper matrix shared by the core, command-line and browser proofs: it takes a real ESDK
 * message apart (header fields, frames, footer) with its own walker, independent of the parser
 * under test, and derives tampered copies, each with the catalogue codes it must fail with.
 *
 * [Note: expected codes of the tamper matrix] Every case names the codes that are right for it,
 * from what the damaged byte is bound to:
 * - version byte: UNSUPPORTED_VERSION; suite id: UNSUPPORTED_SUITE or NON_COMMITTING_SUITE (or,
 *   for 0x0478 <-> 0x0578, MALFORMED for the missing signing key or the wrong commitment);
 * - message id: COMMITMENT_MISMATCH (it salts the key derivation);
 * - length and count fields: a parse refusal (MALFORMED, TRUNCATED when the claimed length runs
 *   past the end, TOO_MANY_EDKS, FRAME_TOO_LARGE) or, when the shifted bytes still parse, the
 *   check that then trips (NO_MATCHING_EDK, WRONG_KEY, HEADER_TAMPERED, UNSUPPORTED_*);
 * - encryption context: WRONG_KEY (the raw AES wrap is bound to the context) or MALFORMED;
 * - the EDK the key opens: NO_MATCHING_EDK when it no longer names the key, WRONG_KEY when it
 *   names it but does not open; any other EDK: HEADER_TAMPERED;
 * - content type: MALFORMED; frame length: HEADER_TAMPERED, FRAME_TOO_LARGE or MALFORMED (0);
 * - commit key: COMMITMENT_MISMATCH; header auth tag: HEADER_TAMPERED;
 * - a frame's sequence number or final marker: OUT_OF_ORDER; IV: NON_CANONICAL_IV; ciphertext
 *   and tag: FRAME_TAMPERED; the final frame's length: MALFORMED (longer than a frame),
 *   FRAME_TAMPERED (shorter) or TRUNCATED (longer, past the end);
 * - a cut anywhere: TRUNCATED; frames swapped, repeated or dropped: OUT_OF_ORDER (dropping the
 *   final frame: TRUNCATED; repeating it: TRAILING_BYTES); bytes appended: TRAILING_BYTES;
 * - signature (0x0578): SIGNATURE_INVALID; its length: SIGNATURE_INVALID or SIGNATURE_MISSING;
 *   a signed message cut after its final frame: SIGNATURE_MISSING.
 */
import type { ErrorCode } from '../../src/core/errors';

/** What a tampered copy changes, as reported in the figures. */
export type Category =
  | 'header: version'
  | 'header: suite id'
  | 'header: message id'
  | 'header: context length'
  | 'header: encryption context'
  | 'header: EDK count'
  | 'header: EDK field lengths'
  | 'header: EDK provider id'
  | 'header: EDK provider info'
  | 'header: EDK ciphertext'
  | 'header: other EDK'
  | 'header: content type'
  | 'header: frame length'
  | 'header: commit key'
  | 'header: auth tag'
  | 'frame: sequence number'
  | 'frame: IV'
  | 'frame: ciphertext'
  | 'frame: tag'
  | 'final frame: marker'
  | 'final frame: length'
  | 'footer: signature length'
  | 'footer: signature'
  | 'truncated at a frame boundary'
  | 'truncated mid-frame'
  | 'frames swapped'
  | 'frame duplicated'
  | 'frame dropped'
  | 'bytes appended'
  | 'encryption context changed'
  | 'wrong key';

/** One tampered copy of a message. */
export interface TamperCase {
  readonly category: Category;
  /** Where and what, e.g. "byte 37 bit 2" or "frames 1 and 2". */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The codes this case may fail with, see [Note: expected codes of the tamper matrix]. */
  readonly expected: readonly ErrorCode[];
  /**
   * Plaintext bytes a reader may have handed out before the failure: whole authenticated frames
   * that precede the first changed byte (all of them when the damage is after the message).
   */
  readonly releasableBytes: number;
}

/** A header field: its role and its byte range [start, end). */
export interface HeaderField {
  readonly category: Category;
  readonly start: number;
  readonly end: number;
  /** Index of the EDK the field belongs to (EDK fields only). */
  readonly edkIndex?: number;
}

/** One frame of the body. */
export interface FrameSpan {
  readonly seq: number;
  readonly isFinal: boolean;
  readonly start: number;
  readonly end: number;
  /** Plaintext bytes the frame carries. */
  readonly plaintextBytes: number;
}

/** A message taken apart. */
export interface Dissected {
  readonly bytes: Uint8Array;
  readonly suiteId: number;
  readonly fields: readonly HeaderField[];
  readonly headerBytes: number;
  readonly frameBytes: number;
  readonly frames: readonly FrameSpan[];
  /** The footer's range (0x0578), or undefined. */
  readonly footer: { readonly start: number; readonly end: number } | undefined;
  readonly plaintextBytes: number;
}

const u16At = (bytes: Uint8Array, at: number): number =>
  ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
const u32At = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);

/**
 * Takes a framed v2 message apart. Throws (a test bug) when the message is not one.
 * `openedEdk` is the index of the EDK the decrypting key opens (raw AES: the one naming it).
 */
export function dissect(bytes: Uint8Array): Dissected {
  const fields: HeaderField[] = [];
  let at = 0;
  const field = (category: Category, lengthBytes: number, edkIndex?: number): number => {
    fields.push({ category, start: at, end: at + lengthBytes, edkIndex });
    at += lengthBytes;
    return at - lengthBytes;
  };
  if (bytes[0] !== 2) throw new Error('not a v2 message');
  field('header: version', 1);
  const suiteId = u16At(bytes, field('header: suite id', 2));
  field('header: message id', 32);
  const contextBytes = u16At(bytes, field('header: context length', 2));
  if (contextBytes > 0) field('header: encryption context', contextBytes);
  const edkCount = u16At(bytes, field('header: EDK count', 2));
  for (let index = 0; index < edkCount; index++) {
    for (const part of [
      'header: EDK provider id',
      'header: EDK provider info',
      'header: EDK ciphertext',
    ] as const) {
      const lengthBytes = u16At(bytes, field('header: EDK field lengths', 2, index));
      field(part, lengthBytes, index);
    }
  }
  if (bytes[field('header: content type', 1)] !== 2) throw new Error('not framed');
  const frameBytes = u32At(bytes, field('header: frame length', 4));
  field('header: commit key', 32);
  field('header: auth tag', 16);
  const headerBytes = at;
  const frames: FrameSpan[] = [];
  let plaintextBytes = 0;
  for (let seq = 1; ; seq++) {
    const isFinal = u32At(bytes, at) === 0xffff_ffff;
    const length = isFinal ? u32At(bytes, at + 20) : frameBytes;
    const size = isFinal ? 4 + 4 + 12 + 4 + length + 16 : 4 + 12 + length + 16;
    frames.push({ seq, isFinal, start: at, end: at + size, plaintextBytes: length });
    plaintextBytes += length;
    at += size;
    if (isFinal) break;
    if (at >= bytes.length) throw new Error('no final frame');
  }
  const footer = at < bytes.length ? { start: at, end: bytes.length } : undefined;
  if (footer && suiteId !== 0x0578) throw new Error('bytes after the final frame');
  return { bytes, suiteId, fields, headerBytes, frameBytes, frames, footer, plaintextBytes };
}

/** Codes of a parse refusal; see [Note: expected codes of the tamper matrix]. */
const PARSE: readonly ErrorCode[] = ['MALFORMED', 'TRUNCATED', 'TOO_MANY_EDKS', 'FRAME_TOO_LARGE'];
/** Codes of a length field whose shifted bytes may still parse into a wrong header. */
const SHIFTED: readonly ErrorCode[] = [
  ...PARSE,
  'NO_MATCHING_EDK',
  'WRONG_KEY',
  'HEADER_TAMPERED',
  'COMMITMENT_MISMATCH',
  'UNSUPPORTED_SUITE',
  'NON_COMMITTING_SUITE',
];

/** The codes a bit flip in `field` may cause, for a reader whose key opens EDK `openedEdk`. */
export function expectedForField(field: HeaderField, openedEdk: number): readonly ErrorCode[] {
  const opened = field.edkIndex === undefined || field.edkIndex === openedEdk;
  switch (field.category) {
    case 'header: version':
      return ['UNSUPPORTED_VERSION'];
    case 'header: suite id':
      return ['UNSUPPORTED_SUITE', 'NON_COMMITTING_SUITE', 'MALFORMED', 'HEADER_TAMPERED'];
    case 'header: message id':
    case 'header: commit key':
      return ['COMMITMENT_MISMATCH'];
    case 'header: context length':
    case 'header: EDK count':
    case 'header: EDK field lengths':
      return SHIFTED;
    case 'header: encryption context':
      return ['WRONG_KEY', 'MALFORMED'];
    case 'header: EDK provider id':
      return opened ? ['NO_MATCHING_EDK', 'MALFORMED'] : ['HEADER_TAMPERED', 'MALFORMED'];
    case 'header: EDK provider info':
      return opened ? ['NO_MATCHING_EDK', 'WRONG_KEY'] : ['HEADER_TAMPERED'];
    case 'header: EDK ciphertext':
      return opened ? ['WRONG_KEY'] : ['HEADER_TAMPERED'];
    case 'header: content type':
      return ['MALFORMED'];
    case 'header: frame length':
      return ['HEADER_TAMPERED', 'FRAME_TOO_LARGE', 'MALFORMED'];
    case 'header: auth tag':
      return ['HEADER_TAMPERED'];
    default:
      throw new Error(`not a header field: ${field.category}`);
  }
}

/** The report category of a header field (EDKs the key does not open are one category). */
function headerCategory(field: HeaderField, openedEdk: number): Category {
  const isEdkContent =
    field.category === 'header: EDK provider id' ||
    field.category === 'header: EDK provider info' ||
    field.category === 'header: EDK ciphertext';
  return isEdkContent && field.edkIndex !== openedEdk ? 'header: other EDK' : field.category;
}

/** The role of byte `offset` of a frame, and the codes a flip there may cause. */
function frameByte(
  frame: FrameSpan,
  offset: number,
): { category: Category; expected: readonly ErrorCode[] } {
  const at = offset - frame.start;
  const head = frame.isFinal ? 4 : 0;
  if (frame.isFinal && at < 4)
    return { category: 'final frame: marker', expected: ['OUT_OF_ORDER'] };
  if (at < head + 4) return { category: 'frame: sequence number', expected: ['OUT_OF_ORDER'] };
  if (at < head + 16) return { category: 'frame: IV', expected: ['NON_CANONICAL_IV'] };
  if (frame.isFinal && at < head + 20) {
    return {
      category: 'final frame: length',
      expected: ['MALFORMED', 'FRAME_TAMPERED', 'TRUNCATED'],
    };
  }
  if (offset >= frame.end - 16) return { category: 'frame: tag', expected: ['FRAME_TAMPERED'] };
  return { category: 'frame: ciphertext', expected: ['FRAME_TAMPERED'] };
}

/** Plaintext bytes of the frames that end at or before `offset`, the final frame excluded. */
function releasableBefore(message: Dissected, offset: number): number {
  let total = 0;
  for (const frame of message.frames) {
    if (frame.end > offset || frame.isFinal) break;
    total += frame.plaintextBytes;
  }
  return total;
}

function flipped(bytes: Uint8Array, offset: number, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}

function join(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The case for flipping `bit` of byte `offset`. */
export function bitFlipCase(
  message: Dissected,
  offset: number,
  bit: number,
  openedEdk = 0,
): TamperCase {
  const bytes = flipped(message.bytes, offset, bit);
  const name = `byte ${offset} bit ${bit}`;
  if (offset < message.headerBytes) {
    const field = message.fields.find((candidate) => offset < candidate.end);
    if (!field) throw new Error(`no header field at ${offset}`);
    return {
      category: headerCategory(field, openedEdk),
      name,
      bytes,
      expected: expectedForField(field, openedEdk),
      releasableBytes: 0,
    };
  }
  const frame = message.frames.find((candidate) => offset < candidate.end);
  if (frame) {
    return {
      ...frameByte(frame, offset),
      name,
      bytes,
      releasableBytes: releasableBefore(message, offset),
    };
  }
  const footer = message.footer;
  if (!footer) throw new Error(`offset ${offset} is past the message`);
  const isLength = offset < footer.start + 2;
  return {
    category: isLength ? 'footer: signature length' : 'footer: signature',
    name,
    bytes,
    expected: isLength ? ['SIGNATURE_INVALID', 'SIGNATURE_MISSING'] : ['SIGNATURE_INVALID'],
    releasableBytes: message.plaintextBytes - (message.frames.at(-1)?.plaintextBytes ?? 0),
  };
}

/** Every bit (or, with `allBits` false, one bit) of every header byte. */
export function headerBitFlips(message: Dissected, openedEdk = 0, allBits = true): TamperCase[] {
  const cases: TamperCase[] = [];
  for (let offset = 0; offset < message.headerBytes; offset++) {
    for (let bit = 0; bit < 8; bit++) {
      if (allBits || bit === offset % 8) cases.push(bitFlipCase(message, offset, bit, openedEdk));
    }
  }
  return cases;
}

/** A deterministic sample of `count` offsets in [start, end). */
function sample(start: number, end: number, count: number, seed: number): number[] {
  const span = end - start;
  if (span <= count) return Array.from({ length: span }, (_, i) => start + i);
  const picked = new Set<number>([start, end - 1]);
  let state = seed >>> 0 || 1;
  while (picked.size < count) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    picked.add(start + (state % span));
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * Body flips: every bit of each frame's framing (marker, seq, IV, final length), of every tag
 * byte, and one bit of `ciphertextSamples` ciphertext bytes per frame; every bit of the footer's
 * length and a sample of its signature.
 */
export function bodyBitFlips(
  message: Dissected,
  ciphertextSamples: number,
  allBits = true,
): TamperCase[] {
  const cases: TamperCase[] = [];
  const bitsOf = (offset: number): number[] => (allBits ? [0, 1, 2, 3, 4, 5, 6, 7] : [offset % 8]);
  for (const frame of message.frames) {
    const framingEnd = frame.start + (frame.isFinal ? 24 : 16);
    const tagStart = frame.end - 16;
    for (let offset = frame.start; offset < framingEnd; offset++) {
      for (const bit of bitsOf(offset)) cases.push(bitFlipCase(message, offset, bit));
    }
    for (const offset of sample(framingEnd, tagStart, ciphertextSamples, frame.seq)) {
      cases.push(bitFlipCase(message, offset, offset % 8));
    }
    for (let offset = tagStart; offset < frame.end; offset++) {
      for (const bit of bitsOf(offset)) cases.push(bitFlipCase(message, offset, bit));
    }
  }
  const footer = message.footer;
  if (footer) {
    for (let offset = footer.start; offset < footer.start + 2; offset++) {
      for (let bit = 0; bit < 8; bit++) cases.push(bitFlipCase(message, offset, bit));
    }
    for (const offset of sample(footer.start + 2, footer.end, 16, 7)) {
      cases.push(bitFlipCase(message, offset, offset % 8));
    }
  }
  return cases;
}

/**
 * Cuts, reordering, duplication, drops and appended bytes. Cuts: at every frame boundary (after
 * the header, between frames, before a footer) and inside every header field, frame part and
 * the footer.
 */
export function structuralCases(message: Dissected): TamperCase[] {
  const { bytes, frames } = message;
  const cases: TamperCase[] = [];
  const cut = (category: Category, atBytes: number): void => {
    cases.push({
      category,
      name: `cut at ${atBytes}`,
      bytes: bytes.subarray(0, atBytes),
      // Signed and cut after the final frame: only the signature is missing.
      expected:
        message.footer && atBytes >= message.footer.start ? ['SIGNATURE_MISSING'] : ['TRUNCATED'],
      releasableBytes: releasableBefore(message, atBytes),
    });
  };
  const boundaries = [0, message.headerBytes, ...frames.slice(0, -1).map((frame) => frame.end)];
  for (const atBytes of boundaries) cut('truncated at a frame boundary', atBytes);
  if (message.footer) cut('truncated at a frame boundary', message.footer.start);
  const inside = new Set<number>();
  for (const field of message.fields)
    inside.add(field.start + Math.floor((field.end - field.start) / 2));
  for (const frame of frames) {
    const head = frame.isFinal ? 4 : 0;
    for (const at of [frame.start + 1, frame.start + head + 8, frame.start + head + 18])
      inside.add(at);
    inside.add(frame.start + Math.floor((frame.end - frame.start) / 2));
    inside.add(frame.end - 8);
    inside.add(frame.end - 1);
  }
  if (message.footer) {
    inside.add(message.footer.start + 1);
    inside.add(message.footer.end - 1);
  }
  for (const atBytes of [...inside]
    .filter((at) => !boundaries.includes(at))
    .sort((a, b) => a - b)) {
    cut('truncated mid-frame', atBytes);
  }

  const header = bytes.subarray(0, message.headerBytes);
  const tail = message.footer ? bytes.subarray(message.footer.start) : new Uint8Array(0);
  const frameBytesOf = (frame: FrameSpan): Uint8Array => bytes.subarray(frame.start, frame.end);
  const withFrames = (list: readonly FrameSpan[]): Uint8Array =>
    join(header, ...list.map(frameBytesOf), tail);
  const upTo = (index: number): number =>
    frames.slice(0, index).reduce((sum, frame) => sum + frame.plaintextBytes, 0);
  for (let i = 0; i < frames.length; i++) {
    for (let j = i + 1; j < frames.length; j++) {
      const list = [...frames];
      [list[i], list[j]] = [list[j] as FrameSpan, list[i] as FrameSpan];
      cases.push({
        category: 'frames swapped',
        name: `frames ${i + 1} and ${j + 1}`,
        bytes: withFrames(list),
        expected: ['OUT_OF_ORDER'],
        releasableBytes: upTo(i),
      });
    }
  }
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] as FrameSpan;
    const list = [...frames];
    list.splice(i + 1, 0, frame);
    cases.push({
      category: 'frame duplicated',
      name: `frame ${i + 1} twice`,
      bytes: withFrames(list),
      // Signed: what follows the final frame is read as the footer.
      expected: !frame.isFinal
        ? ['OUT_OF_ORDER']
        : message.footer
          ? ['SIGNATURE_MISSING', 'SIGNATURE_INVALID']
          : ['TRAILING_BYTES'],
      releasableBytes: !frame.isFinal
        ? upTo(i + 1)
        : message.footer
          ? upTo(i)
          : message.plaintextBytes,
    });
    const dropped = frames.filter((_, index) => index !== i);
    cases.push({
      category: 'frame dropped',
      name: `frame ${i + 1} dropped`,
      bytes: withFrames(dropped),
      // Signed: the footer then stands where the final frame should.
      expected: !frame.isFinal
        ? ['OUT_OF_ORDER']
        : message.footer
          ? ['OUT_OF_ORDER', 'TRUNCATED']
          : ['TRUNCATED'],
      releasableBytes: upTo(i),
    });
  }
  for (const [name, extra] of [
    ['1 zero byte', new Uint8Array(1)],
    ['16 bytes', new Uint8Array(16).fill(0xa5)],
    ['a copy of the first frame', frameBytesOf(frames[0] as FrameSpan)],
    ['the whole message again', bytes],
  ] as const) {
    cases.push({
      category: 'bytes appended',
      name,
      bytes: join(bytes, extra),
      expected: ['TRAILING_BYTES'],
      releasableBytes: message.plaintextBytes,
    });
  }
  return cases;
}

/**
 * The header with its encryption context replaced by `context` (already serialized, without
 * the length prefix), the rest of the message unchanged: what an attacker without the key can
 * do to re-label an object.
 */
export function withContext(message: Dissected, context: Uint8Array): Uint8Array {
  const lengthField = message.fields.find((field) => field.category === 'header: context length');
  const contextField = message.fields.find(
    (field) => field.category === 'header: encryption context',
  );
  if (!lengthField) throw new Error('no context length');
  const before = message.bytes.subarray(0, lengthField.start);
  const after = message.bytes.subarray(contextField ? contextField.end : lengthField.end);
  return join(before, Uint8Array.of(context.length >> 8, context.length & 0xff), context, after);
}

/** The encryption context stored in the message's header. */
export function contextOf(message: Dissected): Record<string, string> {
  const field = message.fields.find(
    (candidate) => candidate.category === 'header: encryption context',
  );
  const context: Record<string, string> = {};
  if (!field) return context;
  const bytes = message.bytes.subarray(field.start, field.end);
  const decoder = new TextDecoder();
  let at = 2;
  const take = (): string => {
    const lengthBytes = u16At(bytes, at);
    at += 2 + lengthBytes;
    return decoder.decode(bytes.subarray(at - lengthBytes, at));
  };
  for (let pair = u16At(bytes, 0); pair > 0; pair--) {
    const key = take();
    context[key] = take();
  }
  return context;
}

/** Serializes string pairs as the header's context field (sorted by key, no length prefix). */
export function serializeContext(pairs: Readonly<Record<string, string>>): Uint8Array {
  const encoder = new TextEncoder();
  const entries = Object.entries(pairs)
    .map(([key, value]) => [encoder.encode(key), encoder.encode(value)] as const)
    .sort(([a], [b]) => Buffer.compare(a, b));
  if (entries.length === 0) return new Uint8Array(0);
  const u16 = (value: number): Uint8Array => Uint8Array.of(value >> 8, value & 0xff);
  return join(
    u16(entries.length),
    ...entries.flatMap(([key, value]) => [u16(key.length), key, u16(value.length), value]),
  );
}

/** Context re-labelling cases: a value changed (same length), a pair added, a pair removed. */
export function contextCases(message: Dissected): TamperCase[] {
  const context = contextOf(message);
  const [firstKey, firstValue = ''] =
    Object.entries(context).find(([key]) => !key.startsWith('aws-crypto-')) ?? [];
  const variants: [string, Record<string, string>][] = [
    ['a pair added', { ...context, 'veil-extra': '1' }],
  ];
  if (firstKey !== undefined) {
    const last = firstValue.endsWith('x') ? 'y' : 'x';
    variants.push(
      [`"${firstKey}" changed`, { ...context, [firstKey]: `${firstValue.slice(0, -1)}${last}` }],
      [
        `"${firstKey}" removed`,
        Object.fromEntries(Object.entries(context).filter(([key]) => key !== firstKey)),
      ],
    );
  }
  return variants.map(([name, pairs]) => ({
    category: 'encryption context changed' as const,
    name,
    bytes: withContext(message, serializeContext(pairs)),
    expected: ['WRONG_KEY'],
    releasableBytes: 0,
  }));
}

/**
 * The representative matrix (for surfaces where each case is costly, the CLI and the browser):
 * per frame, a flip of the seq, IV, a ciphertext byte and the tag (and the final frame's
 * marker and length); per header field, its first and last byte; and every structural case.
 */
export function representativeCases(message: Dissected, openedEdk = 0): TamperCase[] {
  const cases: TamperCase[] = [];
  for (const field of message.fields) {
    const offsets = new Set([field.start, field.end - 1]);
    for (const offset of offsets) cases.push(bitFlipCase(message, offset, offset % 8, openedEdk));
  }
  for (const frame of message.frames) {
    const head = frame.isFinal ? 4 : 0;
    const offsets = [
      frame.start + head + 3,
      frame.start + head + 15,
      frame.start + head + 20,
      frame.end - 17,
      frame.end - 1,
    ];
    if (frame.isFinal) offsets.push(frame.start, frame.start + 4 + 16 + 3);
    for (const offset of offsets) cases.push(bitFlipCase(message, offset, 1));
  }
  if (message.footer) {
    cases.push(bitFlipCase(message, message.footer.start + 1, 0));
    cases.push(bitFlipCase(message, message.footer.end - 1, 0));
  }
  return [...cases, ...structuralCases(message)];
}

/** Per-category tallies of cases tried and detected (failed with an expected code). */
export class Tally {
  private readonly rows = new Map<
    string,
    { tried: number; detected: number; codes: Set<string> }
  >();

  /** Records one case; `code` is what the surface failed with (undefined: it succeeded). */
  add(category: string, code: string | undefined, expected: readonly string[]): boolean {
    const row = this.rows.get(category) ?? { tried: 0, detected: 0, codes: new Set<string>() };
    row.tried += 1;
    const detected = code !== undefined && expected.includes(code);
    if (detected) row.detected += 1;
    row.codes.add(code ?? 'ACCEPTED');
    this.rows.set(category, row);
    return detected;
  }

  get tried(): number {
    return [...this.rows.values()].reduce((sum, row) => sum + row.tried, 0);
  }

  get detected(): number {
    return [...this.rows.values()].reduce((sum, row) => sum + row.detected, 0);
  }

  /** A table for the console: category, tried, detected, codes seen. */
  format(title: string): string {
    const lines = [...this.rows.entries()].map(
      ([category, row]) =>
        `  ${category.padEnd(32)} ${String(row.tried).padStart(6)} ${String(row.detected).padStart(8)}  ${[...row.codes].sort().join(', ')}`,
    );
    return [
      `${title}: ${this.detected} of ${this.tried} tampered cases detected with the expected code`,
      `  ${'category'.padEnd(32)} ${'tried'.padStart(6)} ${'detected'.padStart(8)}  codes`,
      ...lines,
    ].join('\n');
  }
}
