/**
 * [Note: plaintext size from the header] Files shows what a file holds, not what S3 stores. An
 * ESDK message is its header, then the body: for framed content, regular frames of F + 32 bytes
 * and a final frame of L + 40 bytes. The object size (from the listing), the header's length
 * and its frame length F tell the plaintext size exactly, in either final-frame form ([Note:
 * layout from the size] in core/sizes.ts). So the badge probe ([Note: badges without the body]
 * in badges.ts) reads the first FIRST_HEADER_BYTES of an encrypted object, more when the header
 * is longer, parses it (nothing is decrypted: the header's tag is not checked, so the figure
 * is what the header claims, as the layout the download plans from) and derives the size.
 * The size alone does not catch a cut: most sizes fit some layout (only a final frame that would
 * fall in the 31 bytes between F and F + 32 does not), so a message cut short by a few bytes
 * would read as a smaller file. So the probe also reads the 24 bytes where the layout puts the
 * final frame (from the bytes at hand for a small object, else one more ranged GET) and checks
 * them as the download does (finalFrameMatches in download-plan.ts): the final-frame marker,
 * the seq of the last frame and the final frame's length.
 * What it cannot tell exactly it says is unknown, never a wrong number:
 * - no layout has the object's size, or the final frame is not where the layout puts it: a
 *   cut, extended or foreign message ('cut');
 * - a signed suite (0x0578): its footer holds a DER signature of varying length, so the size
 *   alone does not fix the body ('signed');
 * - the first bytes look like an ESDK message but do not parse ('unreadable');
 * - the ranged GET reports another total size than the listing: the object changed ('changed').
 * Plain objects hold their bytes as they are: their size is the object size.
 */
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  VeilError,
  layoutFromCiphertextSize,
  readFrameHeader,
  serializedFrameBytes,
  tryParseHeader,
  type MessageHeader,
} from '../../core';
import type { FilesS3 } from '../../aws/bucket-s3';
import type { BadgeState } from './badges';
import { nextHeaderRange } from '../../transfer/download-plan';
import { FIRST_HEADER_BYTES } from '../../transfer/download-setup';

/** Why a plaintext size is not known; see [Note: plaintext size from the header]. */
export type UnknownSizeReason = 'cut' | 'signed' | 'unreadable' | 'changed';

/** The plaintext size of an object, or why it is not known. */
export type PlaintextSize =
  | { readonly kind: 'exact'; readonly plaintextBytes: number }
  | { readonly kind: 'unknown'; readonly reason: UnknownSizeReason };

/**
 * Reads bytes [startBytes, endBytes) of the object `key` (a ranged GET).
 * @throws the S3 client's errors.
 */
export type ReadRange = (
  key: string,
  startBytes: number,
  endBytes: number,
  signal?: AbortSignal,
) => Promise<Uint8Array>;

/** What the size probe calls on S3: the first bytes, and a range for the final frame. */
export interface SizeS3 extends Pick<FilesS3, 'firstBytes'> {
  readonly range: ReadRange;
}

/** The final frame's fields: marker, seq, IV and length (4 + 4 + 12 + 4 bytes). */
export const FINAL_FRAME_FIELDS_BYTES = 24;

/** The signed suite, whose footer's length varies with its DER signature. */
const SIGNED_SUITE_ID = 0x0578;
/** A non-framed body: IV (12 bytes), content length (u64), ciphertext, tag (16 bytes). */
const NON_FRAMED_IV_BYTES = 12;
const NON_FRAMED_LENGTH_BYTES = 8;
const NON_FRAMED_TAG_BYTES = 16;

const exact = (plaintextBytes: number): PlaintextSize => ({ kind: 'exact', plaintextBytes });
const unknown = (reason: UnknownSizeReason): PlaintextSize => ({ kind: 'unknown', reason });

/**
 * The plaintext size of an ESDK message of `objectBytes` whose header is `header`;
 * `firstBytes` (the object's first bytes, when at hand) lets a non-framed body's length field
 * be checked. See [Note: plaintext size from the header].
 */
export function plaintextSizeFromHeader(
  objectBytes: number,
  header: MessageHeader,
  firstBytes?: Uint8Array,
): PlaintextSize {
  if (!Number.isSafeInteger(objectBytes) || objectBytes < 0) return unknown('cut');
  if (header.suiteId === SIGNED_SUITE_ID) return unknown('signed');
  if (header.contentType === 'non-framed') {
    const plaintextBytes =
      objectBytes -
      header.headerBytes -
      NON_FRAMED_IV_BYTES -
      NON_FRAMED_LENGTH_BYTES -
      NON_FRAMED_TAG_BYTES;
    if (plaintextBytes < 0) return unknown('cut');
    const at = header.headerBytes + NON_FRAMED_IV_BYTES;
    if (firstBytes && firstBytes.length >= at + NON_FRAMED_LENGTH_BYTES) {
      const view = new DataView(firstBytes.buffer, firstBytes.byteOffset + at, 8);
      if (view.getBigUint64(0) !== BigInt(plaintextBytes)) return unknown('cut');
    }
    return exact(plaintextBytes);
  }
  const layout = layoutFromCiphertextSize(objectBytes, header.frameBytes, header.headerBytes);
  return layout ? exact(layout.plaintextBytes) : unknown('cut');
}

/**
 * Where the final frame's fields sit in a framed message of `objectBytes` with `header`, and
 * what they must say; undefined for a non-framed message or a size no layout fits.
 */
export function finalFrameAt(
  objectBytes: number,
  header: MessageHeader,
):
  | { readonly offsetBytes: number; readonly seq: number; readonly plaintextBytes: number }
  | undefined {
  if (header.contentType !== 'framed') return undefined;
  const layout = layoutFromCiphertextSize(objectBytes, header.frameBytes, header.headerBytes);
  if (!layout) return undefined;
  return {
    offsetBytes: objectBytes - serializedFrameBytes(layout.finalFramePlaintextBytes, true),
    seq: layout.frameCount,
    plaintextBytes: layout.finalFramePlaintextBytes,
  };
}

/** Whether `fields` (the bytes at the final frame's offset) are that final frame's fields. */
export function finalFrameFieldsMatch(
  fields: Uint8Array,
  frameBytes: number,
  expected: { readonly seq: number; readonly plaintextBytes: number },
): boolean {
  if (fields.length < FINAL_FRAME_FIELDS_BYTES) return false;
  const head = readFrameHeader(fields, 0, frameBytes);
  return (
    head !== undefined &&
    head.isFinal &&
    head.seq === expected.seq &&
    head.plaintextBytes === expected.plaintextBytes
  );
}

/**
 * Reads the header of the ESDK object `key` of `objectBytes`, starting from `first` (its first
 * bytes, already fetched), fetching longer ranges from the start while the header needs more
 * (nextHeaderRange), derives its plaintext size and checks the final frame is where the layout
 * puts it.
 * @throws the S3 client's errors (the caller shows the row as unknown).
 */
export async function plaintextSizeOfEsdk(
  s3: SizeS3,
  key: string,
  objectBytes: number,
  first: Uint8Array,
  signal?: AbortSignal,
): Promise<PlaintextSize> {
  let bytes = first;
  for (;;) {
    let parsed: ReturnType<typeof tryParseHeader>;
    try {
      parsed = tryParseHeader(bytes, {
        maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      });
    } catch (error) {
      if (error instanceof VeilError) return unknown('unreadable');
      throw error;
    }
    if ('header' in parsed) {
      const size = plaintextSizeFromHeader(objectBytes, parsed.header, bytes);
      const final = finalFrameAt(objectBytes, parsed.header);
      if (size.kind !== 'exact' || !final) return size;
      const endBytes = final.offsetBytes + FINAL_FRAME_FIELDS_BYTES;
      const fields =
        endBytes <= bytes.length
          ? bytes.subarray(final.offsetBytes, endBytes)
          : await s3.range(key, final.offsetBytes, endBytes, signal);
      return finalFrameFieldsMatch(fields, parsed.header.frameBytes, final) ? size : unknown('cut');
    }
    // The header runs past the object's end: a cut message.
    if (bytes.length >= objectBytes || parsed.needBytes > objectBytes) return unknown('cut');
    const countBytes = nextHeaderRange(bytes.length, parsed.needBytes, objectBytes);
    const more = await s3.firstBytes(key, countBytes, signal);
    if (more.bytes.length <= bytes.length) return unknown('cut');
    bytes = more.bytes;
  }
}

/** Bytes of the first ranged GET of a probe: enough for most headers, never past the end. */
export function firstRangeBytes(objectBytes: number): number {
  return Math.min(FIRST_HEADER_BYTES, objectBytes);
}

/** What the size cell of a file row shows. */
export type SizeCell =
  | { readonly state: 'pending' }
  | { readonly state: 'exact'; readonly plaintextBytes: number }
  | { readonly state: 'unknown'; readonly why: string };

const UNKNOWN_WHY: Record<UnknownSizeReason | 'failed', string> = {
  cut: 'The stored object does not have the size of a whole encrypted file: it may be cut short or not written by Veil.',
  signed: 'A signed message: its size alone does not tell the file size.',
  unreadable: 'The start of the object looks encrypted but its header cannot be read.',
  changed: 'The object changed since the folder was listed: refresh.',
  failed: 'The object could not be read to learn its size.',
};

/**
 * The size cell of a row whose probe is `probe` (undefined: not asked yet): pending until the
 * probe ends, then the plaintext size, or unknown with the reason. Never the stored size of an
 * encrypted object.
 */
export function sizeCellOf(probe: BadgeState | undefined): SizeCell {
  if (probe === undefined || probe.state === 'pending') return { state: 'pending' };
  if (probe.state === 'failed') return { state: 'unknown', why: UNKNOWN_WHY.failed };
  return probe.size.kind === 'exact'
    ? { state: 'exact', plaintextBytes: probe.size.plaintextBytes }
    : { state: 'unknown', why: UNKNOWN_WHY[probe.size.reason] };
}

/** The plaintext size a probe learned, when exact (what sorting by size uses). */
export function knownPlaintextBytes(probe: BadgeState | undefined): number | undefined {
  return probe?.state === 'known' && probe.size.kind === 'exact'
    ? probe.size.plaintextBytes
    : undefined;
}
