/**
 * The download engine: one S3 object to a save target, decrypted in the browser.
 *
 * [Note: download pipeline] HeadObject gives the size, the metadata and the ETag; every later GET
 * carries If-Match with that ETag, so an object replaced mid-download stops it with
 * DOWNLOAD_OBJECT_CHANGED. A ranged GET of the first bytes (grown until the header parses) tells
 * what the object is:
 * - not an ESDK v2 message (no veil-format metadata and no 02 04 78 / 02 05 78 start): written as
 *   it is, labelled 'plain';
 * - suite 0x0478, framed, with a body whose size and last frame agree with the header ([Note:
 *   body layout from the object size] in download-plan.ts): the header is opened with the keyring
 *   once, then frame-aligned ranged GETs (`rangeBytes` each, `rangesInFlight` at once) are
 *   decrypted in the worker pool and written strictly in order. A batch is written only after
 *   every tag in it verified, and memory holds at most `rangesInFlight` batches in flight plus
 *   the one being written, whatever the object size;
 * - anything else (0x0578, whose signature covers the whole message; non-framed bodies; a body
 *   that does not fit its header): sequential ranged GETs through the core's createDecryptStream,
 *   which checks the signature, holds back what must be held back, and names exactly what is
 *   wrong with a truncated, extended or reordered message.
 * On any failure or cancel the sink is aborted, so no partial output is kept.
 *
 * The engine in files, each one responsibility: download-setup.ts (options, their guards, what
 * an open learns), download-session.ts (signal, retries, ranged GETs with If-Match, progress),
 * download-errors.ts (failures in download codes), download-open.ts (HEAD, sniff, header growth,
 * layout check), download-framed.ts (the framed ranged reader), download-stream.ts (the
 * sequential reader and the decrypt stream), download-range.ts (plaintext ranges) and
 * download-run.ts (the whole download into a sink). The frame layout is the core's.
 */
import { needs } from '../core';
import { openObject } from './download-open';
import { readRange } from './download-range';
import { runDownload } from './download-run';
import { DownloadSession } from './download-session';
import type { DownloadResult, DownloadSetup, OpenedObject } from './download-setup';
import type { DownloadSink } from './download-setup';

export {
  DEFAULT_RANGE_BYTES,
  DEFAULT_RANGES_IN_FLIGHT,
  FIRST_HEADER_BYTES,
} from './download-setup';
export type {
  DownloadResult,
  DownloadSetup,
  ObjectKind,
  OpenedObject,
  ResumePoint,
} from './download-setup';
/** Which keys a header names moved to the core; re-exported for the app's existing imports. */
export { keysNeeded } from '../core';
export type { NeededKey } from '../core';

/**
 * Downloads `setup.key` into `sink` (see [Note: download pipeline]); the sink is closed on success
 * and aborted on any failure, so nothing partial is kept.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE on bad options (synchronously, as a rejection),
 *   DOWNLOAD_OBJECT_CHANGED, S3_REJECTED, S3_RETRIES_EXHAUSTED, S3_UNREACHABLE, CREDENTIALS_*,
 *   DOWNLOAD_CORS_HEADERS, DOWNLOAD_CANCELLED, DOWNLOAD_SAVE_FAILED, NO_KEY_FOR_OBJECT without a
 *   keyring, the keyring's (NO_MATCHING_EDK, WRONG_KEY, ...) and the format's (COMMITMENT_MISMATCH,
 *   HEADER_TAMPERED, FRAME_TAMPERED, TRUNCATED, TRAILING_BYTES, OUT_OF_ORDER, SIGNATURE_INVALID, ...).
 */
export async function downloadObject(
  setup: DownloadSetup & { readonly sink: DownloadSink },
): Promise<DownloadResult> {
  // Precondition: a sink.
  needs(typeof setup?.sink?.write === 'function', 'BAD_ARGUMENT', 'sink');
  return runDownload(new DownloadSession(setup), setup.sink);
}

/**
 * Reads plaintext bytes [startBytes, endBytes) of `setup.key`. For Veil's 0x0478 framed objects
 * only the frames that hold the range are fetched, each authenticated on its own; plain objects
 * are read as they are; signed (0x0578) and non-framed messages are read whole through the decrypt
 * stream, which alone can authenticate them. For a padded message ([Note: size padding] in
 * core/padding.ts) the range is one of the padded plaintext: its end is not known without
 * reading to the last frame.
 * @throws VeilError OUT_OF_RANGE for a range outside the plaintext, and the errors of
 *   downloadObject.
 */
export function readPlaintextRange(
  setup: DownloadSetup,
  startBytes: number,
  endBytes: number,
): Promise<Uint8Array> {
  return readRange(new DownloadSession(setup), startBytes, endBytes);
}

/**
 * HeadObject and the header only: what kind of object this is, its size and, for ESDK objects,
 * the header (to name the keys it needs). Opens the data key when a keyring is given and the
 * object is 0x0478 framed.
 * @throws the errors of downloadObject before the body.
 */
export function inspectObject(setup: DownloadSetup): Promise<OpenedObject> {
  return openObject(new DownloadSession(setup));
}
