/**
 * A FIFO of byte chunks for the streaming decryptor: push chunks as they arrive, take exact
 * lengths out. A take that lies inside one chunk is a view (no copy); one that spans chunks is
 * copied once, so the cost stays linear in the bytes that pass through.
 */
export class ByteQueue {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already taken. */
  private headOffsetBytes = 0;
  /** Bytes available to take. */
  lengthBytes = 0;

  /** Appends a chunk (kept by reference; the caller must not modify it afterwards). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.lengthBytes += chunk.length;
  }

  /** The first `lengthBytes` bytes without consuming them, or undefined if fewer are queued. */
  peek(lengthBytes: number): Uint8Array | undefined {
    if (lengthBytes > this.lengthBytes) return undefined;
    const first = this.chunks[0];
    if (first && first.length - this.headOffsetBytes >= lengthBytes) {
      return first.subarray(this.headOffsetBytes, this.headOffsetBytes + lengthBytes);
    }
    const out = new Uint8Array(lengthBytes);
    let filledBytes = 0;
    let offsetBytes = this.headOffsetBytes;
    for (const chunk of this.chunks) {
      if (filledBytes === lengthBytes) break;
      const part = chunk.subarray(offsetBytes, offsetBytes + lengthBytes - filledBytes);
      out.set(part, filledBytes);
      filledBytes += part.length;
      offsetBytes = 0;
    }
    return out;
  }

  /** Removes and returns the first `lengthBytes` bytes; the caller checked they are queued. */
  take(lengthBytes: number): Uint8Array {
    const out = this.peek(lengthBytes);
    if (out === undefined) throw new RangeError('ByteQueue.take beyond the queued bytes');
    this.skip(lengthBytes);
    return out;
  }

  private skip(lengthBytes: number): void {
    let remainingBytes = lengthBytes;
    this.lengthBytes -= lengthBytes;
    while (remainingBytes > 0) {
      const first = this.chunks[0];
      if (!first) break;
      const availableBytes = first.length - this.headOffsetBytes;
      if (availableBytes > remainingBytes) {
        this.headOffsetBytes += remainingBytes;
        return;
      }
      remainingBytes -= availableBytes;
      this.chunks.shift();
      this.headOffsetBytes = 0;
    }
  }
}
