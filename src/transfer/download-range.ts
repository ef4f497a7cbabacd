/**
 * Plaintext range reads (readPlaintextRange): for a 0x0478 framed object only the frames that
 * hold the range are fetched, each authenticated on its own; a plain object is read as it is; a
 * signed or non-framed message is read whole through the decrypt stream, which alone can
 * authenticate it. The range rule is the core's (checkPlaintextRange), checked once the size is
 * known.
 */
import { checkPlaintextRange } from '../core';
import { batchesInOrder } from './download-framed';
import { openObject } from './download-open';
import { framesForRange, planBatches } from './download-plan';
import type { DownloadSession } from './download-session';
import type { OpenedObject } from './download-setup';
import { streamed } from './download-stream';

/**
 * Plaintext bytes [startBytes, endBytes), fetching only the frames that hold them.
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for a range outside the plaintext, and the
 *   errors of downloadObject.
 */
export async function readRange(
  session: DownloadSession,
  startBytes: number,
  endBytes: number,
): Promise<Uint8Array> {
  try {
    const opened = await openObject(session);
    if (opened.plaintextBytes !== undefined) {
      checkPlaintextRange(startBytes, endBytes, opened.plaintextBytes);
    }
    if (opened.kind === 'plain') {
      return startBytes === endBytes
        ? new Uint8Array(0)
        : await session.range(opened.etag, startBytes, endBytes);
    }
    if (opened.kind === 'esdk-framed' && opened.layout && opened.contentKey) {
      const { firstSeq, lastSeq } = framesForRange(opened.layout, startBytes, endBytes);
      const batches = planBatches(opened.layout, session.rangeBytes, firstSeq, lastSeq);
      const out = new Uint8Array(endBytes - startBytes);
      let index = 0;
      for await (const frames of batchesInOrder(session, opened, batches)) {
        const batch = batches[index++];
        if (!batch) break;
        let offsetBytes = batch.plaintextOffsetBytes;
        for (const plaintext of frames) {
          copyOverlap(out, startBytes, plaintext, offsetBytes);
          offsetBytes += plaintext.length;
        }
      }
      return out;
    }
    return await streamedRange(session, opened, startBytes, endBytes);
  } catch (error) {
    session.stop();
    throw session.explain(error);
  }
}

/** Signed or non-framed: only the whole-message stream authenticates it, so all of it is read. */
async function streamedRange(
  session: DownloadSession,
  opened: OpenedObject,
  startBytes: number,
  endBytes: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for await (const plaintext of streamed(session, opened)) {
    const from = Math.max(startBytes, offset);
    const to = Math.min(endBytes, offset + plaintext.length);
    if (from < to) parts.push(plaintext.slice(from - offset, to - offset));
    offset += plaintext.length;
  }
  // The size is known only now: the same rule, against what the stream released.
  checkPlaintextRange(startBytes, endBytes, offset);
  const out = new Uint8Array(endBytes - startBytes);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Copies the part of `plaintext` (at plaintext offset `offsetBytes`) that falls inside `out`. */
function copyOverlap(
  out: Uint8Array,
  outStartBytes: number,
  plaintext: Uint8Array,
  offsetBytes: number,
): void {
  const from = Math.max(outStartBytes, offsetBytes);
  const to = Math.min(outStartBytes + out.length, offsetBytes + plaintext.length);
  if (from < to) {
    out.set(plaintext.subarray(from - offsetBytes, to - offsetBytes), from - outStartBytes);
  }
}
