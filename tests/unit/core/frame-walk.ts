/**
 * Walks the framed body of a 0x0478 message by its markers alone (no key): how many frames it has
 * and how much plaintext its final frame carries. Used to compare Veil's byte layout with the
 * reference implementation's.
 */
import { parseHeaderBytes } from '../../../src/core/message';

/** What a body walk finds. */
export interface WalkedBody {
  readonly headerBytes: number;
  readonly frameBytes: number;
  /** All frames, the final one included. */
  readonly frameCount: number;
  /** The final frame's content length field. */
  readonly finalFramePlaintextBytes: number;
}

/**
 * Walks `message` from the end of its header to the final frame's marker.
 * @throws Error when a frame has the wrong seq, the body ends without a final frame, or bytes
 *   follow the final frame.
 */
export function walkFrames(message: Uint8Array): WalkedBody {
  const header = parseHeaderBytes(message);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  let atBytes = header.headerBytes;
  for (let seq = 1; atBytes + 4 <= message.length; seq++) {
    const isFinal = view.getUint32(atBytes) === 0xffff_ffff;
    const storedSeq = view.getUint32(atBytes + (isFinal ? 4 : 0));
    if (storedSeq !== seq) throw new Error(`frame ${storedSeq} where ${seq} was expected`);
    if (!isFinal) {
      atBytes += header.frameBytes + 32;
      continue;
    }
    const finalFramePlaintextBytes = view.getUint32(atBytes + 4 + 4 + 12);
    atBytes += finalFramePlaintextBytes + 40;
    if (atBytes !== message.length) throw new Error('bytes after the final frame');
    return {
      headerBytes: header.headerBytes,
      frameBytes: header.frameBytes,
      frameCount: seq,
      finalFramePlaintextBytes,
    };
  }
  throw new Error('no final frame');
}
