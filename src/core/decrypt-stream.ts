/**
 * Streaming decryption of ESDK v2 messages (suites 0x0478 and 0x0578, framed and non-framed) as
 * a WHATWG TransformStream: ciphertext chunks in, plaintext out. Every check of FORMAT.md
 * section 9 applies, plus stricter ones: canonical frame IVs, no trailing bytes, a maximum EDK
 * count, and bounded frame and non-framed sizes (so memory stays bounded by one frame).
 *
 * A frame's plaintext is released only after its tag verifies, and in order; frames at hand are
 * decrypted concurrently (see [Note: frames in flight]). For 0x0578 see [Note: signed release].
 *
 * [Note: signed release] The 0x0578 signature covers the whole message and is checked at the
 * footer. As the ESDK spec (client-apis/decrypt.md) requires, regular frames are released as
 * their tags verify, but the final frame's plaintext and a non-framed body are held back until
 * the signature verifies; on a bad signature they are dropped (zeroed) unseen and the stream
 * errors. So a truncation or signature forgery can never hand out the end of the plaintext.
 */
import { ByteQueue } from './byte-queue';
import { readU16, readU32, readU64 } from './bytes';
import { VeilError, needs } from './errors';
import { bodyAad, decryptFrame, isCanonicalIv, openSealed } from './frame';
import type { MessageHeader } from './header';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_FRAME_BYTES, tryParseHeader } from './header';
import type { OpenOptions } from './message';
import { checkLocation, type BindingRule, type ObjectLocation } from './location';
import { openMessageKeys } from './message';
import type { SignatureVerifier } from './signature';
import { FINAL_FRAME_MARKER, committingSuite } from './suites';

/** Options of a decryption. */
export interface DecryptOptions extends Omit<OpenOptions, 'allowUnverifiedSignature'> {
  /** Most EDKs accepted in a header; default 16. */
  readonly maxEncryptedDataKeys?: number;
  /** Largest frame length accepted, in bytes; default 64 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * Largest non-framed body accepted, in bytes, at most 2^36 - 32 (the format's limit); default
   * 64 MiB (it is held in memory until its tag verifies).
   */
  readonly maxNonFramedBytes?: number;
  /**
   * Accept frame IVs other than the canonical 00x8 || u32 seq. Off by default: Veil and current
   * ESDKs write canonical IVs, and the ESDK spec requires them on encrypt (client-node does not
   * check them on decrypt; some js-v2-compat vectors use IV = FFx8 || seq).
   */
  readonly allowNonCanonicalIv?: boolean;
  /** Called once with the header, after it was authenticated and before any plaintext. */
  readonly onHeader?: (header: MessageHeader) => void;
  /**
   * Frames decrypted concurrently within the bytes at hand, released in order; default 2 (lets
   * WebCrypto use a second core). 1 decrypts strictly one frame after the other.
   */
  readonly framesInFlight?: number;
  /**
   * Where the message was read from: its binding is checked right after the header opens, before
   * any plaintext ([Note: location binding] in location.ts). Absent: not checked.
   */
  readonly location?: ExpectedLocation;
}

/** Where a reader expects a message to be bound, and how strictly. */
export interface ExpectedLocation {
  readonly expected: ObjectLocation;
  readonly rule: BindingRule;
}

/** Frames in flight unless told otherwise. */
export const DEFAULT_FRAMES_IN_FLIGHT = 2;

/** Largest non-framed body a reader accepts unless told otherwise (64 MiB). */
export const DEFAULT_MAX_NON_FRAMED_BYTES = 64 * 1024 * 1024;
/** The format's own limit on a non-framed body, 2^36 - 32 bytes (AES-GCM's limit). */
const FORMAT_MAX_NON_FRAMED_BYTES = 2 ** 36 - 32;

type Phase = 'header' | 'body' | 'footer' | 'done';

/** The decryptor's state machine; `push` and `finish` are called in order by the stream. */
class Decryptor {
  private readonly queue = new ByteQueue();
  private phase: Phase = 'header';
  private header: MessageHeader | undefined;
  private contentKey: CryptoKey | undefined;
  private verifier: SignatureVerifier | undefined;
  private nextSeq = 1;
  /** Plaintext of a signed message's final frame or non-framed body, until the footer verifies. */
  private heldBack: Uint8Array | undefined;
  /** Bytes the header parser needs before it is worth trying again. */
  private headerNeedBytes = 1;
  private readonly maxEncryptedDataKeys: number;
  private readonly maxFrameBytes: number;
  private readonly maxNonFramedBytes: number;
  private readonly framesInFlight: number;

  constructor(private readonly options: DecryptOptions) {
    this.framesInFlight = options.framesInFlight ?? DEFAULT_FRAMES_IN_FLIGHT;
    this.maxEncryptedDataKeys = options.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxNonFramedBytes = options.maxNonFramedBytes ?? DEFAULT_MAX_NON_FRAMED_BYTES;
  }

  async push(chunk: Uint8Array, emit: (plaintext: Uint8Array) => void): Promise<void> {
    // Precondition: the stream carries bytes.
    needs(chunk instanceof Uint8Array, 'BAD_ARGUMENT', 'a ciphertext chunk is not a Uint8Array');
    this.queue.push(chunk);
    // [Note: frames in flight] Frames whose bytes are all here start decrypting at once (up to
    // framesInFlight), and their plaintext is emitted strictly in order, each only after its own
    // tag and every earlier one verified. A failure stops emission at that frame; frames started
    // after it are dropped unseen. Nothing stays in flight when push returns.
    // A signed message's final frame resolves to undefined: its plaintext waits in heldBack.
    const inFlight: Promise<Uint8Array | undefined>[] = [];
    const drain = async (keep: number): Promise<void> => {
      while (inFlight.length > keep) {
        const plaintext = await inFlight.shift();
        if (plaintext) emit(plaintext);
      }
    };
    for (;;) {
      if (this.phase === 'body' && this.header?.contentType === 'framed') {
        let started: Promise<Uint8Array | undefined> | undefined;
        try {
          started = this.startFrame();
        } catch (error) {
          await drain(0); // release the good frames before this one, as a sequential reader would
          throw error;
        }
        if (!started) break;
        started.catch(() => undefined); // rejections are rethrown in order by drain
        inFlight.push(started);
        await drain(this.framesInFlight - 1);
        continue;
      }
      await drain(0);
      if (!(await this.step(emit))) break;
    }
    await drain(0);
  }

  finish(): void {
    this.heldBack?.fill(0);
    this.heldBack = undefined;
    // A signed message cut after its final frame lacks only its signature: say so.
    if (this.phase === 'footer') throw new VeilError('SIGNATURE_MISSING');
    if (this.phase !== 'done') {
      throw new VeilError('TRUNCATED', this.phase === 'header' ? 'in the header' : undefined);
    }
  }

  /** Consumes one unit (header, frame, footer) if it is complete; false when waiting. */
  private async step(emit: (plaintext: Uint8Array) => void): Promise<boolean> {
    switch (this.phase) {
      case 'header':
        return this.readHeader();
      case 'body':
        return this.readNonFramed(emit);
      case 'footer':
        return this.readFooter(emit);
      case 'done':
        if (this.queue.lengthBytes > 0) {
          throw new VeilError('TRAILING_BYTES', `${this.queue.lengthBytes} bytes`);
        }
        return false;
    }
  }

  private async readHeader(): Promise<boolean> {
    // Parse again only once the field that was missing can be complete (linear, not quadratic,
    // in the header size however the input is chunked).
    if (this.queue.lengthBytes < this.headerNeedBytes) return false;
    const buffered = this.queue.peek(this.queue.lengthBytes) ?? new Uint8Array(0);
    const parsed = tryParseHeader(buffered, {
      maxEncryptedDataKeys: this.maxEncryptedDataKeys,
      maxFrameBytes: this.maxFrameBytes,
    });
    if ('needBytes' in parsed) {
      this.headerNeedBytes = Math.max(parsed.needBytes, 1);
      return false;
    }
    const header = parsed.header;
    const headerBytes = this.queue.take(header.headerBytes);
    if (committingSuite(header.suiteId).signed) {
      // P-384 is fetched only for a signed message, which Veil never writes ([Note: lazy seams]).
      const { SignatureVerifier } = await import('./signature');
      this.verifier = new SignatureVerifier(header.encryptionContext);
      this.verifier.update(headerBytes);
    }
    // The stream checks the signature itself, at the footer ([Note: signed release]).
    const opened = await openMessageKeys(header, {
      keyring: this.options.keyring,
      reproducedContext: this.options.reproducedContext,
      allowUnverifiedSignature: true,
    });
    const location = this.options.location;
    if (location) await checkLocation(header, opened.locationKey, location.expected, location.rule);
    this.contentKey = opened.contentKey;
    this.header = header;
    this.phase = 'body';
    this.options.onHeader?.(header);
    return true;
  }

  /**
   * Checks the next frame's framing and starts its decryption once all its bytes are queued;
   * undefined while waiting. Order, IV and length checks are synchronous and in order. The
   * final frame of a signed message resolves to undefined, its plaintext kept in heldBack.
   */
  private startFrame(): Promise<Uint8Array | undefined> | undefined {
    const header = this.header;
    const contentKey = this.contentKey;
    if (!header || !contentKey) throw new VeilError('MALFORMED');
    const first = this.queue.peek(4);
    if (!first) return undefined;
    const isFinal = readU32(first, 0) === FINAL_FRAME_MARKER;
    const headBytes = isFinal ? 4 : 0;
    // Check seq and IV as soon as they arrive, before waiting for the frame's content.
    const prefix = this.queue.peek(headBytes + 16 + (isFinal ? 4 : 0));
    if (!prefix) return undefined;
    const storedSeq = readU32(prefix, headBytes);
    if (storedSeq !== this.nextSeq) {
      throw new VeilError('OUT_OF_ORDER', `frame ${storedSeq} where ${this.nextSeq} was expected`);
    }
    const iv = prefix.subarray(headBytes + 4, headBytes + 16);
    if (!this.options.allowNonCanonicalIv && !isCanonicalIv(iv, storedSeq)) {
      throw new VeilError('NON_CANONICAL_IV', `frame ${storedSeq}`);
    }
    let plaintextBytes = header.frameBytes;
    if (isFinal) {
      plaintextBytes = readU32(prefix, headBytes + 16);
      if (plaintextBytes > header.frameBytes) {
        throw new VeilError('MALFORMED', 'final frame longer than the frame length');
      }
    }
    const frameBytesTotal = prefix.length + plaintextBytes + 16;
    if (this.queue.lengthBytes < frameBytesTotal) return undefined;
    const frame = this.queue.take(frameBytesTotal);
    this.verifier?.update(frame);
    const decrypted = decryptFrame({
      contentKey,
      messageId: header.messageId,
      seq: this.nextSeq,
      isFinal,
      frame,
      frameBytes: header.frameBytes,
      allowNonCanonicalIv: this.options.allowNonCanonicalIv,
    });
    this.nextSeq += 1;
    if (isFinal) this.phase = this.verifier ? 'footer' : 'done';
    if (isFinal && this.verifier) {
      return decrypted.then((plaintext) => {
        this.heldBack = plaintext;
        return undefined;
      });
    }
    return decrypted;
  }

  private async readNonFramed(emit: (plaintext: Uint8Array) => void): Promise<boolean> {
    const header = this.header;
    const contentKey = this.contentKey;
    if (!header || !contentKey) throw new VeilError('MALFORMED');
    const prefix = this.queue.peek(12 + 8);
    if (!prefix) return false;
    const iv = prefix.subarray(0, 12);
    if (!this.options.allowNonCanonicalIv && !isCanonicalIv(iv, 1))
      throw new VeilError('NON_CANONICAL_IV', 'non-framed body');
    const contentBytes = readU64(prefix, 12);
    if (contentBytes > this.maxNonFramedBytes) {
      throw new VeilError(
        'NON_FRAMED_TOO_LARGE',
        `${contentBytes} > ${this.maxNonFramedBytes} bytes`,
      );
    }
    if (this.queue.lengthBytes < 20 + contentBytes + 16) return false;
    const body = this.queue.take(20 + contentBytes + 16);
    this.verifier?.update(body);
    const aad = bodyAad(header.messageId, 'singleBlock', 1, contentBytes);
    const plaintext = await openSealed(contentKey, body.slice(0, 12), aad, body.subarray(20));
    if (this.verifier) {
      this.heldBack = plaintext; // [Note: signed release]
      this.phase = 'footer';
    } else {
      emit(plaintext);
      this.phase = 'done';
    }
    return true;
  }

  /** Checks the signature, then releases the held-back plaintext ([Note: signed release]). */
  private readFooter(emit: (plaintext: Uint8Array) => void): boolean {
    const lengthField = this.queue.peek(2);
    if (!lengthField) return false;
    const signatureBytes = readU16(lengthField, 0);
    if (this.queue.lengthBytes < 2 + signatureBytes) return false;
    const footer = this.queue.take(2 + signatureBytes);
    const held = this.heldBack;
    this.heldBack = undefined;
    try {
      this.verifier?.verify(footer.subarray(2));
    } catch (error) {
      held?.fill(0);
      throw error;
    }
    this.phase = 'done';
    if (held) emit(held);
    return true;
  }
}

/**
 * A TransformStream that decrypts one ESDK message. The readable side errors with a VeilError
 * (and releases nothing more) on the first failure.
 * @throws (through the stream) VeilError TRUNCATED, TRAILING_BYTES, OUT_OF_ORDER,
 *   NON_CANONICAL_IV, FRAME_TAMPERED, HEADER_TAMPERED, COMMITMENT_MISMATCH, NO_MATCHING_EDK,
 *   WRONG_KEY, TOO_MANY_EDKS, FRAME_TOO_LARGE, NON_FRAMED_TOO_LARGE, SIGNATURE_INVALID, SIGNATURE_MISSING,
 *   MALFORMED, BASE64_INPUT, UNSUPPORTED_VERSION, UNSUPPORTED_SUITE, NON_COMMITTING_SUITE.
 */
export function createDecryptStream(
  options: DecryptOptions,
): TransformStream<Uint8Array, Uint8Array> {
  // Precondition: options with a keyring, and positive integer limits.
  needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
  needs(typeof options.keyring?.onDecrypt === 'function', 'BAD_ARGUMENT', 'keyring');
  for (const name of [
    'maxEncryptedDataKeys',
    'maxFrameBytes',
    'maxNonFramedBytes',
    'framesInFlight',
  ] as const) {
    const limit = options[name];
    needs(limit === undefined || (Number.isSafeInteger(limit) && limit >= 1), 'OUT_OF_RANGE', name);
  }
  // Precondition: no larger non-framed body than the format allows.
  needs(
    options.maxNonFramedBytes === undefined ||
      options.maxNonFramedBytes <= FORMAT_MAX_NON_FRAMED_BYTES,
    'OUT_OF_RANGE',
    'maxNonFramedBytes must be at most 2^36 - 32',
  );
  const decryptor = new Decryptor(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform: (chunk, controller) =>
      decryptor.push(chunk, (plaintext) => controller.enqueue(plaintext)),
    flush: () => decryptor.finish(),
  });
}
