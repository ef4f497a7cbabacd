/**
 * Builds framed messages piece by piece for tests that need malformed ones: the header from the
 * core, then frames from the core's encryptFrame or hand-made (e.g. with a non-canonical IV).
 */
import { asBufferSource, concatBytes, u32, u64 } from '../../../src/core/bytes';
import { encryptFrame } from '../../../src/core/frame';
import type { WrittenHeader } from '../../../src/core/message';
import { createMessageHeader } from '../../../src/core/message';
import type { Keyring } from '../../../src/core/keyring';
import type { EncryptionContext } from '../../../src/core/encryption-context';

export interface BuiltMessage {
  readonly written: WrittenHeader;
  readonly headerBytes: Uint8Array;
  /** Serialized frames, in order. */
  readonly frames: Uint8Array[];
  readonly whole: Uint8Array;
}

/**
 * A framed message of `plaintext` in the full-final form (how Veil wrote exact multiples of the
 * frame length before it wrote an empty final frame), keeping the frames apart.
 */
export async function buildMessage(
  keyring: Keyring,
  plaintext: Uint8Array,
  frameBytes: number,
  encryptionContext: EncryptionContext = {},
): Promise<BuiltMessage> {
  const written = await createMessageHeader({ keyring, frameBytes, encryptionContext });
  const count = Math.max(1, Math.ceil(plaintext.length / frameBytes));
  const frames = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      encryptFrame({
        contentKey: written.contentKey,
        messageId: written.messageId,
        seq: index + 1,
        isFinal: index === count - 1,
        plaintext: plaintext.subarray(index * frameBytes, (index + 1) * frameBytes),
      }),
    ),
  );
  return {
    written,
    headerBytes: written.headerBytes,
    frames,
    whole: concatBytes(written.headerBytes, ...frames),
  };
}

/** A frame sealed with an arbitrary IV (correct AAD), to test the canonical-IV check. */
export async function frameWithIv(
  written: WrittenHeader,
  seq: number,
  isFinal: boolean,
  plaintext: Uint8Array,
  iv: Uint8Array,
): Promise<Uint8Array> {
  const label = new TextEncoder().encode(
    isFinal ? 'AWSKMSEncryptionClient Final Frame' : 'AWSKMSEncryptionClient Frame',
  );
  const aad = concatBytes(written.messageId, label, u32(seq), u64(plaintext.length));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad) },
      written.contentKey,
      asBufferSource(plaintext),
    ),
  );
  return isFinal
    ? concatBytes(u32(0xffff_ffff), u32(seq), iv, u32(plaintext.length), sealed)
    : concatBytes(u32(seq), iv, sealed);
}

/** Feeds `ciphertext` in `chunkBytes` pieces through a transform; returns output and error. */
export async function collect(
  transform: TransformStream<Uint8Array, Uint8Array>,
  ciphertext: Uint8Array,
  chunkBytes = 1000,
): Promise<{ output: Uint8Array[]; error: unknown }> {
  const output: Uint8Array[] = [];
  const writer = transform.writable.getWriter();
  const reading = (async () => {
    const reader = transform.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      output.push(value);
    }
  })();
  let error: unknown;
  try {
    for (let offsetBytes = 0; offsetBytes < ciphertext.length; offsetBytes += chunkBytes) {
      await writer.write(ciphertext.subarray(offsetBytes, offsetBytes + chunkBytes));
    }
    await writer.close();
  } catch (caught) {
    error = caught;
  }
  try {
    await reading;
  } catch (caught) {
    error ??= caught;
  }
  return { output, error };
}
