import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  exactBytes,
  humanBytes,
  humanDate,
  humanEta,
  humanRate,
  humanTime,
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
    // The 1,000,000-byte file of the Files e2e.
    [1_000_000, '977 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
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

describe('one unit system and one date style everywhere', () => {
  test('exact counts in the locale', () => {
    expect(exactBytes(1_000_000, 'en-US')).toBe('1,000,000 bytes');
    expect(exactBytes(1_000_000, 'de-DE')).toBe('1.000.000 bytes');
    expect(exactBytes(1, 'en-US')).toBe('1 byte');
    expect(exactBytes(-1)).toBe('—');
  });

  test('dates: medium date and short time, in each locale', () => {
    const ms = Date.UTC(2026, 0, 2, 15, 4);
    expect(humanDate(ms, 'en-US', 'UTC')).toBe('Jan 2, 2026, 3:04 PM');
    expect(humanDate(ms, 'de-DE', 'UTC')).toBe('02.01.2026, 15:04');
    expect(humanTime(ms, 'en-GB', 'UTC')).toBe('15:04');
    expect(humanTime(undefined)).toBe('—');
  });

  test('Upload, Files and the downloads count in KiB / MiB: no decimal units in state or views', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|svelte)$/.test(name)) files.push(path);
      }
    };
    walk('src/state');
    walk('src/views');
    const offenders = files.filter((path) => {
      const text = readFileSync(path, 'utf8');
      return (
        /\b\d*\s?(kB|MB|GB)\b|toLocale(Date|Time)?String\(|toFixed\(/.test(text) &&
        !path.endsWith(join('files', 'format.ts'))
      );
    });
    expect(offenders).toEqual([]);
  });
});
