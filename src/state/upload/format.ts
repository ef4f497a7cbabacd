/**
 * How Upload writes sizes, rates and times: decimal units (1 MB = 1,000,000 bytes, as file
 * managers show them), with a fixed number of significant digits so a column of figures keeps
 * its width while they change.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** `bytes` as "0 B", "999 B", "1.00 kB", "12.3 MB", "123 MB" (three significant digits). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A rate in bytes per second as "12.3 MB/s"; "–" before the first sample. */
export function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : '–';
}

/** Seconds left as "0:07", "12:34", "1:02:03"; "–" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A date for the unfinished-uploads list, in the user's locale ("23 Nov 2026, 14:05"). */
export function formatDate(ms: number, locale?: string): string {
  return new Date(ms).toLocaleString(locale, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Where a row is, as the summary counts it. */
export type RowPhase =
  'checking' | 'conflict' | 'queued' | 'active' | 'done' | 'failed' | 'cancelled';

/** What the summary line needs of a row. */
export interface SummaryRow {
  readonly phase: RowPhase;
  readonly sizeBytes: number;
  /** Plaintext bytes uploaded (object bytes scaled to the file's size). */
  readonly sentBytes: number;
}

/** The totals over the queue. */
export interface QueueSummary {
  readonly files: number;
  readonly done: number;
  readonly failed: number;
  readonly waiting: number;
  readonly active: number;
  readonly totalBytes: number;
  readonly sentBytes: number;
}

/** Totals over `rows`; cancelled rows are left out. */
export function summarize(rows: readonly SummaryRow[]): QueueSummary {
  let done = 0;
  let failed = 0;
  let waiting = 0;
  let active = 0;
  let totalBytes = 0;
  let sentBytes = 0;
  let files = 0;
  for (const row of rows) {
    if (row.phase === 'cancelled') continue;
    files += 1;
    totalBytes += row.sizeBytes;
    sentBytes += row.phase === 'done' ? row.sizeBytes : Math.min(row.sentBytes, row.sizeBytes);
    if (row.phase === 'done') done += 1;
    else if (row.phase === 'failed') failed += 1;
    else if (row.phase === 'active') active += 1;
    else waiting += 1;
  }
  return { files, done, failed, waiting, active, totalBytes, sentBytes };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The summary line: "2 of 5 files uploaded · 12.3 MB of 40.0 MB · 1 failed · 2 waiting". */
export function summaryLine(summary: QueueSummary): string {
  if (summary.files === 0) return 'No uploads yet.';
  const parts = [
    `${summary.done} of ${plural(summary.files, 'file', 'files')} uploaded`,
    `${formatBytes(summary.sentBytes)} of ${formatBytes(summary.totalBytes)}`,
  ];
  if (summary.failed > 0) parts.push(`${summary.failed} failed`);
  if (summary.waiting > 0) parts.push(`${summary.waiting} waiting`);
  return parts.join(' · ');
}

/**
 * Plaintext bytes that `uploadedObjectBytes` of an object of `objectBytes` stand for, for a file
 * of `plaintextBytes` (the header and frame tags make the object a little larger).
 */
export function sentPlaintextBytes(
  uploadedObjectBytes: number,
  objectBytes: number,
  plaintextBytes: number,
): number {
  if (objectBytes <= 0) return 0;
  return Math.min(plaintextBytes, Math.round((uploadedObjectBytes / objectBytes) * plaintextBytes));
}

/**
 * What to say when paused uploads hold the queue: a paused upload keeps its place (the queue
 * runs a fixed number of files at once), so files behind it wait. Undefined when none is paused
 * or none waits.
 */
export function pausedNote(
  rows: readonly { readonly phase: RowPhase; readonly engineState: string | undefined }[],
): string | undefined {
  const paused = rows.filter((row) => row.phase === 'active' && row.engineState === 'paused');
  const waiting = rows.filter((row) => row.phase === 'queued').length;
  if (paused.length === 0 || waiting === 0) return undefined;
  return `Paused uploads keep their place; ${waiting} waiting. Resume or cancel one to let the next start.`;
}
