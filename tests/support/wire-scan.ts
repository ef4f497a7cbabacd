/**
 * Finds secrets on the wire: does any request carry any 32-byte window of a secret (a plaintext,
 * a key)? Used by the wire audit (tests/e2e/wire-audit.spec.ts).
 *
 * [Note: wire scan] A 32-byte window of a secret always contains a whole 17-byte key starting
 * at a secret offset that is a multiple of 16. Those keys (one per 16 secret bytes) are indexed by
 * a polynomial rolling hash (mod 2^32) in a chained hash table of typed arrays, behind a bit
 * filter of at most 1 MiB that most positions stop at. Each request is rolled over once, byte by byte; a key whose hash is in the
 * table is compared and extended byte by byte both ways inside its secret, and counts when the
 * common run reaches 32 bytes. So a hit is exact and no window is missed. A request is scanned as its bytes on the wire (request
 * line, headers, body) and also as what its text would decode to: percent-decoding of the
 * target, and every run of base64 (standard or URL alphabet, each of the 4 alignments) or hex
 * (each of the 2 alignments) long enough to hold 32 bytes. That catches a key sent as JSON
 * base64, as in the HSM proxy's API, or as hex in a URL. Windows are per request: a secret split
 * over two requests is not a 32-byte window of either.
 */

/** Bytes per window. */
export const WINDOW_BYTES = 32;
/** Secret positions indexed: every STRIDE_BYTES-th. */
const STRIDE_BYTES = 16;
/** Bytes hashed per key: any 32-byte window holds a whole key at an indexed position. */
const KEY_BYTES = WINDOW_BYTES - STRIDE_BYTES + 1;

const BASE = 0x01000193;
/** BASE^(KEY_BYTES-1) mod 2^32, to drop the outgoing byte. */
const BASE_POW = (() => {
  let power = 1;
  for (let i = 0; i < KEY_BYTES - 1; i++) power = Math.imul(power, BASE);
  return power;
})();

/** The hash of the key at `start`, as a signed 32-bit integer (kept small for V8). */
function hashAt(bytes: Uint8Array, start: number): number {
  let hash = 0;
  for (let i = start; i < start + KEY_BYTES; i++) hash = (Math.imul(hash, BASE) + bytes[i]!) | 0;
  return hash;
}

/** Where a secret was found. */
export interface Hit {
  readonly secret: string;
  /** Offset in the secret where the matching run (at least 32 bytes) starts. */
  readonly secretOffset: number;
  /** Offset in the scanned view where it starts. */
  readonly viewOffset: number;
  /** Which view: 'wire', 'url', 'base64' or 'hex'. */
  readonly view: string;
}

/** Every 32-byte window of a set of named secrets, for exact lookups ([Note: wire scan]). */
export class SecretIndex {
  readonly #names: string[] = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #bytes: Uint8Array;
  readonly #shift: number;
  readonly #heads: Int32Array;
  /** A bit per filter bucket that holds a key: most positions stop at this small table. */
  readonly #filterShift: number;
  readonly #filter: Uint32Array;
  /** Per key: its position in #bytes, its hash and the next key in its bucket. */
  readonly #positions: Int32Array;
  readonly #hashes: Int32Array;
  readonly #next: Int32Array;

  /** Indexes every secret (secrets shorter than a window are refused). */
  constructor(secrets: Readonly<Record<string, Uint8Array>>) {
    let total = 0;
    let keys = 0;
    for (const [name, bytes] of Object.entries(secrets)) {
      if (bytes.length < WINDOW_BYTES) throw new RangeError(`secret ${name} is under 32 bytes`);
      this.#names.push(name);
      this.#starts.push(total);
      total += bytes.length;
      this.#ends.push(total);
      keys += Math.floor((bytes.length - KEY_BYTES) / STRIDE_BYTES) + 1;
    }
    this.#bytes = new Uint8Array(total);
    Object.values(secrets).forEach((bytes, i) => this.#bytes.set(bytes, this.#starts[i]));
    const bucketBits = Math.min(24, Math.max(12, Math.ceil(Math.log2(keys * 2))));
    this.#shift = 32 - bucketBits;
    this.#heads = new Int32Array(1 << bucketBits).fill(-1);
    const filterBits = Math.min(23, Math.max(10, Math.ceil(Math.log2(keys * 8))));
    this.#filterShift = 32 - filterBits;
    this.#filter = new Uint32Array(1 << (filterBits - 5));
    this.#positions = new Int32Array(keys);
    this.#hashes = new Int32Array(keys);
    this.#next = new Int32Array(keys);
    let key = 0;
    this.#starts.forEach((start, i) => {
      for (let at = start; at + KEY_BYTES <= this.#ends[i]!; at += STRIDE_BYTES) {
        const hash = hashAt(this.#bytes, at);
        const bucket = hash >>> this.#shift;
        this.#positions[key] = at;
        this.#hashes[key] = hash;
        this.#next[key] = this.#heads[bucket]!;
        this.#heads[bucket] = key;
        const bit = hash >>> this.#filterShift;
        this.#filter[bit >>> 5]! |= 1 << (bit & 31);
        key += 1;
      }
    });
  }

  /** 32-byte windows covered (one per byte position of each secret). */
  get windows(): number {
    return this.#starts.reduce(
      (sum, start, i) => sum + this.#ends[i]! - start - WINDOW_BYTES + 1,
      0,
    );
  }

  #secretOf(at: number): number {
    let i = this.#starts.length - 1;
    while (this.#starts[i]! > at) i--;
    return i;
  }

  /**
   * Every secret found in `view`: a run of at least 32 bytes equal to part of a secret (at most
   * one hit per secret per view). A key matching at an indexed position is extended both ways
   * within its secret; the run counts when it reaches 32 bytes.
   */
  scan(view: Uint8Array, label: string): Hit[] {
    if (view.length < WINDOW_BYTES) return [];
    const hits: Hit[] = [];
    const found = new Set<number>();
    const bytes = this.#bytes;
    const heads = this.#heads;
    const next = this.#next;
    const hashes = this.#hashes;
    const positions = this.#positions;
    const shift = this.#shift;
    const filter = this.#filter;
    const filterShift = this.#filterShift;
    const last = view.length - KEY_BYTES;
    let hash = hashAt(view, 0);
    for (let from = 0; ; from++) {
      const bit = hash >>> filterShift;
      const maybe = (filter[bit >>> 5]! & (1 << (bit & 31))) !== 0;
      for (let key = maybe ? heads[hash >>> shift]! : -1; key !== -1; key = next[key]!) {
        if (hashes[key] !== hash) continue;
        const at = positions[key]!;
        const secret = this.#secretOf(at);
        if (found.has(secret)) continue;
        const start = this.#starts[secret]!;
        const end = this.#ends[secret]!;
        let left = 0;
        while (left < WINDOW_BYTES && at - left > start && from - left > 0) {
          if (bytes[at - left - 1] !== view[from - left - 1]) break;
          left += 1;
        }
        let length = 0;
        while (length < WINDOW_BYTES + left && at + length < end && from + length < view.length) {
          if (bytes[at + length] !== view[from + length]) break;
          length += 1;
        }
        if (length < KEY_BYTES || left + length < WINDOW_BYTES) continue;
        found.add(secret);
        hits.push({
          secret: this.#names[secret]!,
          secretOffset: at - left - start,
          viewOffset: from - left,
          view: label,
        });
      }
      if (from >= last) break;
      hash =
        (Math.imul((hash - Math.imul(view[from]!, BASE_POW)) | 0, BASE) + view[from + KEY_BYTES]!) |
        0;
    }
    return hits;
  }
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{43,}/g;
const HEX_RUN = /[0-9A-Fa-f]{64,}/g;
const BASE64_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  values['+'.charCodeAt(0)] = 62;
  values['-'.charCodeAt(0)] = 62;
  values['/'.charCodeAt(0)] = 63;
  values['_'.charCodeAt(0)] = 63;
  return values;
})();

/** Decodes base64 (either alphabet) from character `skip` of `run`, ignoring a trailing part. */
function decodeBase64(run: string, skip: number): Uint8Array {
  const out = new Uint8Array(Math.floor(((run.length - skip) * 3) / 4));
  let bits = 0;
  let count = 0;
  let written = 0;
  for (let i = skip; i < run.length; i++) {
    bits = (bits << 6) | BASE64_VALUES[run.charCodeAt(i)]!;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[written++] = (bits >>> count) & 0xff;
    }
  }
  return out.subarray(0, written);
}

function decodeHex(run: string, skip: number): Uint8Array {
  const out = new Uint8Array(Math.floor((run.length - skip) / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(run.substr(skip + 2 * i, 2), 16);
  return out;
}

/**
 * The decoded views of a request's text (see [Note: wire scan]): base64 and hex runs of `text`,
 * decoded at every alignment. `text` is the latin1 reading of the bytes, so binary bodies work too.
 */
export function decodedViews(text: string): { label: string; bytes: Uint8Array }[] {
  const views: { label: string; bytes: Uint8Array }[] = [];
  for (const match of text.matchAll(BASE64_RUN)) {
    for (let skip = 0; skip < 4; skip++) {
      views.push({ label: 'base64', bytes: decodeBase64(match[0], skip) });
    }
  }
  for (const match of text.matchAll(HEX_RUN)) {
    for (let skip = 0; skip < 2; skip++)
      views.push({ label: 'hex', bytes: decodeHex(match[0], skip) });
  }
  return views;
}

/** One request as recorded: what went where. */
export interface WireRequest {
  /** Where it went, e.g. `http://127.0.0.1:5000`. */
  readonly origin: string;
  readonly method: string;
  /** Path and query. */
  readonly target: string;
  /** Header lines as sent. */
  readonly headerText: string;
  readonly body: Uint8Array;
}

/** The bytes of `request` as on the wire: request line, headers, blank line, body. */
export function wireBytes(request: WireRequest): Uint8Array {
  // Header bytes are latin1 on the wire (Node and Playwright hand them over as latin1 strings).
  const head = Buffer.from(
    `${request.method} ${request.target} HTTP/1.1\r\n${request.headerText}\r\n\r\n`,
    'latin1',
  );
  const bytes = new Uint8Array(head.length + request.body.length);
  bytes.set(head, 0);
  bytes.set(request.body, head.length);
  return bytes;
}

/** The bytes a percent-encoded target stands for (`%XX` to byte XX, `+` kept). */
export function percentDecoded(target: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const hex = target.slice(i + 1, i + 3);
    if (target[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(target.charCodeAt(i) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Totals of a scan. */
export interface ScanTotals {
  requests: number;
  /** Bytes of requests as on the wire. */
  wireBytes: number;
  /** Bytes of decoded views scanned on top. */
  decodedBytes: number;
}

/** Scans requests; returns the hits per request and the totals. */
export function scanRequests(
  index: SecretIndex,
  requests: readonly WireRequest[],
): { hits: { request: WireRequest; hit: Hit }[]; totals: ScanTotals } {
  const hits: { request: WireRequest; hit: Hit }[] = [];
  const totals: ScanTotals = { requests: 0, wireBytes: 0, decodedBytes: 0 };
  for (const request of requests) {
    const bytes = wireBytes(request);
    totals.requests += 1;
    totals.wireBytes += bytes.length;
    const views = [{ label: 'wire', bytes }];
    const target = percentDecoded(request.target);
    views.push({ label: 'url', bytes: target });
    views.push(...decodedViews(Buffer.from(bytes).toString('latin1')));
    views.push(...decodedViews(Buffer.from(target).toString('latin1')));
    for (const view of views.slice(1)) totals.decodedBytes += view.bytes.length;
    for (const view of views) {
      for (const hit of index.scan(view.bytes, view.label)) hits.push({ request, hit });
    }
  }
  return { hits, totals };
}
