/**
 * [Note: one way to write sizes and dates] Every size, rate and date the app shows goes through
 * this file, so Files, Upload, the downloads and Settings say the same thing the same way:
 * - sizes in binary (IEC) units, B, KiB, MiB, GiB, TiB (1 KiB = 1,024 bytes), as the frame
 *   length (512 KiB), the part sizes and the `veil` command line count them, three
 *   significant digits (humanBytes); an exact count in the user's locale (exactBytes);
 * - dates in the user's locale, in one style: Intl.DateTimeFormat with dateStyle 'medium' and
 *   timeStyle 'short' ("2 Jan 2026, 03:04" in en-GB, "Jan 2, 2026, 3:04 AM" in en-US); a time
 *   alone with the same timeStyle (humanTime).
 * Files shows plaintext sizes, never the stored size of an encrypted object ([Note: plaintext
 * size from the header] in sizes.ts). Pure.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `bytes` in human units: 0 B, 999 B, 1.0 KiB, 12.3 MiB, 512 GiB (three significant digits). */
export function humanBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  const digits = value < 10 ? 1 : value < 100 ? 1 : 0;
  // 1023.95 KiB would round to "1024.0 KiB": show the next unit instead.
  const rounded = Number(value.toFixed(digits));
  if (rounded >= 1024 && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${rounded.toFixed(digits)} ${UNITS[unit]}`;
}

/** `bytes` counted exactly in the user's locale: "1,000,000 bytes", "1 byte". */
export function exactBytes(bytes: number, locale?: string): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return '—';
  return `${new Intl.NumberFormat(locale).format(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** A transfer rate: `humanBytes(rate)/s`; '—' before the first sample. */
export function humanRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${humanBytes(bytesPerSecond)}/s` : '—';
}

/** Seconds left as `45 s`, `3 min 05 s`, `2 h 07 min`; '—' when unknown. */
export function humanEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A last-modified time in the user's locale (date and minutes); '—' when unknown. */
export function humanDate(ms: number | undefined, locale?: string, timeZone?: string): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(ms));
}

/** A time of day in the user's locale, in humanDate's time style; '—' when unknown. */
export function humanTime(ms: number | undefined, locale?: string, timeZone?: string): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat(locale, {
    timeStyle: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(ms));
}

/** Whole percent of `done` out of `total` (100 for an empty total). */
export function percentOf(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.min(100, Math.floor((done / total) * 100));
}

/** Download phases worth saying aloud (progress itself is never announced). */
export type AnnouncedPhase = 'downloading' | 'done' | 'failed' | 'cancelled' | 'needs-key';

/**
 * The sentence the Files view's status region says when a download changes phase, or undefined
 * for phases it keeps quiet about (choosing a place, opening).
 */
export function downloadAnnouncement(
  name: string,
  phase: string,
  errorCode?: string,
): string | undefined {
  switch (phase) {
    case 'downloading':
      return `Downloading ${name}.`;
    case 'done':
      return `${name} downloaded.`;
    case 'failed':
      return errorCode ? `${name} failed: ${errorCode}.` : `${name} failed.`;
    case 'cancelled':
      return `${name} cancelled.`;
    case 'needs-key':
      return `${name} needs a key: see the downloads list.`;
    default:
      return undefined;
  }
}
