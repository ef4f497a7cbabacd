/**
 * CRC-32 (ISO-HDLC, the one S3 calls CRC32 and zlib computes): the upload workers checksum each
 * part as they build it, so the page hands S3 the value instead of having the SDK compute it on
 * the page's thread ([Note: Blob request bodies] in s3-api.ts).
 *
 * [Note: CRC-32 by 16] Slicing by 16 over aligned 32-bit words: each step loads four words
 * through an Int32Array view and looks up 16 tables of one flat Int32Array, so V8 does four
 * loads where byte-wise slicing by 8 did sixteen for the same bytes, and no table is picked out
 * of an array of arrays. `npm run bench:upload` (stage table) measured it against the slicing by
 * 8 it replaces, a WebAssembly slicing by 16 and WebCrypto SHA-256, in the same Chromium. The
 * word loads read the platform's byte order; on a big-endian platform (none runs Veil today) the
 * byte-wise loop does all the work, so the result is the same everywhere.
 */

/** Table k (k = 0..15) at k * 256: the CRC of byte n followed by k zero bytes. */
const TABLE = ((): Int32Array => {
  const table = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let k = 1; k < 16; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = table[(k - 1) * 256 + n] ?? 0;
      table[k * 256 + n] = (table[previous & 0xff] ?? 0) ^ (previous >>> 8);
    }
  }
  return table;
})();

/** Word loads see the bytes in the CRC's (little-endian) order. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before them). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLE;
  const length = bytes.length;
  let crc = ~previous;
  let at = 0;
  if (LITTLE_ENDIAN && length >= 64) {
    // Bytes up to the first 4-byte boundary of the buffer, then 16 bytes per step.
    const lead = (4 - (bytes.byteOffset & 3)) & 3;
    for (; at < lead; at++) crc = t[(crc ^ bytes[at]!) & 0xff]! ^ (crc >>> 8);
    const words = new Int32Array(bytes.buffer, bytes.byteOffset + lead, (length - lead) >>> 2);
    const end = words.length & ~3;
    for (let w = 0; w < end; w += 4) {
      const a = words[w]! ^ crc;
      const b = words[w + 1]!;
      const c = words[w + 2]!;
      const d = words[w + 3]!;
      crc =
        t[3840 + (a & 0xff)]! ^
        t[3584 + ((a >>> 8) & 0xff)]! ^
        t[3328 + ((a >>> 16) & 0xff)]! ^
        t[3072 + (a >>> 24)]! ^
        t[2816 + (b & 0xff)]! ^
        t[2560 + ((b >>> 8) & 0xff)]! ^
        t[2304 + ((b >>> 16) & 0xff)]! ^
        t[2048 + (b >>> 24)]! ^
        t[1792 + (c & 0xff)]! ^
        t[1536 + ((c >>> 8) & 0xff)]! ^
        t[1280 + ((c >>> 16) & 0xff)]! ^
        t[1024 + (c >>> 24)]! ^
        t[768 + (d & 0xff)]! ^
        t[512 + ((d >>> 8) & 0xff)]! ^
        t[256 + ((d >>> 16) & 0xff)]! ^
        t[d >>> 24]!;
    }
    at = lead + end * 4;
  }
  for (; at < length; at++) crc = t[(crc ^ bytes[at]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** A CRC-32 as S3 writes it in `x-amz-checksum-crc32`: base64 of its 4 big-endian bytes. */
export function crc32Base64(value: number): string {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0);
  return btoa(String.fromCharCode(...bytes));
}
