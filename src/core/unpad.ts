/**
 * Stripping ISO/IEC 7816-4 padding ([Note: size padding] in padding.ts) from a stream of
 * authenticated plaintext, in O(1) memory.
 *
 * [Note: streaming unpad] The padding is the last 0x80 of the stream and the zeros after it, so
 * a reader cannot tell padding from content until the stream ends. It need not hold the bytes
 * back, only count them: after a chunk whose last nonzero byte is 0x80, the stripper keeps a flag
 * (a 0x80 is pending) and the number of zeros after it, and releases nothing of them. When a
 * later chunk holds a nonzero byte, they were content: the 0x80 and the counted zeros are emitted
 * (in bounded chunks made fresh) before that chunk. At the end of the stream they are dropped,
 * and the total is checked against the Padmé length. Padding of 32 MiB (Padmé's bound at 1 GiB)
 * costs a counter, never a buffer: `retainedBytes` is always 0.
 *
 * The stripper sees only what the decrypt pipeline already released, i.e. authenticated bytes.
 * A padded message whose end has no 0x80 (or whose length is not the Padmé length of its
 * content) fails with PADDING_INVALID, and nothing more is released.
 */
import { VeilError, needs } from './errors';
import type { MessageHeader } from './header';
import { PADDING_MARKER, paddedLength, paddingOf } from './padding';

/** Largest chunk of zeros the stripper emits at once when held zeros turn out to be content. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

/** Index of the last nonzero byte of `chunk`, or -1 when it is all zeros. */
function lastNonzero(chunk: Uint8Array): number {
  for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i] !== 0) return i;
  return -1;
}

/** Options of a PaddingStripper. */
export interface StripperOptions {
  /**
   * Bytes of the padded stream before the first one pushed (a resumed download starts there);
   * they are counted as content for the final length check. Default 0.
   */
  readonly skippedBytes?: number;
}

/** Strips ISO/IEC 7816-4 padding while streaming; see [Note: streaming unpad]. */
export class PaddingStripper {
  /** Content bytes emitted so far (with skippedBytes). */
  #contentBytes: number;
  /** A 0x80 is pending: it and `#zeroBytes` zeros after it are withheld. */
  #markerHeld = false;
  #zeroBytes = 0;
  #failed = false;

  constructor(options: StripperOptions = {}) {
    const skipped = options.skippedBytes ?? 0;
    // Precondition: a byte count.
    needs(Number.isSafeInteger(skipped) && skipped >= 0, 'OUT_OF_RANGE', 'skippedBytes');
    this.#contentBytes = skipped;
  }

  /** Bytes the stripper keeps in memory: none, whatever the padding (a count stands for them). */
  get retainedBytes(): number {
    return 0;
  }

  /** Bytes withheld so far as possible padding (the pending 0x80 and the zeros after it). */
  get withheldBytes(): number {
    return this.#markerHeld ? 1 + this.#zeroBytes : 0;
  }

  /**
   * The content in `chunk`, as chunks to emit in order (views of `chunk`, and fresh arrays for
   * withheld bytes that turned out to be content). The caller must not change `chunk` afterwards.
   * @throws VeilError PADDING_INVALID after a failure (the stripper is then spent).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw new VeilError('PADDING_INVALID', 'the stream already failed');
    if (chunk.length === 0) return [];
    const last = lastNonzero(chunk);
    if (last < 0) {
      // All zeros: more possible padding after a pending 0x80; otherwise content.
      if (this.#markerHeld) {
        this.#zeroBytes += chunk.length;
        return [];
      }
      this.#contentBytes += chunk.length;
      return [chunk];
    }
    const out = this.#releaseWithheld();
    const endsWithMarker = chunk[last] === PADDING_MARKER;
    const emitBytes = endsWithMarker ? last : chunk.length;
    if (emitBytes > 0) out.push(chunk.subarray(0, emitBytes));
    this.#contentBytes += emitBytes;
    if (endsWithMarker) {
      this.#markerHeld = true;
      this.#zeroBytes = chunk.length - last - 1;
    }
    return out;
  }

  /**
   * Ends the stream: drops the padding and checks it.
   * @throws VeilError PADDING_INVALID when the stream does not end in 0x80 and zeros, or its
   *   length is not the Padmé length of its content.
   */
  finish(): void {
    if (this.#failed) throw new VeilError('PADDING_INVALID', 'the stream already failed');
    this.#failed = true;
    if (!this.#markerHeld) {
      throw new VeilError('PADDING_INVALID', 'no 0x80 byte before the trailing zeros');
    }
    const totalBytes = this.#contentBytes + 1 + this.#zeroBytes;
    const expected = paddedLength(this.#contentBytes);
    if (totalBytes !== expected) {
      throw new VeilError(
        'PADDING_INVALID',
        `${totalBytes} padded bytes for ${this.#contentBytes} content bytes; expected ${expected}`,
      );
    }
  }

  /** The withheld 0x80 and zeros, which were content after all, as fresh chunks. */
  #releaseWithheld(): Uint8Array[] {
    if (!this.#markerHeld) return [];
    const out: Uint8Array[] = [];
    let rest = 1 + this.#zeroBytes;
    let first = true;
    while (rest > 0) {
      const piece = new Uint8Array(Math.min(rest, ZERO_CHUNK_BYTES));
      if (first) piece[0] = PADDING_MARKER;
      first = false;
      out.push(piece);
      rest -= piece.length;
    }
    this.#contentBytes += 1 + this.#zeroBytes;
    this.#markerHeld = false;
    this.#zeroBytes = 0;
    return out;
  }
}

/**
 * The content of the padded plaintext chunks of `source`, stripped as they stream ([Note:
 * streaming unpad]).
 * @throws VeilError PADDING_INVALID at the end for malformed padding, and `source`'s errors.
 */
export async function* unpadChunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: StripperOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const stripper = new PaddingStripper(options);
  for await (const chunk of source) {
    for (const piece of stripper.push(chunk)) yield piece;
  }
  stripper.finish();
}

/**
 * A TransformStream that strips the padding from padded plaintext ([Note: streaming unpad]);
 * pipe a decrypt stream's output through it.
 */
export function createUnpadStream(
  options: StripperOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const stripper = new PaddingStripper(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const piece of stripper.push(chunk)) controller.enqueue(piece);
    },
    flush() {
      stripper.finish();
    },
  });
}

/** A stream that strips padding only when the message's header marks it. */
export interface HeaderUnpad {
  /** Give it the authenticated header before any plaintext (DecryptOptions.onHeader). */
  readonly onHeader: (header: Pick<MessageHeader, 'encryptionContext'>) => void;
  /** Plaintext in, content out: stripped for a padded message, passed through otherwise. */
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
}

/**
 * A TransformStream after a decrypt stream that strips the padding when the header marks it
 * ([Note: size padding] in padding.ts), and passes other messages through unchanged.
 * @throws (from onHeader) VeilError PADDING_UNKNOWN; (from the stream) PADDING_INVALID, and
 *   INTERNAL_ERROR for plaintext before a header.
 */
export function unpadWhenMarked(): HeaderUnpad {
  let stripper: PaddingStripper | undefined;
  let decided = false;
  return {
    onHeader(header) {
      if (paddingOf(header.encryptionContext) !== undefined) stripper = new PaddingStripper();
      decided = true;
    },
    stream: new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        // Precondition: the header (and so the padding) is known before any plaintext.
        needs(decided, 'INTERNAL_ERROR', 'plaintext before the header');
        if (!stripper) controller.enqueue(chunk);
        else for (const piece of stripper.push(chunk)) controller.enqueue(piece);
      },
      flush() {
        stripper?.finish();
      },
    }),
  };
}
