/**
 * Whole-buffer helpers on top of the streams, for small inputs and tests. Large data goes through
 * createEncryptStream / createDecryptStream or the frame-level API instead.
 */
import { concatBytes } from './bytes';
import { needs } from './errors';
import type { DecryptOptions } from './decrypt-stream';
import { createDecryptStream } from './decrypt-stream';
import type { EncryptStreamOptions } from './encrypt-stream';
import { createEncryptStream } from './encrypt-stream';

/** Runs `input` (in chunks of at most `chunkBytes`) through `transform` and joins the output. */
export async function runTransform(
  transform: TransformStream<Uint8Array, Uint8Array>,
  input: Uint8Array,
  chunkBytes = 1024 * 1024,
): Promise<Uint8Array> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offsetBytes = 0; offsetBytes < input.length; offsetBytes += chunkBytes) {
        controller.enqueue(input.subarray(offsetBytes, offsetBytes + chunkBytes));
      }
      controller.close();
    },
  });
  const parts: Uint8Array[] = [];
  const reader = source.pipeThrough(transform).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concatBytes(...parts);
}

/**
 * Encrypts `plaintext` into one framed 0x0478 message.
 * @throws VeilError as createEncryptStream.
 */
export async function encryptBytes(
  plaintext: Uint8Array,
  options: EncryptStreamOptions,
): Promise<Uint8Array> {
  // Precondition: bytes.
  needs(plaintext instanceof Uint8Array, 'BAD_ARGUMENT', 'plaintext');
  return runTransform(createEncryptStream(options), plaintext);
}

/**
 * Decrypts one whole message; resolves only if every check passed.
 * @throws VeilError as createDecryptStream.
 */
export async function decryptBytes(
  ciphertext: Uint8Array,
  options: DecryptOptions,
): Promise<Uint8Array> {
  // Precondition: bytes.
  needs(ciphertext instanceof Uint8Array, 'BAD_ARGUMENT', 'ciphertext');
  return runTransform(createDecryptStream(options), ciphertext);
}
