/**
 * Progress of `veil cp` on a terminal: one line on stderr, redrawn in place at most every
 * REDRAW_MS, cleared when the transfer ends. When stderr is not a terminal (a pipe, a file, a
 * test), nothing is drawn, so scripts see only the one-line error contract of the command line.
 */
import type { Writable } from 'node:stream';

/** Least time between two redraws, in milliseconds. */
const REDRAW_MS = 200;

/** What one redraw shows. */
export interface ProgressFigures {
  /** 'upload' or 'download'. */
  readonly verb: string;
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly rateBytesPerSecond: number;
  readonly etaSeconds: number | undefined;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `bytes` in binary units with one decimal beyond bytes: "12.5 MiB". Pure. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds as "42s", "3m05s" or "1h02m". Pure. */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** The progress line's text (without the carriage return). Pure. */
export function progressText(figures: ProgressFigures): string {
  const percent =
    figures.totalBytes > 0 ? Math.floor((100 * figures.doneBytes) / figures.totalBytes) : 100;
  const parts = [
    `${figures.verb} ${formatBytes(figures.doneBytes)} / ${formatBytes(figures.totalBytes)}`,
    `(${percent}%)`,
  ];
  if (figures.rateBytesPerSecond > 0) parts.push(`${formatBytes(figures.rateBytesPerSecond)}/s`);
  if (figures.etaSeconds !== undefined) parts.push(`ETA ${formatSeconds(figures.etaSeconds)}`);
  return parts.join('  ');
}

/** A progress line: `show` redraws (throttled), `end` clears it and prints `summary` if given. */
export interface ProgressLine {
  show(figures: ProgressFigures): void;
  end(summary?: string): void;
}

/**
 * The progress line for `stream` (default process.stderr): drawn only when it is a terminal,
 * otherwise every call does nothing.
 */
export function progressLine(
  stream: Writable & { isTTY?: boolean } = process.stderr,
  nowMs: () => number = () => performance.now(),
): ProgressLine {
  if (!stream.isTTY) return { show: () => undefined, end: () => undefined };
  let lastMs = -Infinity;
  let drawn = false;
  return {
    show(figures) {
      const now = nowMs();
      if (now - lastMs < REDRAW_MS && figures.doneBytes < figures.totalBytes) return;
      lastMs = now;
      drawn = true;
      stream.write(`\r\x1b[K${progressText(figures)}`);
    },
    end(summary) {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
      if (summary) stream.write(`${summary}\n`);
    },
  };
}
