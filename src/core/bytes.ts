/**
 * Byte helpers for the message format: big-endian integers, UTF-8, base64, constant-time
 * comparison. All integers in the ESDK format are unsigned big-endian.
 */
import { VeilError } from './errors';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `text` (no terminator, no length prefix). */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Decodes strict UTF-8.
 * @throws VeilError MALFORMED when the bytes are not valid UTF-8 (`what` names the field).
 */
export function fromUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new VeilError('MALFORMED', `${what} is not valid UTF-8`, { cause });
  }
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let totalBytes = 0;
  for (const part of parts) totalBytes += part.length;
  const out = new Uint8Array(totalBytes);
  let offsetBytes = 0;
  for (const part of parts) {
    out.set(part, offsetBytes);
    offsetBytes += part.length;
  }
  return out;
}

/** Two bytes, big-endian. */
export function u16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

/** Four bytes, big-endian. */
export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Eight bytes, big-endian; `value` must be a safe integer (< 2^53). */
export function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(value / 0x1_0000_0000));
  view.setUint32(4, value >>> 0);
  return out;
}

/** Reads a big-endian u16 at `offsetBytes` (caller checks bounds). */
export function readU16(bytes: Uint8Array, offsetBytes: number): number {
  return ((bytes[offsetBytes] ?? 0) << 8) | (bytes[offsetBytes + 1] ?? 0);
}

/** Reads a big-endian u32 at `offsetBytes` (caller checks bounds). */
export function readU32(bytes: Uint8Array, offsetBytes: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offsetBytes);
}

/**
 * Reads a big-endian u64 at `offsetBytes` as a number.
 * @throws VeilError MALFORMED when the value does not fit a safe integer.
 */
export function readU64(bytes: Uint8Array, offsetBytes: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(offsetBytes);
  const low = view.getUint32(offsetBytes + 4);
  if (high >= 0x20_0000) throw new VeilError('MALFORMED', 'a 64-bit length is too large');
  return high * 0x1_0000_0000 + low;
}

/** True when `a` and `b` are equal; the time taken does not depend on where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Unsigned lexicographic order of byte strings; a prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const commonBytes = Math.min(a.length, b.length);
  for (let i = 0; i < commonBytes; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** True when `bytes` starts with `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const stepBytes = 0x8000;
  for (let i = 0; i < bytes.length; i += stepBytes) {
    binary += String.fromCharCode(...bytes.subarray(i, i + stepBytes));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 or base64url, with or without padding.
 * @throws VeilError MALFORMED when `text` is not base64 (`what` names the field).
 */
export function fromBase64(text: string, what: string): Uint8Array {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard) || standard.replace(/=+$/, '').length % 4 === 1) {
    throw new VeilError('MALFORMED', `${what} is not base64`);
  }
  const bare = standard.replace(/=+$/, '');
  const padded = bare.padEnd(Math.ceil(bare.length / 4) * 4, '=');
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** base64url without padding (RFC 7515 section 2), as used by JWK. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * A view of `bytes` as an ArrayBuffer-backed Uint8Array, which WebCrypto's types require.
 * No copy is made unless the bytes live in a SharedArrayBuffer.
 */
export function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}
