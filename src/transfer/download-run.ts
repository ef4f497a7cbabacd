/**
 * One whole download into a sink ([Note: download pipeline] in download.ts): open the object,
 * pick its reader, write the plaintext strictly in order, close the sink on success and abort it
 * on any failure or cancel, so no partial output is kept (a resumable sink keeps a verified
 * prefix, browser/download-resume.ts).
 */
import { VeilError, needs, paddingOf, unpadChunks } from '../core';
import { framedFrom } from './download-framed';
import { openObject } from './download-open';
import type { DownloadSession } from './download-session';
import type { DownloadResult, OpenedObject } from './download-setup';
import type { DownloadSink } from './download-setup';
import { chunks, streamed } from './download-stream';

/**
 * The bytes to write from output offset `fromBytes` on (0, or a resume point): plain chunks, the
 * framed ranged reader, or the decrypt stream; for a message whose context marks padding, with
 * the padding stripped as it streams ([Note: streaming unpad] in core/unpad.ts). Only what the
 * reader released (authenticated frames) reaches the stripper, which never holds the padding.
 * @throws VeilError BAD_ARGUMENT for a resume point in an object that can only be read whole,
 *   PADDING_UNKNOWN, and PADDING_INVALID at the end of malformed padding.
 */
export function output(
  session: DownloadSession,
  opened: OpenedObject,
  fromBytes = 0,
): AsyncGenerator<Uint8Array, void, undefined> {
  const padded = isPadded(opened);
  const bytes = rawOutput(session, opened, fromBytes);
  return padded ? unpadChunks(bytes, { skippedBytes: fromBytes }) : bytes;
}

/**
 * True when `opened` is a message whose context marks padding.
 * @throws VeilError PADDING_UNKNOWN for a scheme Veil does not know.
 */
export function isPadded(opened: Pick<OpenedObject, 'header'>): boolean {
  return opened.header !== undefined && paddingOf(opened.header.encryptionContext) !== undefined;
}

/** The bytes of `opened` from `fromBytes` on, padding and all. */
function rawOutput(
  session: DownloadSession,
  opened: OpenedObject,
  fromBytes = 0,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (opened.kind === 'plain') return chunks(session, opened, fromBytes);
  if (opened.kind === 'esdk-framed' && opened.layout && opened.contentKey) {
    return framedFrom(session, opened, opened.layout, fromBytes);
  }
  // Precondition: only the whole-message stream authenticates signed or non-framed messages.
  needs(fromBytes === 0, 'BAD_ARGUMENT', 'resumeFrom: this object can only be read whole');
  return streamed(session, opened);
}

/**
 * Writes everything to `sink`; aborts it on any failure.
 * @throws the errors of downloadObject, in download codes.
 */
export async function runDownload(
  session: DownloadSession,
  sink: DownloadSink,
): Promise<DownloadResult> {
  const { resumeFrom } = session.setup;
  const resumedFromBytes = resumeFrom?.writtenBytes ?? 0;
  let writtenBytes = resumedFromBytes;
  try {
    const opened = await openObject(session);
    // Precondition: a resume point inside the output.
    needs(
      opened.plaintextBytes === undefined || resumedFromBytes <= opened.plaintextBytes,
      'OUT_OF_RANGE',
      'resumeFrom: more bytes than the object holds',
    );
    // Counted before the rate starts, so they do not show as speed.
    session.meter.addWritten(resumedFromBytes);
    session.meter.start(
      opened.objectBytes,
      opened.plaintextBytes ?? opened.objectBytes,
      opened.etag,
    );
    session.report('downloading');
    for await (const chunk of output(session, opened, resumedFromBytes)) {
      if (session.cancelled) throw new VeilError('DOWNLOAD_CANCELLED');
      // Read before the write: a sink may take the chunk's buffer (browser/download-sw-sink.ts).
      const chunkBytes = chunk.length;
      if (chunkBytes === 0) continue;
      await session.untilCancelled(sink.write(chunk));
      writtenBytes += chunkBytes;
      session.meter.addWritten(chunkBytes);
      session.report();
    }
    if (session.cancelled) throw new VeilError('DOWNLOAD_CANCELLED');
    await session.untilCancelled(sink.close());
    session.report('done');
    return {
      kind: opened.kind,
      label: opened.kind === 'plain' ? 'plain' : 'decrypted',
      objectBytes: opened.objectBytes,
      writtenBytes,
      ...(resumeFrom ? { resumedFromBytes } : {}),
      etag: opened.etag,
      ...(opened.header ? { suiteId: opened.header.suiteId } : {}),
    };
  } catch (error) {
    session.stop();
    const explained = session.explain(error);
    // The sink learns why (in download codes): a resumable one keeps verified output on a
    // network failure (browser/download-resume.ts).
    await sink.abort(explained);
    session.report(
      explained instanceof VeilError && explained.code === 'DOWNLOAD_CANCELLED'
        ? 'cancelled'
        : 'failed',
    );
    throw explained;
  }
}
