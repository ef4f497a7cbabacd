/**
 * [Note: size padding] An ESDK message shows the plaintext size to anyone who can read the
 * object: the header, every EDK and each frame's length are in clear, and the final frame states
 * its content length in clear (FORMAT.md 5). Bytes added outside the encrypted content (extra
 * header bytes, bytes after the message) would be stripped by anyone who parses the message, so
 * they hide nothing. Padding therefore goes inside the content: the plaintext is padded before
 * encryption.
 *
 * - Size: the padded length is Padmé(L + 1) (Nikitin et al., "Reducing Metadata Leakage from
 *   Encrypted Files and Communication with PURBs", PETS 2019), where L is the file's length and
 *   the 1 is room for the marker byte. Padmé keeps the top O(log log L) bits of a length and
 *   rounds the rest up: at most about 12% more bytes, far less on average (bench/padding.ts).
 * - Bytes: ISO/IEC 7816-4: one 0x80 byte, then zero bytes up to the padded length. It is
 *   unambiguous: the padding starts at the last 0x80 of the content, and everything after it is
 *   zero. Anyone can strip it (README "Size padding" has a one-line command).
 * - Marker: the encryption context carries `veil-padding: padme`. The context is authenticated
 *   by the header tag (and bound into every key wrap), so it cannot be removed or changed
 *   without the data key; it says only that padding is on, never the size.
 *
 * Official ESDK readers (client-node, the AWS Encryption CLI) output the plaintext followed by
 * the padding; Veil's readers strip it while streaming (unpad.ts) and refuse malformed padding
 * with PADDING_INVALID. Rewrap, move and rename keep the context and the body, so padding
 * survives them.
 */
import type { EncryptionContext } from './encryption-context';
import { quoteUntrusted } from './untrusted-text';
import { VeilError, needs } from './errors';

/** The encryption context key that marks a padded message. */
export const PADDING_CONTEXT_KEY = 'veil-padding';

/** The padding schemes Veil writes and reads. */
export type PaddingScheme = 'padme';

/** Every scheme, as written in the context and given to `veil cp --pad`. */
export const PADDING_SCHEMES: readonly PaddingScheme[] = ['padme'];

/** The byte that starts the padding (ISO/IEC 7816-4). */
export const PADDING_MARKER = 0x80;

/** floor(log2(n)) for a positive safe integer, exact (no floating-point rounding at 2^k - 1). */
function floorLog2(n: number): number {
  let e = Math.floor(Math.log2(n));
  if (2 ** e > n) e -= 1;
  if (2 ** (e + 1) <= n) e += 1;
  return e;
}

/**
 * The Padmé length of `lengthBytes`: with E = floor(log2 L) and S = floor(log2 E) + 1, L
 * rounded up to a multiple of 2^(E - S). Never smaller than L; equal to L when L < 2 or L is
 * already such a multiple.
 * @throws VeilError OUT_OF_RANGE for a negative, fractional or unsafe length.
 */
export function padme(lengthBytes: number): number {
  // Precondition: a byte count.
  needs(
    Number.isSafeInteger(lengthBytes) && lengthBytes >= 0,
    'OUT_OF_RANGE',
    'lengthBytes: a non-negative safe integer',
  );
  if (lengthBytes < 2) return lengthBytes;
  const e = floorLog2(lengthBytes);
  const s = floorLog2(e) + 1;
  const lastBits = Math.max(0, e - s);
  const step = 2 ** lastBits;
  return Math.ceil(lengthBytes / step) * step;
}

/**
 * The plaintext length of a padded message whose content is `plaintextBytes` long: Padmé of the
 * content plus the 0x80 marker. Always at least plaintextBytes + 1.
 * @throws VeilError OUT_OF_RANGE as padme.
 */
export function paddedLength(plaintextBytes: number): number {
  // Precondition: a byte count (checked again by padme).
  needs(
    Number.isSafeInteger(plaintextBytes) && plaintextBytes >= 0,
    'OUT_OF_RANGE',
    'plaintextBytes',
  );
  return padme(plaintextBytes + 1);
}

/**
 * The padding scheme `context` marks, or undefined when the message is not padded.
 * @throws VeilError PADDING_UNKNOWN for a `veil-padding` value Veil does not know.
 */
export function paddingOf(context: EncryptionContext | undefined): PaddingScheme | undefined {
  if (!context || !Object.hasOwn(context, PADDING_CONTEXT_KEY)) return undefined;
  const value = context[PADDING_CONTEXT_KEY];
  if (value === 'padme') return value;
  throw new VeilError(
    'PADDING_UNKNOWN',
    `${PADDING_CONTEXT_KEY}: ${quoteUntrusted(String(value))}`,
  );
}

/**
 * `context` with the padding marker of `scheme` (a copy; `context` itself is unchanged), or
 * `context` as it is when `scheme` is undefined.
 * @throws VeilError BAD_ARGUMENT for an unknown scheme.
 */
export function withPadding(
  context: EncryptionContext,
  scheme: PaddingScheme | undefined,
): EncryptionContext {
  if (scheme === undefined) return context;
  // Precondition: a scheme Veil writes.
  needs(PADDING_SCHEMES.includes(scheme), 'BAD_ARGUMENT', 'padding scheme');
  return { ...context, [PADDING_CONTEXT_KEY]: scheme };
}

/**
 * The padding bytes for content of `plaintextBytes`: 0x80 then zeros, so that content ‖ padding
 * is paddedLength(plaintextBytes) long. For tests and small messages; uploads build the same
 * bytes lazily (transfer/padded-source.ts) and never hold them whole.
 * @throws VeilError OUT_OF_RANGE as paddedLength.
 */
export function paddingBytes(plaintextBytes: number): Uint8Array {
  const padding = new Uint8Array(paddedLength(plaintextBytes) - plaintextBytes);
  padding[0] = PADDING_MARKER;
  return padding;
}
