/**
 * `veil share --list`'s output (share-list.ts): each link's state from the header and the list,
 * seven tab-separated columns whatever the label holds (a tab, a newline or a bidi override in a
 * label cannot add a column, a line or reorder text), warnings for an unreadable list and for
 * link keys the list lacks, ASCII-only JSON that parses back to the label as stored, and the
 * per-command help text.
 */
import { describe, expect, it } from 'vitest';
import type { FileShares } from '../../../src/aws/share-link';
import {
  linkLine,
  linkState,
  listJson,
  listWarnings,
  personLine,
  printShares,
} from '../../../src/cli/share-list';
import { commandHelp, USAGE_TEXT } from '../../../src/cli/usage-text';
import { VeilError } from '../../../src/core/errors';
import type { FileLink, LinkEntry } from '../../../src/transfer/share-list';

const NOW = Date.UTC(2026, 0, 10);
const entry = (id: string, change: Partial<LinkEntry> = {}): LinkEntry => ({
  id,
  createdAtMs: Date.UTC(2026, 0, 9),
  expiresAtMs: Date.UTC(2026, 0, 11),
  label: 'Ada',
  nameIncluded: false,
  ...change,
});
const FP = 'ab'.repeat(32);

describe('linkState', () => {
  it('active, expired, unknown and gone', () => {
    expect(linkState({ id: 'a', entry: entry('a'), inFile: true }, NOW)).toBe('active');
    const old = entry('b', { expiresAtMs: NOW - 1 });
    expect(linkState({ id: 'b', entry: old, inFile: true }, NOW)).toBe('expired');
    expect(linkState({ id: 'c', inFile: true }, NOW)).toBe('unknown');
    expect(linkState({ id: 'd', entry: entry('d'), inFile: false }, NOW)).toBe('gone');
    // Gone wins over expired: the key is out of the file either way.
    expect(linkState({ id: 'e', entry: old, inFile: false }, NOW)).toBe('gone');
    // A rebuilt list's entry (details lost): unknown until its bound passes.
    const rebuilt = entry('r', { detailsUnknown: true, label: '' });
    expect(linkState({ id: 'r', entry: rebuilt, inFile: true }, NOW)).toBe('unknown');
    expect(linkLine({ id: 'r', entry: rebuilt, inFile: true }, NOW)).toMatch(
      /\tunknown\t.*\t-\t-$/,
    );
    const bound = { ...rebuilt, expiresAtMs: NOW - 1 };
    expect(linkState({ id: 'r', entry: bound, inFile: true }, NOW)).toBe('expired');
  });
});

describe('linkLine and personLine', () => {
  it('seven columns, - for what the list does not say', () => {
    const known = linkLine(
      { id: 'a', entry: entry('a', { nameIncluded: true }), inFile: true },
      NOW,
    );
    expect(known.split('\t')).toEqual([
      'link',
      'a',
      'active',
      '2026-01-09T00:00:00.000Z',
      '2026-01-11T00:00:00.000Z',
      'name-included',
      'Ada',
    ]);
    expect(linkLine({ id: 'u', inFile: true }, NOW).split('\t')).toEqual([
      'link',
      'u',
      'unknown',
      '-',
      '-',
      '-',
      '-',
    ]);
    expect(linkLine({ id: 'n', entry: entry('n', { label: '' }), inFile: true }, NOW)).toMatch(
      /\tno-name\t-$/,
    );
    expect(personLine(FP).split('\t')).toEqual(['person', FP, 'shared', '-', '-', '-', '-']);
  });

  it('a label cannot add a column or a line, nor reorder the text', () => {
    const label = 'A\tB\nC\u202eD';
    const line = linkLine({ id: 'x', entry: entry('x', { label }), inFile: true }, NOW);
    expect(line.split('\t')).toHaveLength(7);
    expect(line).not.toContain('\n');
    expect(line).not.toContain('\u202e');
    expect(line.split('\t')[6]).toBe('A\\u0009B\\u000aC\\u202eD');
  });
});

describe('listWarnings', () => {
  it('says why the list could not be read, and names each link key it lacks', () => {
    const shares: FileShares = {
      links: [
        { id: 'u', inFile: true },
        { id: 'k', entry: entry('k'), inFile: true },
      ],
      people: [],
      listError: new VeilError('MALFORMED', 'the list'),
    };
    const lines = listWarnings(shares);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/could not be read \(MALFORMED: /);
    expect(lines[1]).toContain('link u opens the file but is not in its list');
    expect(lines[1]).toContain('--revoke u');
    expect(
      listWarnings({ links: [{ id: 'k', entry: entry('k'), inFile: true }], people: [] }),
    ).toEqual([]);
  });
});

describe('listJson', () => {
  it('ASCII only, and parses back to the label as stored', () => {
    const label = 'Zoë \u202e\n';
    const links: FileLink[] = [
      { id: 'u', inFile: true },
      { id: 'g', entry: entry('g', { label }), inFile: false },
    ];
    const text = listJson('s3://b/k', { links, people: [FP] }, NOW);
    expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(parsed).toEqual({
      file: 's3://b/k',
      links: [
        {
          id: 'u',
          state: 'unknown',
          inFile: true,
          listed: false,
          createdAt: null,
          expiresAt: null,
          nameIncluded: null,
          label: null,
          detailsUnknown: false,
        },
        {
          id: 'g',
          state: 'gone',
          inFile: false,
          listed: true,
          createdAt: '2026-01-09T00:00:00.000Z',
          expiresAt: '2026-01-11T00:00:00.000Z',
          nameIncluded: false,
          label,
          detailsUnknown: false,
        },
      ],
      people: [{ fingerprint: FP }],
      listError: null,
    });
  });
});

describe('printShares', () => {
  it('nothing shared: no line on stdout, a word on stderr', () => {
    const out: string[] = [];
    const err: string[] = [];
    printShares(
      's3://b/k',
      { links: [], people: [] },
      { json: false, nowMs: NOW, print: (l) => out.push(l), warn: (l) => err.push(l) },
    );
    expect(out).toEqual([]);
    expect(err).toEqual(['no share links or people']);
  });
});

describe('commandHelp', () => {
  it('share: its usage lines and the columns of --list; an unknown word has none', () => {
    const help = commandHelp('share') ?? '';
    expect(help).toContain('veil share KEYS --list [--json]');
    expect(help).toContain('link    ID  STATE');
    expect(help).not.toContain('veil cp');
    expect(commandHelp('cp')).toContain("'<share link>' FILE");
    expect(commandHelp('nothing')).toBeUndefined();
    expect(USAGE_TEXT).toContain('FILE - writes to stdout');
  });
});
