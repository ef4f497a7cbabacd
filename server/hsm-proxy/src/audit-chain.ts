/**
 * [Note: audit hash chain] Each audit line is one JSON object whose `prev` field is the SHA-256
 * (hex) of the previous line's bytes (without its newline); the first line of a new log chains
 * from GENESIS. Editing, deleting, inserting or reordering any line therefore breaks the chain at
 * the line after it. What a chain alone cannot show: a cut-off tail, or a log rewritten as a
 * whole with a fresh chain. Keep the last hash `verifyAuditLog` reports somewhere else (or ship
 * the lines off the host) to anchor it.
 *
 * Lines without `prev` at the head of a file were written by a proxy before the chain existed;
 * they are counted as unchained, and the first chained line chains from the last of them.
 */
import { createHash } from 'node:crypto';

/** What the first line of a new log chains from. */
export const GENESIS = '0'.repeat(64);

/** SHA-256 of one line's bytes (without the newline), hex. */
export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

export type VerifyResult =
  | { ok: true; lines: number; unchained: number; lastHash: string }
  | { ok: false; line: number; reason: string };

/**
 * Checks the chain of a whole audit log's text. Line numbers count from 1.
 * Returns the first broken line and why, or the count and the last line's hash.
 */
export function verifyAuditLog(text: string): VerifyResult {
  if (text.length === 0) return { ok: true, lines: 0, unchained: 0, lastHash: GENESIS };
  if (!text.endsWith('\n')) {
    const count = text.split('\n').length;
    return {
      ok: false,
      line: count,
      reason: 'the last line is incomplete (a write was cut short, or the file was truncated)',
    };
  }
  const lines = text.slice(0, -1).split('\n');
  let previous = GENESIS;
  let unchained = 0;
  let chained = false;
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return { ok: false, line: number, reason: 'not a JSON line (edited or damaged)' };
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      return { ok: false, line: number, reason: 'not a JSON object (edited or damaged)' };
    }
    const prev = (record as Record<string, unknown>).prev;
    if (prev === undefined && !chained) {
      unchained++;
    } else if (typeof prev !== 'string') {
      return { ok: false, line: number, reason: 'no "prev" hash after the chain began (edited)' };
    } else if (prev !== previous) {
      return {
        ok: false,
        line: number,
        reason:
          number === 1
            ? 'the first line does not chain from the start of a log (lines before it were removed)'
            : `"prev" does not match line ${number - 1}: a line was edited, removed, inserted or moved here`,
      };
    } else {
      chained = true;
    }
    previous = lineHash(line);
  }
  return { ok: true, lines: lines.length, unchained, lastHash: previous };
}
