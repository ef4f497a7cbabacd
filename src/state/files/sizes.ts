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
 * - a signed suite (0x0578), what the official ESDKs write by default: its footer is a u16
 *   length and a DER ECDSA P-384 signature of varying length (at most 104 bytes), so the probe
 *   reads the last 106 bytes and looks for the one footer that fits (the length, then a DER
 *   SEQUENCE of that length, a layout and the final frame before it); none or several is
 *   'signed';
 * - the first bytes look like an ESDK message but do not parse ('unreadable');
 * - the ranged GET reports another total size than the listing: the object changed ('changed').
 * Plain objects hold their bytes as they are: their size is the object size.
 *
 * A padded message ([Note: size padding] in core/padding.ts) tells only its padded length P:
 * the file's own size is known only by decrypting the last frames, which a listing must not do.
 * Its size is shown as an upper bound, 'at-most' P - 1 (P holds the file and at least the 0x80
 * byte), never as an exact figure.
 */
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  DEFAULT_MAX_FRAME_BYTES,
  VeilError,
  layoutFromCiphertextSize,
  paddingOf,
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
  /** A padded message: the file is at most `plaintextBytes` long. */
  | { readonly kind: 'at-most'; readonly plaintextBytes: number }
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
/** Longest DER ECDSA P-384 signature: SEQUENCE of two INTEGERs of up to 49 bytes. */
const MAX_SIGNATURE_BYTES = 104;
/** Shortest signature looked for (a SEQUENCE of two one-byte INTEGERs). */
const MIN_SIGNATURE_BYTES = 8;
/** Longest footer: the u16 length and the signature. */
export const MAX_FOOTER_BYTES = 2 + MAX_SIGNATURE_BYTES;

/**
 * The footer lengths (2 + signature bytes) that `tail`, the last bytes of a signed message, can
 * end with: a u16 signature length s, then a DER SEQUENCE (0x30) whose length byte is s - 2.
 */
export function footerCandidates(tail: Uint8Array): number[] {
  const found: number[] = [];
  for (let sigBytes = MIN_SIGNATURE_BYTES; sigBytes <= MAX_SIGNATURE_BYTES; sigBytes += 1) {
    const at = tail.length - 2 - sigBytes;
    if (at < 0) break;
    const length = ((tail[at] ?? 0) << 8) | (tail[at + 1] ?? 0);
    if (length === sigBytes && tail[at + 2] === 0x30 && tail[at + 3] === sigBytes - 2) {
      found.push(2 + sigBytes);
    }
  }
  return found;
}
/** A non-framed body: IV (12 bytes), content length (u64), ciphertext, tag (16 bytes). */
const NON_FRAMED_IV_BYTES = 12;
const NON_FRAMED_LENGTH_BYTES = 8;
const NON_FRAMED_TAG_BYTES = 16;

const exact = (plaintextBytes: number): PlaintextSize => ({ kind: 'exact', plaintextBytes });
const unknown = (reason: UnknownSizeReason): PlaintextSize => ({ kind: 'unknown', reason });

/**
 * The plaintext size of an ESDK message of `objectBytes` whose header is `header`, without a
 * footer (for a signed message, pass the bytes before its footer); `firstBytes` (the object's
 * first bytes, when at hand) lets a non-framed body's length field be checked. See [Note:
 * plaintext size from the header].
 */
export function plaintextSizeFromHeader(
  objectBytes: number,
  header: MessageHeader,
  firstBytes?: Uint8Array,
): PlaintextSize {
  if (!Number.isSafeInteger(objectBytes) || objectBytes < 0) return unknown('cut');
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
      const header = parsed.header;
      const at = bytes;
      const read = (startBytes: number, endBytes: number): Promise<Uint8Array> =>
        endBytes <= at.length
          ? Promise.resolve(at.subarray(startBytes, endBytes))
          : s3.range(key, startBytes, endBytes, signal);
      if (header.suiteId !== SIGNED_SUITE_ID) {
        return checkedSize(objectBytes, header, at, read);
      }
      const tailBytes = Math.min(objectBytes, MAX_FOOTER_BYTES);
      const tail = await read(objectBytes - tailBytes, objectBytes);
      const fits: PlaintextSize[] = [];
      for (const footerBytes of footerCandidates(tail)) {
        const size = await checkedSize(objectBytes - footerBytes, header, at, read);
        if (size.kind === 'exact') fits.push(size);
      }
      return fits.length === 1 && fits[0] ? fits[0] : unknown('signed');
    }
    // The header runs past the object's end: a cut message.
    if (bytes.length >= objectBytes || parsed.needBytes > objectBytes) return unknown('cut');
    const countBytes = nextHeaderRange(bytes.length, parsed.needBytes, objectBytes);
    const more = await s3.firstBytes(key, countBytes, signal);
    if (more.bytes.length <= bytes.length) return unknown('cut');
    bytes = more.bytes;
  }
}

/**
 * The plaintext size of a message whose body ends at `bodyEndBytes`, with its final frame
 * checked where the layout puts it (read through `read`).
 */
async function checkedSize(
  bodyEndBytes: number,
  header: MessageHeader,
  firstBytes: Uint8Array,
  read: (startBytes: number, endBytes: number) => Promise<Uint8Array>,
): Promise<PlaintextSize> {
  const size = plaintextSizeFromHeader(bodyEndBytes, header, firstBytes);
  const final = finalFrameAt(bodyEndBytes, header);
  if (size.kind !== 'exact' || !final) return size;
  const fields = await read(final.offsetBytes, final.offsetBytes + FINAL_FRAME_FIELDS_BYTES);
  return finalFrameFieldsMatch(fields, header.frameBytes, final)
    ? boundIfPadded(size, header)
    : unknown('cut');
}

/**
 * `size` as an upper bound when `header` marks padding (any scheme, also one this version does
 * not know: the padding follows the file, so the file is shorter than the padded plaintext).
 */
export function boundIfPadded(size: PlaintextSize, header: MessageHeader): PlaintextSize {
  if (size.kind !== 'exact') return size;
  let padded: boolean;
  try {
    padded = paddingOf(header.encryptionContext) !== undefined;
  } catch {
    padded = true;
  }
  if (!padded) return size;
  // A padded plaintext holds at least the 0x80 byte.
  return size.plaintextBytes < 1
    ? unknown('cut')
    : { kind: 'at-most', plaintextBytes: size.plaintextBytes - 1 };
}

/** Bytes of the first ranged GET of a probe: enough for most headers, never past the end. */
export function firstRangeBytes(objectBytes: number): number {
  return Math.min(FIRST_HEADER_BYTES, objectBytes);
}

/** What the size cell of a file row shows. */
export type SizeCell =
  | { readonly state: 'pending' }
  | { readonly state: 'exact'; readonly plaintextBytes: number }
  /** A padded file: at most `plaintextBytes` long. */
  | { readonly state: 'at-most'; readonly plaintextBytes: number }
  | { readonly state: 'unknown'; readonly why: string };

const UNKNOWN_WHY: Record<UnknownSizeReason | 'failed', string> = {
  cut: 'The stored object does not have the size of a whole encrypted file: it may be cut short or not written by Veil.',
  signed:
    'A signed message whose signature is not where its size says: it may be cut short or not written by an ESDK.',
  unreadable: 'The start of the object looks encrypted but its header cannot be read.',
  changed: 'The object changed since the folder was listed: refresh.',
  failed: 'The object could not be read to learn its size.',
};

/**
 * The size cell of a row whose probe is `probe` (undefined: not asked yet): pending until the
 * probe ends, then the plaintext size, or unknown with the reason. Never the stored size of an
 * encrypted object: until the probe answers the view shows a quiet "…" rather than the stored
 * size greyed, since that figure is not the file's (a 10-byte file is stored in a few hundred
 * bytes) and would change under the reader's eyes; the probe is one HEAD and one small ranged
 * GET for the rows on screen, so the wait is short, and the column keeps its width.
 */
export function sizeCellOf(probe: BadgeState | undefined): SizeCell {
  if (probe === undefined || probe.state === 'pending') return { state: 'pending' };
  if (probe.state === 'failed') return { state: 'unknown', why: UNKNOWN_WHY.failed };
  const size = probe.size;
  if (size.kind === 'unknown') return { state: 'unknown', why: UNKNOWN_WHY[size.reason] };
  return { state: size.kind, plaintextBytes: size.plaintextBytes };
}

/**
 * The plaintext size a probe learned, when exact, or the bound of a padded file (what sorting
 * by size uses).
 */
export function knownPlaintextBytes(probe: BadgeState | undefined): number | undefined {
  return probe?.state === 'known' && probe.size.kind !== 'unknown'
    ? probe.size.plaintextBytes
    : undefined;
}

/** The words for a padded file's size, for a title or a screen reader. */
export const PADDED_SIZE_WHY =
  'The file’s size is padded (Padmé), so its exact size is known only when it is opened: it is at most this size.';
