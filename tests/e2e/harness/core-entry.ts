/**
 * Browser entry for the Chromium spec: the core and the raw AES keyring running on the page's
 * WebCrypto. Each export takes and returns JSON-friendly values (base64 strings, numbers).
 */
import { VeilError } from '../../../src/core/errors';
import { decryptFrame, encryptFrame } from '../../../src/core/frame';
import { createMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';

const fromBase64 = (text: string): Uint8Array =>
  Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

function pattern(lengthBytes: number): Uint8Array {
  return Uint8Array.from({ length: lengthBytes }, (_, i) => (i * 31 + 7) & 0xff);
}

function keyring(keyBase64: string, keyName: string, keyNamespace: string): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({ keyBytes: fromBase64(keyBase64), keyName, keyNamespace });
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Encrypts and decrypts `plaintextBytes` of a pattern; true when the round trip is exact. */
export async function roundTrip(
  keyBase64: string,
  plaintextBytes: number,
  frameBytes: number,
): Promise<{ ok: boolean; ciphertextBytes: number }> {
  const ring = await keyring(keyBase64, 'browser', 'veil');
  const plaintext = pattern(plaintextBytes);
  const ciphertext = await encryptBytes(plaintext, {
    keyring: ring,
    frameBytes,
    encryptionContext: { where: 'chromium' },
  });
  const back = await decryptBytes(ciphertext, { keyring: ring });
  return { ok: equal(back, plaintext), ciphertextBytes: ciphertext.length };
}

/** Where tamper() flips a bit. */
export type TamperSpot = 'header-auth-tag' | 'first-frame' | 'final-frame';

/** Flips one bit of a fresh message at `spot`; returns the error code (or 'NONE'). */
export async function tamper(keyBase64: string, spot: TamperSpot): Promise<string> {
  const ring = await keyring(keyBase64, 'browser', 'veil');
  const ciphertext = await encryptBytes(pattern(10_000), { keyring: ring, frameBytes: 1024 });
  const headerBytes = parseHeaderBytes(ciphertext).headerBytes;
  const index = {
    'header-auth-tag': headerBytes - 1,
    'first-frame': headerBytes + 100,
    'final-frame': ciphertext.length - 5,
  }[spot];
  ciphertext[index] = (ciphertext[index] ?? 0) ^ 1;
  try {
    await decryptBytes(ciphertext, { keyring: ring });
    return 'NONE';
  } catch (error) {
    return error instanceof VeilError ? error.code : `not a VeilError: ${String(error)}`;
  }
}

/** Decrypts a message written elsewhere; returns the plaintext as base64. */
export async function decryptMessage(
  ciphertextBase64: string,
  keyBase64: string,
  keyName: string,
  keyNamespace: string,
): Promise<string> {
  const ring = await keyring(keyBase64, keyName, keyNamespace);
  const plaintext = await decryptBytes(fromBase64(ciphertextBase64), { keyring: ring });
  let binary = '';
  for (const byte of plaintext) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A worker with no logic of ours: it decrypts one AES-GCM frame body with the key it is sent. */
const WORKER_SOURCE = `
onmessage = async ({ data }) => {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: data.iv, additionalData: data.aad },
      data.contentKey,
      data.sealed,
    );
    postMessage({ ok: true, plaintextBytes: plain.byteLength, extractable: data.contentKey.extractable });
  } catch (error) {
    postMessage({ ok: false, message: String(error) });
  }
};`;

/**
 * Shows the parallel design in the browser: the derived, non-extractable content key is cloned
 * into a Web Worker with postMessage and opens a frame there, while frames encrypted out of order
 * on the page decrypt on their own.
 */
export async function framesAcrossWorker(
  keyBase64: string,
): Promise<{ workerOk: boolean; workerExtractable: boolean; outOfOrderOk: boolean }> {
  const ring = await keyring(keyBase64, 'browser', 'veil');
  const frameBytes = 1024;
  const written = await createMessageHeader({ keyring: ring, frameBytes });
  const base = { contentKey: written.contentKey, messageId: written.messageId };
  const plaintext = pattern(3 * frameBytes);
  const frames = await Promise.all(
    [3, 1, 2].map((seq) =>
      encryptFrame({
        ...base,
        seq,
        isFinal: seq === 3,
        plaintext: plaintext.subarray((seq - 1) * frameBytes, seq * frameBytes),
      }),
    ),
  );
  const [frame3, frame1, frame2] = frames as [Uint8Array, Uint8Array, Uint8Array];
  const opened = await Promise.all(
    [
      [2, frame2],
      [3, frame3],
      [1, frame1],
    ].map(([seq, frame]) =>
      decryptFrame({
        ...base,
        seq: seq as number,
        isFinal: seq === 3,
        frame: frame as Uint8Array,
        frameBytes,
      }),
    ),
  );
  const outOfOrderOk = equal(opened[2] ?? new Uint8Array(0), plaintext.subarray(0, frameBytes));

  // Frame 1 body: u32 seq || IV(12) || ciphertext || tag; AAD as in FORMAT.md section 5.
  const header = parseHeaderBytes(written.headerBytes);
  const aad = new Uint8Array(32 + 28 + 4 + 8);
  aad.set(header.messageId, 0);
  aad.set(new TextEncoder().encode('AWSKMSEncryptionClient Frame'), 32);
  new DataView(aad.buffer).setUint32(60, 1);
  new DataView(aad.buffer).setUint32(68, frameBytes);
  const worker = new Worker(
    URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' })),
  );
  try {
    const reply = await new Promise<{
      ok: boolean;
      plaintextBytes?: number;
      extractable?: boolean;
    }>((resolve) => {
      worker.onmessage = (
        event: MessageEvent<{ ok: boolean; plaintextBytes?: number; extractable?: boolean }>,
      ) => resolve(event.data);
      worker.postMessage({
        contentKey: written.contentKey,
        iv: frame1.slice(4, 16),
        aad,
        sealed: frame1.slice(16),
      });
    });
    return {
      workerOk: reply.ok && reply.plaintextBytes === frameBytes,
      workerExtractable: reply.extractable ?? true,
      outOfOrderOk,
    };
  } finally {
    worker.terminate();
  }
}
