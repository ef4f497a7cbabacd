/**
 * Keyed digests of part plaintext, so that no resumed or rebuilt part is ever encrypted again
 * under the same data key and frame IVs with different plaintext.
 *
 * [Note: resume digests] Frames are deterministic: the IV of frame `seq` depends only on `seq`,
 * and the data key and message id of an unfinished upload stay the same across pause, retry and
 * resume. A part whose bytes ever left the page (sent, perhaps received by S3, perhaps lost) and
 * that is later built again from *different* plaintext would put two plaintexts under one
 * (key, IV): their XOR leaks, and GCM's hash key can be recovered, which lets frames be forged.
 * So the engine keeps, for every part, a digest of the plaintext it first encrypted, and:
 *
 * - records it (durably, in the resume record) before the part is first sent;
 * - on resume, reads every part that has a digest from the file and checks it *before any frame
 *   is encrypted* (verifyPartDigests);
 * - before sending a rebuilt part (after pause or retry), checks the worker's digest of the bytes
 *   it just read against the recorded one; a mismatch means the part is never sent.
 *
 * A mismatch, or any doubt (a record written before digests existed, a part S3 holds that has no
 * digest), abandons the message: the engine aborts its multipart upload and starts a new message
 * with a fresh data key and message id (RESUME_FILE_CHANGED / RESUME_UNVERIFIABLE).
 *
 * The digest is HMAC-SHA-256 under the message's digest key ([Note: part digest key] in
 * src/core/kdf.ts) over a label, the part's seq range and plaintext length, and the SHA-256 of each
 * frame's plaintext: one native digest call per frame, on views of the slices the worker already
 * holds. The frame hashes never leave the function; only the keyed digest is stored, so the record
 * holds nothing that confirms a guess of the plaintext.
 */
import { VeilError, asBufferSource, concatBytes, needs, toBase64, u32, u64, utf8 } from '../core';

const LABEL = utf8('veil part digest v1');

/** Plaintext bytes per read when a part is checked (frame-aligned, at most this). */
const VERIFY_READ_BYTES = 16 * 1024 * 1024;

/** SHA-256 of one frame's plaintext (never stored; an input to partDigest). */
export async function frameHash(plaintext: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(plaintext)));
}

/**
 * The keyed digest (base64) of frames `firstSeq..lastSeq` whose plaintext hashes are
 * `frameHashes`, in order, carrying `plaintextBytes` bytes.
 * @throws VeilError BAD_ARGUMENT when the hashes do not match the seq range.
 */
export async function partDigest(
  digestKey: CryptoKey,
  range: { readonly firstSeq: number; readonly lastSeq: number; readonly plaintextBytes: number },
  frameHashes: readonly Uint8Array[],
): Promise<string> {
  // Precondition: one 32-byte hash per frame of the range.
  needs(frameHashes.length === range.lastSeq - range.firstSeq + 1, 'BAD_ARGUMENT', 'frameHashes');
  const message = concatBytes(
    LABEL,
    u32(range.firstSeq),
    u32(range.lastSeq),
    u64(range.plaintextBytes),
    ...frameHashes,
  );
  const mac = await crypto.subtle.sign('HMAC', digestKey, asBufferSource(message));
  return toBase64(new Uint8Array(mac));
}

/** A part to check: its number, its frames and the digest recorded when it was first built. */
export interface RecordedPart {
  readonly partNumber: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly digest: string;
}

/**
 * Reads each part of `parts` from `file` and compares the keyed digest of its plaintext with the
 * recorded one, without encrypting anything. Returns the first part whose plaintext differs, or
 * undefined when every part matches.
 * @throws VeilError UPLOAD_FILE_UNREADABLE when the file cannot be read.
 */
export async function firstChangedPart(
  file: Blob,
  frameBytes: number,
  digestKey: CryptoKey,
  parts: readonly RecordedPart[],
  signal?: AbortSignal,
): Promise<number | undefined> {
  const readFrames = Math.max(1, Math.floor(VERIFY_READ_BYTES / frameBytes));
  for (const part of parts) {
    signal?.throwIfAborted();
    const hashes: Uint8Array[] = [];
    for (let seq = part.firstSeq; seq <= part.lastSeq; seq += readFrames) {
      const lastSeq = Math.min(part.lastSeq, seq + readFrames - 1);
      const startBytes = (seq - 1) * frameBytes;
      const endBytes = Math.min(file.size, lastSeq * frameBytes);
      let slice: Uint8Array;
      try {
        slice = new Uint8Array(await file.slice(startBytes, endBytes).arrayBuffer());
      } catch (cause) {
        throw new VeilError('UPLOAD_FILE_UNREADABLE', `bytes ${startBytes}..${endBytes}`, {
          cause,
        });
      }
      if (slice.length !== endBytes - startBytes) return part.partNumber;
      const frames = Array.from({ length: lastSeq - seq + 1 }, (_, index) =>
        frameHash(slice.subarray(index * frameBytes, (index + 1) * frameBytes)),
      );
      hashes.push(...(await Promise.all(frames)));
    }
    const plaintextBytes =
      Math.min(file.size, part.lastSeq * frameBytes) - (part.firstSeq - 1) * frameBytes;
    const digest = await partDigest(digestKey, { ...part, plaintextBytes }, hashes);
    if (digest !== part.digest) return part.partNumber;
  }
  return undefined;
}
