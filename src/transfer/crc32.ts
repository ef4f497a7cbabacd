/**
 * CRC-32 (ISO-HDLC, the one S3 calls CRC32 and zlib computes), slicing by 8: the upload workers
 * checksum each part as they build it, so the page hands S3 the value instead of having the SDK
 * compute it on the page's thread ([Note: Blob request bodies] in s3-api.ts).
 */

const TABLES = ((): Uint32Array[] => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] ?? new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n] ?? 0;
    for (let t = 1; t < 8; t++) {
      c = (first[c & 0xff] ?? 0) ^ (c >>> 8);
      const table = tables[t];
      if (table) table[n] = c >>> 0;
    }
  }
  return tables;
})();

/** The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before them). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = ~previous >>> 0;
  let at = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; at < end8; at += 8) {
    const low =
      (crc ^
        (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24))) >>>
      0;
    crc =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[bytes[at + 4]!]! ^
      t2[bytes[at + 5]!]! ^
      t1[bytes[at + 6]!]! ^
      t0[bytes[at + 7]!]!;
  }
  for (; at < bytes.length; at++) crc = t0[(crc ^ bytes[at]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** A CRC-32 as S3 writes it in `x-amz-checksum-crc32`: base64 of its 4 big-endian bytes. */
export function crc32Base64(value: number): string {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0);
  return btoa(String.fromCharCode(...bytes));
}
