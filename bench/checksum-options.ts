/**
 * Part-checksum options the bench measures beside the engine's own CRC-32 (src/transfer/crc32.ts):
 * the slicing-by-8 JavaScript CRC-32 the engine used before, and a slicing-by-16 CRC-32 in
 * WebAssembly (bench/crc32-slice16.wat, compiled with wabt's wat2wasm into WASM_BASE64 below).
 * WebCrypto SHA-256 needs no code here. The app cannot run the WebAssembly one as it stands: its
 * Content-Security-Policy (src/hosting/csp.ts) has no 'wasm-unsafe-eval'.
 */

/** bench/crc32-slice16.wat, compiled: crc32(previous, pointer, length) over its own memory. */
const WASM_BASE64 =
  'AGFzbQEAAAABCAFgA39/fwF/AwIBAAUDAQABBxICBm1lbW9yeQIABWNyYzMyAAAKgAMB/QIBBX8gAEF/cyEAIAEgAkFwcWohBwJAA0AgASAHTw0BIAEoAgAgAHMhAyABKAIEIQQgASgCCCEFIAEoAgwhBiADQf8BcUECdCgCgHggA0EIdkH/AXFBAnQoAoBwcyADQRB2Qf8BcUECdCgCgGhzIANBGHZBAnQoAoBgcyAEQf8BcUECdCgCgFhzIARBCHZB/wFxQQJ0KAKAUHMgBEEQdkH/AXFBAnQoAoBIcyAEQRh2QQJ0KAKAQHMgBUH/AXFBAnQoAoA4cyAFQQh2Qf8BcUECdCgCgDBzIAVBEHZB/wFxQQJ0KAKAKHMgBUEYdkECdCgCgCBzIAZB/wFxQQJ0KAKAGHMgBkEIdkH/AXFBAnQoAoAQcyAGQRB2Qf8BcUECdCgCgAhzIAZBGHZBAnQoAgBzIQAgAUEQaiEBDAALCyAHIAJBD3FqIQcCQANAIAEgB08NASAAIAEtAABzQf8BcUECdCgCACAAQQh2cyEAIAFBAWohAQwACwsgAEF/cws=';

/** The 16 CRC-32 tables (ISO-HDLC, reflected), table k at k * 256. */
function tables(): Uint32Array {
  const table = new Uint32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  for (let k = 1; k < 16; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = table[(k - 1) * 256 + n] ?? 0;
      table[k * 256 + n] = ((table[previous & 0xff] ?? 0) ^ (previous >>> 8)) >>> 0;
    }
  }
  return table;
}

/** Where data starts in the WebAssembly memory (after the 16 KiB of tables). */
const DATA_AT = 16 * 1024;

/**
 * The WebAssembly CRC-32 for inputs of up to `maxBytes`: each call copies the bytes into the
 * module's memory (a WebCrypto result cannot be written there directly), then checksums them.
 */
export function wasmCrc32(maxBytes: number): (bytes: Uint8Array) => number {
  const module = new WebAssembly.Module(Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)));
  const instance = new WebAssembly.Instance(module);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const crc32 = instance.exports.crc32 as (previous: number, at: number, length: number) => number;
  memory.grow(Math.ceil((DATA_AT + maxBytes) / 65536));
  new Uint32Array(memory.buffer, 0, 16 * 256).set(tables());
  const heap = new Uint8Array(memory.buffer);
  return (bytes) => {
    heap.set(bytes, DATA_AT);
    return crc32(0, DATA_AT, bytes.length) >>> 0;
  };
}

const SLICE8 = tables();

/** The engine's CRC-32 before this bench's changes: slicing by 8, one byte load at a time. */
export function crc32Slice8(bytes: Uint8Array): number {
  const t = SLICE8;
  let crc = ~0 >>> 0;
  let at = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; at < end8; at += 8) {
    const low =
      (crc ^
        (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24))) >>>
      0;
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + bytes[at + 4]!]! ^
      t[512 + bytes[at + 5]!]! ^
      t[256 + bytes[at + 6]!]! ^
      t[bytes[at + 7]!]!;
  }
  for (; at < bytes.length; at++) crc = t[(crc ^ bytes[at]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
