/**
 * `veil share KEYS --list [--json] s3://BUCKET/KEY`: what the file is shared with, read from its
 * header and joined with its stored list of links as the app's Share dialog does ([Note: links
 * from the header] in transfer/share-list.ts; fileShareLinks in aws/share-link.ts). The header is
 * the truth: a link key it holds that the list lacks is shown as `unknown` (revoke it with
 * `--revoke ID`), a listed link whose key it no longer holds as `gone` (it opens nothing), and
 * the people it holds a key for by fingerprint. A list that is missing, unreadable, replaced or
 * copied from another file does not hide the header's links: they are listed, and stderr says
 * what was wrong with the list.
 *
 * Output, one line per link then one per person, tab-separated, always seven columns (`-` for
 * none):
 *
 *   link    ID  STATE  CREATED  EXPIRES  NAME  LABEL
 *   person  FINGERPRINT  shared  -  -  -  -
 *
 * STATE is `active`, `expired` (its URL no longer works; its key is still in the file),
 * `unknown` (its key is in the file, the list does not know it) or `gone` (listed, its key is
 * no longer in the file); CREATED and EXPIRES are ISO 8601 times from the list; NAME is
 * `name-included` or `no-name`; LABEL is the sharer's label with unsafe characters escaped. A
 * link of a rebuilt list (details lost) is `unknown` with NAME `-`, CREATED the rebuild (the
 * link is older) and EXPIRES the latest its URL can work.
 * With --json: one object {file, links, people, listError}, ASCII only (see listJson).
 */
import { isExpired } from '../core/share-link';
import { escapeUntrusted } from '../core/untrusted-text';
import type { FileShares } from '../aws/share-link';
import type { FileLink } from '../transfer/share-list';
import { errorLine } from './error-line';

/** What a link is, as listed (see the header). */
export type LinkState = 'active' | 'expired' | 'unknown' | 'gone';

/**
 * A link's state: from the header (in the file?) and the list (known? expired?). An entry of a
 * rebuilt list (its details lost, share-list-rebuild.ts) is unknown until its bound expires.
 */
export function linkState(link: FileLink, nowMs: number): LinkState {
  if (!link.inFile) return 'gone';
  if (!link.entry) return 'unknown';
  if (isExpired(link.entry, nowMs)) return 'expired';
  return link.entry.detailsUnknown ? 'unknown' : 'active';
}

function isoOrDash(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

/** One `link` line of `--list` (see the header). Pure. */
export function linkLine(link: FileLink, nowMs: number): string {
  const entry = link.entry;
  return [
    'link',
    link.id,
    linkState(link, nowMs),
    isoOrDash(entry?.createdAtMs),
    isoOrDash(entry?.expiresAtMs),
    entry && !entry.detailsUnknown ? (entry.nameIncluded ? 'name-included' : 'no-name') : '-',
    entry && entry.label !== '' ? escapeUntrusted(entry.label) : '-',
  ].join('\t');
}

/** One `person` line of `--list`. Pure. */
export function personLine(fingerprint: string): string {
  return ['person', escapeUntrusted(fingerprint), 'shared', '-', '-', '-', '-'].join('\t');
}

/** The lines for stderr: what was wrong with the list, and which link keys it lacks. Pure. */
export function listWarnings(shares: FileShares): string[] {
  const lines: string[] = [];
  if (shares.listError) {
    lines.push(
      `warning: the file's list of links could not be read (${errorLine(shares.listError).replace(/\s*\n\s*/g, ' ')}); ` +
        `the links below come from the file's header alone`,
    );
  }
  const unknown = shares.links.filter((link) => link.inFile && !link.entry);
  for (const link of unknown) {
    lines.push(
      `warning: link ${link.id} opens the file but is not in its list of links; ` +
        `if you did not make it, revoke it with --revoke ${link.id}`,
    );
  }
  return lines;
}

/** JSON with every character outside printable ASCII as a \u escape: exact, and terminal-safe. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[^\x20-\x7e\n]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * `--list --json`: `{ file, links: [{ id, state, inFile, listed, createdAt, expiresAt,
 * nameIncluded, label, detailsUnknown }], people: [{ fingerprint }], listError: { code, message } | null }`,
 * with null for what the list does not say and the label as stored. Pure.
 */
export function listJson(file: string, shares: FileShares, nowMs: number): string {
  return asciiJson({
    file,
    links: shares.links.map((link) => ({
      id: link.id,
      state: linkState(link, nowMs),
      inFile: link.inFile,
      listed: link.entry !== undefined,
      createdAt: link.entry ? new Date(link.entry.createdAtMs).toISOString() : null,
      expiresAt: link.entry ? new Date(link.entry.expiresAtMs).toISOString() : null,
      nameIncluded: link.entry && !link.entry.detailsUnknown ? link.entry.nameIncluded : null,
      label: link.entry ? link.entry.label : null,
      detailsUnknown: link.entry?.detailsUnknown === true,
    })),
    people: shares.people.map((fingerprint) => ({ fingerprint })),
    listError: shares.listError
      ? { code: shares.listError.code, message: errorLine(shares.listError) }
      : null,
  });
}

/**
 * Prints a file's shares: lines on `print` (or the JSON), warnings on `warn`. Nothing shared
 * prints no line (and `no share links or people` on `warn`).
 */
export function printShares(
  file: string,
  shares: FileShares,
  options: {
    readonly json: boolean;
    readonly nowMs: number;
    readonly print: (line: string) => void;
    readonly warn: (line: string) => void;
  },
): void {
  for (const line of listWarnings(shares)) options.warn(line);
  if (options.json) {
    options.print(listJson(file, shares, options.nowMs));
    return;
  }
  if (shares.links.length === 0 && shares.people.length === 0) {
    options.warn('no share links or people');
  }
  for (const link of shares.links) options.print(linkLine(link, options.nowMs));
  for (const fingerprint of shares.people) options.print(personLine(fingerprint));
}
