/**
 * Frame-level encryption (FORMAT.md section 5). Every frame's IV and AAD depend only on
 * (message id, seq, final?, length), so any frame can be encrypted or decrypted on its own, in any
 * order, in any worker, given the derived content key.
 *
 * Regular frame: u32 seq || IV(12) || ciphertext(frameBytes) || tag(16).
 * Final frame:   FFFFFFFF || u32 seq || IV(12) || u32 length || ciphertext(length) || tag(16).
 */
import { asBufferSource, concatBytes, readU32, u32, u64, utf8 } from './bytes';
import { VeilError, needs } from './errors';
import {
  BODY_AAD_LABEL,
  FINAL_FRAME_MARKER,
  FINAL_FRAME_OVERHEAD_BYTES,
  MESSAGE_ID_BYTES,
  REGULAR_FRAME_OVERHEAD_BYTES,
} from './suites';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** seq || IV. */
const REGULAR_FRAME_HEADER_BYTES = REGULAR_FRAME_OVERHEAD_BYTES - TAG_BYTES;
/** FFFFFFFF || seq || IV || length. */
const FINAL_FRAME_HEADER_BYTES = FINAL_FRAME_OVERHEAD_BYTES - TAG_BYTES;
const LABELS = {
  frame: utf8(BODY_AAD_LABEL.frame),
  finalFrame: utf8(BODY_AAD_LABEL.finalFrame),
  singleBlock: utf8(BODY_AAD_LABEL.singleBlock),
};

/** The canonical IV of frame `seq`: 00x8 || u32 seq. */
export function frameIv(seq: number): Uint8Array {
  const iv = new Uint8Array(IV_BYTES);
  new DataView(iv.buffer).setUint32(8, seq);
  return iv;
}

/** True when `iv` is the canonical IV of `seq`. */
export function isCanonicalIv(iv: Uint8Array, seq: number): boolean {
  if (iv.length !== IV_BYTES) return false;
  for (let i = 0; i < 8; i++) if (iv[i] !== 0) return false;
  return readU32(iv, 8) === seq;
}

/** Body AAD: messageId || label || u32 seq || u64 plaintextBytes. */
export function bodyAad(
  messageId: Uint8Array,
  kind: keyof typeof LABELS,
  seq: number,
  plaintextBytes: number,
): Uint8Array {
  return concatBytes(messageId, LABELS[kind], u32(seq), u64(plaintextBytes));
}

/** The fields in front of a frame's ciphertext, as stored in the body. */
export interface FrameHeader {
  /** True when the frame starts with the final-frame marker FFFFFFFF. */
  readonly isFinal: boolean;
  /** The stored sequence number. */
  readonly seq: number;
  /** The stored 12-byte IV (a view into the bytes read). */
  readonly iv: Uint8Array;
  /** Plaintext bytes the frame carries: the final frame's length field, else the frame length. */
  readonly plaintextBytes: number;
  /** Bytes in front of the ciphertext: 16 for a regular frame, 24 for the final one. */
  readonly headerBytes: number;
  /** The whole serialized frame: these fields, the ciphertext and the 16-byte tag. */
  readonly frameSizeBytes: number;
}

/**
 * Reads the fields of the frame that starts at `offsetBytes` in `bytes` (a body, a ranged GET of
 * frames, or one frame): the final-frame marker, seq, IV and, for the final frame, its length.
 * It checks only that the fields are there; decryptFrame checks the seq, the IV, the length
 * against the frame length, and the tag.
 * @returns undefined when the bytes end before the frame's fields do.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for bytes that are not a Uint8Array, an offset
 *   outside them, or a frame length outside 1..2^32-1.
 */
export function readFrameHeader(
  bytes: Uint8Array,
  offsetBytes: number,
  frameBytes: number,
): FrameHeader | undefined {
  // Precondition: bytes, an offset within them (or at their end) and a frame length.
  needs(bytes instanceof Uint8Array, 'BAD_ARGUMENT', 'bytes');
  needs(Number.isSafeInteger(offsetBytes), 'BAD_ARGUMENT', 'offsetBytes');
  needs(offsetBytes >= 0 && offsetBytes <= bytes.length, 'OUT_OF_RANGE', 'offsetBytes');
  needs(Number.isSafeInteger(frameBytes), 'BAD_ARGUMENT', 'frameBytes');
  needs(frameBytes >= 1 && frameBytes <= 0xffff_ffff, 'OUT_OF_RANGE', 'frameBytes');
  const left = bytes.length - offsetBytes;
  if (left < 4) return undefined;
  const isFinal = readU32(bytes, offsetBytes) === FINAL_FRAME_MARKER;
  const seqAt = offsetBytes + (isFinal ? 4 : 0);
  const headerBytes = isFinal ? FINAL_FRAME_HEADER_BYTES : REGULAR_FRAME_HEADER_BYTES;
  if (left < headerBytes) return undefined;
  const plaintextBytes = isFinal ? readU32(bytes, seqAt + 4 + IV_BYTES) : frameBytes;
  return {
    isFinal,
    seq: readU32(bytes, seqAt),
    iv: bytes.subarray(seqAt + 4, seqAt + 4 + IV_BYTES),
    plaintextBytes,
    headerBytes,
    frameSizeBytes: headerBytes + plaintextBytes + TAG_BYTES,
  };
}

/** Inputs of one frame operation. */
export interface FrameParams {
  /** The derived content key (non-extractable AES-GCM). */
  readonly contentKey: CryptoKey;
  /** The 32-byte message id from the header. */
  readonly messageId: Uint8Array;
  /** Sequence number, from 1. The final frame's seq is the frame count. */
  readonly seq: number;
  /** Whether this is the final frame. */
  readonly isFinal: boolean;
}

function checkFrameParams(params: FrameParams): void {
  // Precondition: a CryptoKey, a 32-byte message id and a seq in 1..2^32-2.
  needs(params.contentKey instanceof CryptoKey, 'BAD_ARGUMENT', 'contentKey');
  needs(params.messageId instanceof Uint8Array, 'BAD_ARGUMENT', 'messageId');
  needs(params.messageId.length === MESSAGE_ID_BYTES, 'OUT_OF_RANGE', 'messageId must be 32 bytes');
  needs(Number.isInteger(params.seq), 'BAD_ARGUMENT', 'seq');
  needs(params.seq >= 1 && params.seq < FINAL_FRAME_MARKER, 'OUT_OF_RANGE', 'seq');
  needs(typeof params.isFinal === 'boolean', 'BAD_ARGUMENT', 'isFinal');
}

/** A frame as two parts: its prefix (marker, seq, IV, length) and ciphertext || tag. */
export interface SealedFrame {
  readonly prefix: Uint8Array;
  readonly sealed: Uint8Array;
}

/**
 * Encrypts one frame into its two parts, which placed one after the other are the serialized
 * frame; streams emit them as two chunks, which saves copying the ciphertext.
 * A regular frame must carry exactly the frame length; the caller guarantees that.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad parameters.
 */
export async function sealFrame(
  params: FrameParams & { readonly plaintext: Uint8Array },
): Promise<SealedFrame> {
  checkFrameParams(params);
  const { contentKey, messageId, seq, isFinal, plaintext } = params;
  // Precondition: plaintext bytes; callers pass at most one frame (at most 2^32-1 bytes).
  needs(plaintext instanceof Uint8Array, 'BAD_ARGUMENT', 'plaintext');
  const iv = frameIv(seq);
  const aad = bodyAad(messageId, isFinal ? 'finalFrame' : 'frame', seq, plaintext.length);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: asBufferSource(iv),
        additionalData: asBufferSource(aad),
        tagLength: 128,
      },
      contentKey,
      asBufferSource(plaintext),
    ),
  );
  const prefix = new Uint8Array(isFinal ? FINAL_FRAME_HEADER_BYTES : REGULAR_FRAME_HEADER_BYTES);
  const view = new DataView(prefix.buffer);
  const seqAt = isFinal ? 4 : 0;
  if (isFinal) {
    view.setUint32(0, FINAL_FRAME_MARKER);
    view.setUint32(seqAt + 16, plaintext.length);
  }
  view.setUint32(seqAt, seq);
  prefix.set(iv, seqAt + 4);
  return { prefix, sealed };
}

/**
 * Encrypts one frame and returns its serialized bytes (ready to place in the body).
 * A regular frame must carry exactly the frame length; the caller guarantees that.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad parameters.
 */
export async function encryptFrame(
  params: FrameParams & { readonly plaintext: Uint8Array },
): Promise<Uint8Array> {
  const { prefix, sealed } = await sealFrame(params);
  return concatBytes(prefix, sealed);
}

/**
 * Decrypts the AES-GCM part of a frame whose framing was already checked.
 * @throws VeilError FRAME_TAMPERED when the tag does not verify.
 */
export async function openSealed(
  contentKey: CryptoKey,
  iv: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: asBufferSource(iv),
          additionalData: asBufferSource(aad),
          tagLength: 128,
        },
        contentKey,
        asBufferSource(sealed),
      ),
    );
  } catch (cause) {
    throw new VeilError('FRAME_TAMPERED', undefined, { cause });
  }
}

/**
 * Decrypts one serialized frame (as found in the body) and checks it is frame `seq`, final or
 * not as expected, with the canonical IV. Plaintext is returned only after the tag verifies.
 * @throws VeilError OUT_OF_ORDER (wrong seq or final marker), NON_CANONICAL_IV, MALFORMED
 *   (wrong size), FRAME_TAMPERED (tag), BAD_ARGUMENT / OUT_OF_RANGE on bad parameters.
 */
export async function decryptFrame(
  params: FrameParams & {
    readonly frame: Uint8Array;
    readonly frameBytes: number;
    /** Accept an IV other than the canonical one (see DecryptOptions); default false. */
    readonly allowNonCanonicalIv?: boolean;
  },
): Promise<Uint8Array> {
  checkFrameParams(params);
  const { contentKey, messageId, seq, isFinal, frame, frameBytes } = params;
  // Precondition: frame bytes and a frame length of 1..2^32-1.
  needs(frame instanceof Uint8Array, 'BAD_ARGUMENT', 'frame');
  needs(Number.isInteger(frameBytes), 'BAD_ARGUMENT', 'frameBytes');
  needs(frameBytes >= 1 && frameBytes <= 0xffff_ffff, 'OUT_OF_RANGE', 'frameBytes');
  if (frame.length < REGULAR_FRAME_OVERHEAD_BYTES)
    throw new VeilError('MALFORMED', 'frame too short');
  const startsFinal = readU32(frame, 0) === FINAL_FRAME_MARKER;
  if (startsFinal !== isFinal) {
    throw new VeilError('OUT_OF_ORDER', isFinal ? 'expected the final frame' : 'early final frame');
  }
  const headBytes = isFinal ? 4 : 0;
  if (frame.length < headBytes + 16 + (isFinal ? 4 : 0) + 16) {
    throw new VeilError('MALFORMED', 'frame too short');
  }
  const storedSeq = readU32(frame, headBytes);
  if (storedSeq !== seq)
    throw new VeilError('OUT_OF_ORDER', `frame ${storedSeq} where ${seq} was expected`);
  const iv = frame.subarray(headBytes + 4, headBytes + 16);
  if (!params.allowNonCanonicalIv && !isCanonicalIv(iv, seq))
    throw new VeilError('NON_CANONICAL_IV', `frame ${seq}`);
  let plaintextBytes = frameBytes;
  let sealedAt = headBytes + 16;
  if (isFinal) {
    plaintextBytes = readU32(frame, headBytes + 16);
    sealedAt += 4;
    if (plaintextBytes > frameBytes) {
      throw new VeilError('MALFORMED', 'final frame longer than the frame length');
    }
  }
  if (frame.length !== sealedAt + plaintextBytes + 16) {
    throw new VeilError('MALFORMED', `frame ${seq} has the wrong size`);
  }
  const aad = bodyAad(messageId, isFinal ? 'finalFrame' : 'frame', seq, plaintextBytes);
  return openSealed(contentKey, iv, aad, frame.subarray(sealedAt));
}
