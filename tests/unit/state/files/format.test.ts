import { describe, expect, test } from 'vitest';
import {
  humanBytes,
  humanDate,
  humanEta,
  humanRate,
  percentOf,
} from '../../../../src/state/files/format';

describe('humanBytes', () => {
  test.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024 + 300 * 1024, '10.3 MiB'],
    [512 * 1024 ** 3, '512 GiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [-1, '—'],
    [Number.NaN, '—'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(humanBytes(bytes)).toBe(text);
  });
});

describe('rates, times left, dates and percent', () => {
  test('rate', () => {
    expect(humanRate(0)).toBe('—');
    expect(humanRate(2 * 1024 * 1024)).toBe('2.0 MiB/s');
  });

  test.each([
    [undefined, '—'],
    [0.2, '1 s'],
    [59, '59 s'],
    [185, '3 min 05 s'],
    [7620, '2 h 07 min'],
    [Number.POSITIVE_INFINITY, '—'],
  ])('eta %s → %s', (seconds, text) => {
    expect(humanEta(seconds)).toBe(text);
  });

  test('date in a fixed locale and zone; unknown as a dash', () => {
    expect(humanDate(Date.UTC(2026, 0, 2, 3, 4), 'en-GB', 'UTC')).toBe('2 Jan 2026, 03:04');
    expect(humanDate(undefined)).toBe('—');
  });

  test('percent', () => {
    expect(percentOf(0, 0)).toBe(100);
    expect(percentOf(1, 3)).toBe(33);
    expect(percentOf(5, 4)).toBe(100);
  });
});
