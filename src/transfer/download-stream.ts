/**
 * The sequential readers ([Note: download pipeline] in download.ts): the object's bytes in
 * ranged GETs one after another, the next one fetched ahead, as they are (plain objects) or
 * through the core's createDecryptStream. The stream is the fallback for what the framed ranged
 * reader cannot authenticate piece by piece: 0x0578 (the signature covers the whole message),
 * non-framed bodies, and bodies that do not fit their header, where the stream names exactly
 * what is wrong (truncated, extended, reordered).
 */
import { createDecryptStream, needs } from '../core';
import type { DownloadSession } from './download-session';
import type { OpenedObject } from './download-setup';

/** Sequential chunks of the object from `startBytes`, the next one fetched ahead. */
export async function* chunks(
  session: DownloadSession,
  opened: OpenedObject,
  startBytes = 0,
): AsyncGenerator<Uint8Array, void, undefined> {
  const step = session.rangeBytes;
  let at = startBytes;
  let ahead: Promise<Uint8Array> | undefined;
  const fetchAt = (from: number): Promise<Uint8Array> | undefined => {
    if (from >= opened.objectBytes) return undefined;
    const started = session.range(opened.etag, from, Math.min(opened.objectBytes, from + step));
    started.catch(() => undefined);
    return started;
  };
  ahead = fetchAt(at);
  try {
    while (ahead) {
      const chunk = await ahead;
      at += chunk.length;
      ahead = fetchAt(at);
      yield chunk;
    }
  } finally {
    if (ahead) session.stop();
  }
}

/**
 * The object's plaintext through the core's decrypt stream, chunk by chunk.
 * @throws VeilError NO_KEY_FOR_OBJECT without a keyring, and the stream's format errors.
 */
export async function* streamed(
  session: DownloadSession,
  opened: OpenedObject,
): AsyncGenerator<Uint8Array, void, undefined> {
  const keyring = session.setup.keyring;
  // Precondition: an encrypted object needs a keyring; without one no key can open it.
  needs(keyring, 'NO_KEY_FOR_OBJECT', 'no keyring was given');
  const source = chunks(session, opened);
  const input = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await source.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await source.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  const { bucket, key, bindingRule } = session.setup;
  const location = { expected: { bucket, key }, rule: bindingRule ?? 'if-present' } as const;
  const reader = input.pipeThrough(createDecryptStream({ keyring, location })).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
