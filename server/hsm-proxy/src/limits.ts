/**
 * Request limits: a token bucket per caller (identity, or address before authentication) and a
 * bounded JSON body reader.
 */
import type { IncomingMessage } from 'node:http';

export class RateLimiter {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();
  #sweptAtMs = 0;

  constructor(ratePerSecond: number, burst: number) {
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
  }

  /** Takes one token for `caller`; false when the caller is over its rate. */
  take(caller: string, nowMs = Date.now()): boolean {
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#burst, atMs: nowMs };
    bucket.tokens = Math.min(
      this.#burst,
      bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.#ratePerSecond,
    );
    bucket.atMs = nowMs;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(caller, bucket);
    if (this.#buckets.size > 10_000 && nowMs - this.#sweptAtMs > 1000) this.#sweep(nowMs);
    return allowed;
  }

  /** Forgets callers whose buckets are full again. */
  #sweep(nowMs: number): void {
    this.#sweptAtMs = nowMs;
    const fullAfterMs = (this.#burst / this.#ratePerSecond) * 1000;
    for (const [caller, bucket] of this.#buckets) {
      if (nowMs - bucket.atMs > fullAfterMs) this.#buckets.delete(caller);
    }
  }
}

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly code: 'BODY_TOO_LARGE' | 'MALFORMED_JSON',
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON object body of at most `maxBytes`. */
export async function readJson(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes)
    throw new BodyError('BODY_TOO_LARGE', `the body is limited to ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes)
      throw new BodyError('BODY_TOO_LARGE', `the body is limited to ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError('MALFORMED_JSON', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BodyError('MALFORMED_JSON', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
