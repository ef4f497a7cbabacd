/**
 * How Upload writes times left, the summary line and its counts. Sizes, rates and dates go
 * through src/state/files/format.ts ([Note: one way to write sizes and dates]).
 */
import { humanBytes } from '../files/format';

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
  /** Rows cancelled (left out of the other counts and the bytes). */
  readonly cancelled: number;
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
  let cancelled = 0;
  for (const row of rows) {
    if (row.phase === 'cancelled') {
      cancelled += 1;
      continue;
    }
    files += 1;
    totalBytes += row.sizeBytes;
    sentBytes += row.phase === 'done' ? row.sizeBytes : Math.min(row.sentBytes, row.sizeBytes);
    if (row.phase === 'done') done += 1;
    else if (row.phase === 'failed') failed += 1;
    else if (row.phase === 'active') active += 1;
    else waiting += 1;
  }
  return { files, done, failed, waiting, active, cancelled, totalBytes, sentBytes };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The summary line: "2 of 5 files uploaded · 12.3 MiB of 40.0 MiB · 1 failed · 2 waiting"; a
 * queue of cancelled rows only says so (never "No uploads yet." above them).
 */
export function summaryLine(summary: QueueSummary): string {
  if (summary.files === 0) {
    return summary.cancelled > 0
      ? `${summary.cancelled} cancelled; nothing uploaded.`
      : 'No uploads yet.';
  }
  const parts = [
    `${summary.done} of ${plural(summary.files, 'file', 'files')} uploaded`,
    `${humanBytes(summary.sentBytes)} of ${humanBytes(summary.totalBytes)}`,
  ];
  if (summary.failed > 0) parts.push(`${summary.failed} failed`);
  if (summary.waiting > 0) parts.push(`${summary.waiting} waiting`);
  if (summary.cancelled > 0) parts.push(`${summary.cancelled} cancelled`);
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
