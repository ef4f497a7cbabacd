/** The Files selection: row ids, the target a selection means, and how the dialog names it. */
import { describe, expect, it } from 'vitest';
import type { Row } from '../../../../src/state/files/listing';
import {
  clickSelection,
  rangeIds,
  rowId,
  selectedOf,
  selectionLabel,
  selectionStatus,
  targetOf,
} from '../../../../src/state/files/selection';

const file = (key: string): Row => ({
  kind: 'file',
  key,
  name: key.split('/').at(-1)!,
  sizeBytes: 1,
  lastModifiedMs: undefined,
  etag: undefined,
});
const folder = (prefix: string): Row => ({
  kind: 'folder',
  prefix,
  name: prefix.split('/').at(-2)!,
});

describe('selection', () => {
  it('keeps files and folders apart and names what they hold', () => {
    expect(rowId(file('a/b'))).not.toBe(rowId(folder('a/b')));
    const rows = [file('top/a.txt'), folder('top/sub/'), file('top/b.txt')];
    expect(targetOf(rows)).toEqual({ keys: ['top/a.txt', 'top/b.txt'], prefixes: ['top/sub/'] });
    expect(selectionLabel(rows)).toBe('2 files and 1 folder');
    expect(selectionLabel([file('top/a.txt')])).toBe('“a.txt”');
    expect(selectionLabel([folder('top/sub/')])).toBe('folder “sub”');
  });
});

describe('range selection', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  const none = { selected: new Set<string>(), anchor: undefined };

  it('rangeIds runs from the anchor to the target in the order shown, either way', () => {
    expect(rangeIds(order, 'b', 'd')).toEqual(['b', 'c', 'd']);
    expect(rangeIds(order, 'd', 'b')).toEqual(['b', 'c', 'd']);
    expect(rangeIds(order, 'c', 'c')).toEqual(['c']);
    expect(rangeIds(order, undefined, 'c')).toEqual(['c']);
    // An anchor no longer shown (filtered out, another folder) is no anchor.
    expect(rangeIds(order, 'gone', 'c')).toEqual(['c']);
    expect(rangeIds(order, 'a', 'gone')).toEqual([]);
  });

  it('a plain click toggles one row and moves the anchor', () => {
    const one = clickSelection(none, order, 'b', true, false);
    expect([...one.selected]).toEqual(['b']);
    expect(one.anchor).toBe('b');
    const off = clickSelection(one, order, 'b', false, false);
    expect([...off.selected]).toEqual([]);
  });

  it('a shift-click sets the range to the clicked state and keeps the anchor', () => {
    const first = clickSelection(none, order, 'b', true, false);
    const range = clickSelection(first, order, 'd', true, true);
    expect([...range.selected].sort()).toEqual(['b', 'c', 'd']);
    expect(range.anchor).toBe('b');
    // A second shift-click moves the other end: rows beyond stay as they are.
    const wider = clickSelection(range, order, 'e', true, true);
    expect([...wider.selected].sort()).toEqual(['b', 'c', 'd', 'e']);
    // Shift-click that unchecks clears the range.
    const cleared = clickSelection(wider, order, 'c', false, true);
    expect([...cleared.selected].sort()).toEqual(['d', 'e']);
    // Upwards from the anchor.
    const up = clickSelection({ selected: new Set(), anchor: 'd' }, order, 'a', true, true);
    expect([...up.selected].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a shift-click without an anchor shown is a plain click', () => {
    const state = clickSelection({ selected: new Set(['x']), anchor: 'x' }, order, 'c', true, true);
    expect([...state.selected].sort()).toEqual(['c', 'x']);
    expect(state.anchor).toBe('c');
  });

  it('the input selection is never changed in place', () => {
    const before = new Set(['a']);
    clickSelection({ selected: before, anchor: 'a' }, order, 'c', true, true);
    expect([...before]).toEqual(['a']);
  });

  it('selectedOf keeps the order shown; selectionStatus counts', () => {
    const rows = [file('t/a'), folder('t/s/'), file('t/b')];
    const ids = new Set([rowId(rows[2]!), rowId(rows[0]!)]);
    expect(selectedOf(rows, ids).map((row) => row.name)).toEqual(['a', 'b']);
    expect(selectionStatus([])).toBe('Nothing selected.');
    expect(selectionStatus([rows[0]!])).toBe('“a” selected.');
    expect(selectionStatus(rows)).toBe('3 selected: 2 files and 1 folder.');
  });
});
