/**
 * [Note: badges without the body] How the Files view learns how each object is protected
 * without downloading it:
 * 1. HeadObject. Veil's user metadata (veil-format, veil-model) and the SSE header decide when
 *    the page can read them (badgeOf in shared/protection.ts).
 * 2. When HEAD shows no Veil metadata, either the object was written by another tool or the
 *    response hid the headers: browsers only read what CORS exposes, and some S3 stand-ins
 *    (moto) send no Access-Control-Expose-Headers on HEAD at all. Then one ranged GET of the
 *    first SNIFF_BYTES bytes: its metadata and SSE header when exposed (the bucket rules expose
 *    them on GET), else the bytes themselves (classifyObject: an ESDK v2 message starts
 *    02 04 78 or 02 05 78).
 * 3. The plaintext size ([Note: plaintext size from the header] in sizes.ts): an ESDK object's
 *    header is read from the same ranged GET, which asks for the first FIRST_HEADER_BYTES rather
 *    than SNIFF_BYTES (more when the header is longer), and 24 bytes where the final frame
 *    should start are checked; a plain object's size is its own.
 * Empty objects are never fetched (a range of an empty object is refused): they are plain.
 * Probes run lazily for the rows on screen, a few at a time (ProbeQueue), and are cached by key
 * and ETag so sorting, paging or coming back to a folder costs nothing.
 */
import { classifyObject } from '../../transfer/download-plan';
import type { FilesS3, ObjectFacts } from '../../aws/bucket-s3';
import { badgeOf, type Badge } from '../shared/protection';
import { firstRangeBytes, plaintextSizeOfEsdk, type PlaintextSize, type SizeS3 } from './sizes';

/** A badge and how it was learned. */
export interface ProbedBadge {
  readonly badge: Badge;
  /** 'head': from HeadObject; 'range': metadata of the ranged GET; 'sniff': from the bytes. */
  readonly source: 'head' | 'range' | 'sniff' | 'empty';
  /** SSE at rest, when a response exposed it. */
  readonly serverSideEncryption: string | undefined;
  /** What the file holds: exact, or unknown and why ([Note: plaintext size from the header]). */
  readonly size: PlaintextSize;
}

function hasVeilFormat(facts: ObjectFacts): boolean {
  return facts.metadata['veil-format'] !== undefined;
}

/**
 * The badge and plaintext size of the object `key` of `sizeBytes` bytes (the listing's size);
 * see [Note: badges without the body].
 * @throws the S3 client's errors (the caller shows the row as unknown).
 */
export async function probeBadge(
  s3: Pick<FilesS3, 'head'> & SizeS3,
  key: string,
  sizeBytes: number,
  signal?: AbortSignal,
): Promise<ProbedBadge> {
  const head = await s3.head(key, signal);
  const plainSize: PlaintextSize = { kind: 'exact', plaintextBytes: sizeBytes };
  if (hasVeilFormat(head) && classifyObject(head.metadata, new Uint8Array(0)) === 'plain') {
    return {
      badge: badgeOf(head.metadata, head.serverSideEncryption),
      source: 'head',
      serverSideEncryption: head.serverSideEncryption,
      size: plainSize,
    };
  }
  if (sizeBytes === 0) {
    const sse = head.serverSideEncryption;
    const empty = { source: 'empty', serverSideEncryption: sse } as const;
    // Veil metadata on an empty object claims a message that is not there.
    if (hasVeilFormat(head)) {
      return {
        ...empty,
        badge: badgeOf(head.metadata, sse),
        source: 'head',
        size: { kind: 'unknown', reason: 'cut' },
      };
    }
    return { ...empty, badge: sse ? { kind: 'sse-only', sse } : { kind: 'none' }, size: plainSize };
  }
  const first = await s3.firstBytes(key, firstRangeBytes(sizeBytes), signal);
  const sse = first.serverSideEncryption ?? head.serverSideEncryption;
  const metadataSource = hasVeilFormat(head) ? head : hasVeilFormat(first) ? first : undefined;
  const kind = classifyObject(metadataSource?.metadata, first.bytes);
  const size: PlaintextSize =
    first.sizeBytes !== undefined && first.sizeBytes !== sizeBytes
      ? { kind: 'unknown', reason: 'changed' }
      : kind === 'plain'
        ? plainSize
        : await plaintextSizeOfEsdk(s3, key, sizeBytes, first.bytes, signal);
  if (metadataSource) {
    return {
      badge: badgeOf(metadataSource.metadata, sse),
      source: metadataSource === head ? 'head' : 'range',
      serverSideEncryption: sse,
      size,
    };
  }
  const badge: Badge =
    kind === 'esdk' ? { kind: 'esdk' } : sse ? { kind: 'sse-only', sse } : { kind: 'none' };
  return { badge, source: 'sniff', serverSideEncryption: sse, size };
}

/** A badge being learned, learned, or not learnable. */
export type BadgeState =
  | { readonly state: 'pending' }
  | ({ readonly state: 'known' } & ProbedBadge)
  | { readonly state: 'failed'; readonly reason: string };

/**
 * Runs probes at most `limit` at a once and caches their results by `cacheKey` (object key and
 * ETag). `onChange` is told whenever a badge becomes known or fails.
 */
export class ProbeQueue {
  readonly #limit: number;
  readonly #probe: (key: string, sizeBytes: number, signal: AbortSignal) => Promise<ProbedBadge>;
  readonly #onChange: (cacheKey: string, state: BadgeState) => void;
  readonly #states = new Map<string, BadgeState>();
  readonly #waiting: { cacheKey: string; key: string; sizeBytes: number }[] = [];
  #running = 0;
  #controller = new AbortController();

  constructor(options: {
    readonly limit: number;
    readonly probe: (key: string, sizeBytes: number, signal: AbortSignal) => Promise<ProbedBadge>;
    readonly onChange: (cacheKey: string, state: BadgeState) => void;
  }) {
    this.#limit = Math.max(1, Math.floor(options.limit));
    this.#probe = options.probe;
    this.#onChange = options.onChange;
  }

  /** The cache key of an object version. */
  static cacheKey(key: string, etag: string | undefined): string {
    return `${key}\u0000${etag ?? ''}`;
  }

  /** What is known of `cacheKey` (undefined: never asked). */
  state(cacheKey: string): BadgeState | undefined {
    return this.#states.get(cacheKey);
  }

  /** Asks for a badge; does nothing when it is known, pending or failed already. */
  request(key: string, etag: string | undefined, sizeBytes: number): void {
    const cacheKey = ProbeQueue.cacheKey(key, etag);
    if (this.#states.has(cacheKey)) return;
    this.#states.set(cacheKey, { state: 'pending' });
    this.#waiting.push({ cacheKey, key, sizeBytes });
    this.#pump();
  }

  /** Drops waiting probes (e.g. after leaving the folder); those running finish and are kept. */
  clearWaiting(): void {
    for (const item of this.#waiting.splice(0)) this.#states.delete(item.cacheKey);
  }

  /**
   * Forgets the badges that could not be learned, so the next request probes again (a folder
   * opened again or refreshed: the failure may have been a passing one). Returns their cache
   * keys.
   */
  clearFailed(): string[] {
    const cleared: string[] = [];
    for (const [cacheKey, state] of [...this.#states]) {
      if (state.state !== 'failed') continue;
      this.#states.delete(cacheKey);
      cleared.push(cacheKey);
    }
    return cleared;
  }

  /** Forgets an object (deleted or replaced). */
  forget(key: string): void {
    for (const cacheKey of [...this.#states.keys()]) {
      if (cacheKey.startsWith(`${key}\u0000`)) this.#states.delete(cacheKey);
    }
  }

  /** Stops everything (the credentials changed): running probes are aborted, the cache emptied. */
  reset(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
    this.#waiting.splice(0);
    this.#states.clear();
  }

  /** Probes running now (for tests). */
  get running(): number {
    return this.#running;
  }

  #pump(): void {
    while (this.#running < this.#limit) {
      const item = this.#waiting.shift();
      if (!item) return;
      this.#running += 1;
      const signal = this.#controller.signal;
      void this.#probe(item.key, item.sizeBytes, signal)
        .then(
          (probed): BadgeState => ({ state: 'known', ...probed }),
          (error: unknown): BadgeState => ({
            state: 'failed',
            reason: error instanceof Error ? error.name : 'Error',
          }),
        )
        .then((state) => {
          this.#running -= 1;
          if (!signal.aborted) {
            this.#states.set(item.cacheKey, state);
            this.#onChange(item.cacheKey, state);
          }
          this.#pump();
        });
    }
  }
}
