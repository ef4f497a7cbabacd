/**
 * The framed ranged reader ([Note: download pipeline] in download.ts): for a 0x0478 framed object
 * whose layout was checked at open, frame-aligned ranged GETs (download-plan.ts planBatches) are
 * fetched and decrypted by the FrameDecryptor (the worker pool in the browser), at most
 * `rangesInFlight` at once, and yielded strictly in order. A batch is yielded only after every
 * tag in it verified, as its frames' plaintext buffers ([Note: fresh buffers] in
 * download-frames.ts).
 */
import { needs } from '../core';
import { planBatches, type BodyLayout, type FrameBatch } from './download-plan';
import type { DownloadSession } from './download-session';
import type { OpenedObject } from './download-setup';
import { inProcessDecryptor } from './download-workers';

/**
 * Fetches and decrypts one batch (in a worker).
 * @throws VeilError from the range GET and from the frames' checks (FRAME_TAMPERED, ...).
 */
export async function decryptBatch(
  session: DownloadSession,
  opened: OpenedObject,
  batch: FrameBatch,
): Promise<readonly Uint8Array[]> {
  const { layout, contentKey, header } = opened;
  needs(layout && contentKey && header, 'INTERNAL_ERROR', 'not a framed object');
  const frames = await session.range(opened.etag, batch.startBytes, batch.endBytes);
  const decryptor = session.setup.decryptor ?? inProcessDecryptor;
  const { plaintext } = await decryptor.decryptFrames({
    contentKey,
    messageId: header.messageId,
    frameBytes: layout.frameBytes,
    firstSeq: batch.firstSeq,
    lastSeq: batch.lastSeq,
    finalSeq: layout.frameCount,
    frames,
  });
  return plaintext;
}

/**
 * Yields the plaintext of `batches` strictly in order, one array of frame plaintexts per batch,
 * at most rangesInFlight fetched or decrypted at once; the first failure in order is thrown and
 * the rest are dropped.
 */
export async function* batchesInOrder(
  session: DownloadSession,
  opened: OpenedObject,
  batches: FrameBatch[],
): AsyncGenerator<readonly Uint8Array[], void, undefined> {
  const inFlight = session.rangesInFlight;
  const pending: Promise<readonly Uint8Array[]>[] = [];
  let next = 0;
  const startNext = (): void => {
    const batch = batches[next++];
    if (!batch) return;
    const started = decryptBatch(session, opened, batch);
    started.catch(() => undefined); // rethrown in order below
    pending.push(started);
  };
  try {
    while (next < batches.length && pending.length < inFlight) startNext();
    while (pending.length > 0) {
      const plaintext = await pending.shift();
      startNext();
      if (plaintext) yield plaintext;
    }
  } finally {
    if (pending.length > 0) session.stop();
  }
}

/** A framed object's plaintext from `fromBytes` on, frame by frame, the first one trimmed. */
export async function* framedFrom(
  session: DownloadSession,
  opened: OpenedObject,
  layout: BodyLayout,
  fromBytes: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (fromBytes >= layout.plaintextBytes) return;
  const firstSeq = Math.floor(fromBytes / layout.frameBytes) + 1;
  const batches = planBatches(layout, session.rangeBytes, firstSeq, layout.frameCount);
  let skipBytes = fromBytes - (firstSeq - 1) * layout.frameBytes;
  for await (const frames of batchesInOrder(session, opened, batches)) {
    for (const plaintext of frames) {
      yield skipBytes > 0 ? plaintext.subarray(skipBytes) : plaintext;
      skipBytes = 0;
    }
  }
}
