import { describe, expect, test } from 'vitest';
import { RateLimiter } from '../../../server/hsm-proxy/src/limits';

describe('RateLimiter', () => {
  test('allows a burst, then the refill rate, per caller', () => {
    const limiter = new RateLimiter(10, 3);
    const t0 = 1_000_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a', t0))).toEqual([true, true, true, false]);
    expect(limiter.take('b', t0)).toBe(true);
    expect(limiter.take('a', t0 + 50)).toBe(false);
    expect(limiter.take('a', t0 + 100)).toBe(true);
    expect(limiter.take('a', t0 + 100)).toBe(false);
  });

  test('never holds more than the burst however long a caller waits', () => {
    const limiter = new RateLimiter(100, 2);
    limiter.take('a', 0);
    const later = 3_600_000;
    expect([1, 2, 3].map(() => limiter.take('a', later))).toEqual([true, true, false]);
  });
});
