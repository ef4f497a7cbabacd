/**
 * The preview's DownloadSink: the decrypted file in memory, under a cap ([Note: preview shows
 * only authenticated bytes] in preview-core.ts). The engine closes a sink only after the last
 * frame (and a signed message's signature) verified; bytes() refuses to hand anything out before
 * that, and abort() drops what was held.
 */
import { VeilError, needs } from '../../core/errors';
import type { DownloadSink } from '../../transfer/download-setup';

/** Holds the written chunks, at most `capBytes` in all. */
export class MemorySink implements DownloadSink {
  readonly #capBytes: number;
  #chunks: Uint8Array<ArrayBuffer>[] = [];
  #heldBytes = 0;
  #closed = false;

  /** @throws VeilError OUT_OF_RANGE unless capBytes is a non-negative safe integer. */
  constructor(capBytes: number) {
    // Precondition: a byte count.
    needs(Number.isSafeInteger(capBytes) && capBytes >= 0, 'OUT_OF_RANGE', 'capBytes');
    this.#capBytes = capBytes;
  }

  /**
   * Keeps a copy of `chunk`.
   * @throws VeilError PREVIEW_TOO_LARGE past the cap (a message whose size was not known ahead).
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#heldBytes + chunk.length > this.#capBytes) {
      return Promise.reject(
        new VeilError('PREVIEW_TOO_LARGE', `more than ${this.#capBytes} bytes`),
      );
    }
    this.#chunks.push(chunk.slice());
    this.#heldBytes += chunk.length;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  abort(): Promise<void> {
    for (const chunk of this.#chunks) chunk.fill(0);
    this.#chunks = [];
    this.#heldBytes = 0;
    return Promise.resolve();
  }

  /**
   * Everything written as a Blob of `mimeType`, once the engine closed the sink.
   * @throws VeilError INTERNAL_ERROR before close.
   */
  blob(mimeType: string): Blob {
    needs(this.#closed, 'INTERNAL_ERROR', 'the preview sink was not closed');
    return new Blob(this.#chunks, { type: mimeType });
  }

  /** Bytes written so far. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * Everything written, once the engine closed the sink.
   * @throws VeilError INTERNAL_ERROR before close.
   */
  bytes(): Uint8Array<ArrayBuffer> {
    needs(this.#closed, 'INTERNAL_ERROR', 'the preview sink was not closed');
    const out = new Uint8Array(this.#heldBytes);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
