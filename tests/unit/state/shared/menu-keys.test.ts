import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  menuKeyMove,
  menuPlacement,
  openingIndex,
  typeAheadIndex,
  type ScreenBox,
} from '../../../../src/state/shared/menu-keys';

/** A file row's menu, in the order the row gives it. */
const LABELS = [
  'Preview',
  'Details',
  'Versions…',
  'Share link…',
  'Share with a person…',
  'Protection…',
  'Rename…',
  'Move…',
  'Delete',
];
const RENAME = LABELS.indexOf('Rename…');

describe('menuKeyMove', () => {
  it('steps with the arrows and wraps at both ends', () => {
    expect(menuKeyMove('ArrowDown', 0, LABELS)).toEqual({ kind: 'focus', index: 1 });
    expect(menuKeyMove('ArrowDown', LABELS.length - 1, LABELS)).toEqual({
      kind: 'focus',
      index: 0,
    });
    expect(menuKeyMove('ArrowUp', 0, LABELS)).toEqual({
      kind: 'focus',
      index: LABELS.length - 1,
    });
    expect(menuKeyMove('ArrowUp', 3, LABELS)).toEqual({ kind: 'focus', index: 2 });
  });

  it('goes to the first item with Home and to the last with End', () => {
    expect(menuKeyMove('Home', 5, LABELS)).toEqual({ kind: 'focus', index: 0 });
    expect(menuKeyMove('End', 2, LABELS)).toEqual({ kind: 'focus', index: LABELS.length - 1 });
  });

  it('closes on Escape back on the button, and on Tab letting focus move on', () => {
    expect(menuKeyMove('Escape', 4, LABELS)).toEqual({ kind: 'close', refocus: true });
    expect(menuKeyMove('Tab', 4, LABELS)).toEqual({ kind: 'close', refocus: false });
  });

  it('jumps by a typed letter, and leaves Enter, Space and other keys to the item', () => {
    expect(menuKeyMove('r', 0, LABELS)).toEqual({ kind: 'focus', index: RENAME });
    expect(menuKeyMove('R', 0, LABELS)).toEqual({ kind: 'focus', index: RENAME });
    for (const key of ['Enter', ' ', 'Shift', 'F5', 'x', 'ArrowLeft']) {
      expect(menuKeyMove(key, 0, LABELS), key).toEqual({ kind: 'none' });
    }
  });

  it('refuses an item index outside the menu', () => {
    expect(() => menuKeyMove('ArrowDown', -1, LABELS)).toThrow(RangeError);
    expect(() => menuKeyMove('ArrowDown', LABELS.length, LABELS)).toThrow(RangeError);
    expect(() => menuKeyMove('ArrowDown', 0.5, LABELS)).toThrow(RangeError);
    expect(() => menuKeyMove('ArrowDown', 0, [])).toThrow(RangeError);
  });

  it('always lands on an item of the menu (property)', () => {
    const keys = ['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageUp', 'PageDown', 'a', 'z', 'é'];
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.constantFrom(...keys),
        (labels, seed, key) => {
          const move = menuKeyMove(key, seed % labels.length, labels);
          if (move.kind === 'focus') {
            expect(move.index).toBeGreaterThanOrEqual(0);
            expect(move.index).toBeLessThan(labels.length);
          }
        },
      ),
    );
  });
});

describe('openingIndex', () => {
  it('opens on the first item with ArrowDown and on the last with ArrowUp', () => {
    expect(openingIndex('ArrowDown', 4)).toBe(0);
    expect(openingIndex('ArrowUp', 4)).toBe(3);
  });

  it('leaves other keys (Enter and Space click the button) and an empty menu alone', () => {
    expect(openingIndex('Enter', 4)).toBeUndefined();
    expect(openingIndex(' ', 4)).toBeUndefined();
    expect(openingIndex('ArrowDown', 0)).toBeUndefined();
  });
});

describe('typeAheadIndex', () => {
  it('cycles through the items a letter matches, from the one after the current', () => {
    const share = LABELS.indexOf('Share link…');
    const person = LABELS.indexOf('Share with a person…');
    expect(typeAheadIndex(LABELS, 0, 's')).toBe(share);
    expect(typeAheadIndex(LABELS, share, 's')).toBe(person);
    expect(typeAheadIndex(LABELS, person, 's')).toBe(share);
  });

  it('wraps round to the items before the current one', () => {
    expect(typeAheadIndex(LABELS, RENAME, 'p')).toBe(0);
    expect(typeAheadIndex(LABELS, 0, 'p')).toBe(LABELS.indexOf('Protection…'));
  });

  it('stays on the current item when it is the only match', () => {
    expect(typeAheadIndex(LABELS, RENAME, 'r')).toBe(RENAME);
  });

  it('skips leading symbols of a label and ignores case', () => {
    expect(typeAheadIndex(['“Quoted”', '⋯ More'], 1, 'Q')).toBe(0);
    expect(typeAheadIndex(['“Quoted”', '⋯ More'], 0, 'm')).toBe(1);
  });

  it('matches nothing for no match, a space, or more than one character', () => {
    expect(typeAheadIndex(LABELS, 0, 'x')).toBeUndefined();
    expect(typeAheadIndex(LABELS, 0, ' ')).toBeUndefined();
    expect(typeAheadIndex(LABELS, 0, 'Enter')).toBeUndefined();
    expect(typeAheadIndex([], 0, 'a')).toBeUndefined();
  });
});

describe('menuPlacement', () => {
  const box = (top: number, left: number, widthPx = 40, heightPx = 30): ScreenBox => ({
    top,
    bottom: top + heightPx,
    left,
    right: left + widthPx,
  });

  it('opens below and grows to the left of a button at the right of a wide screen', () => {
    expect(menuPlacement(box(100, 1200), 200, 300, 1280, 800)).toEqual({
      above: false,
      alignEnd: true,
      maxHeightPx: undefined,
    });
  });

  it('flips up near the bottom of the screen when there is more room above', () => {
    expect(menuPlacement(box(700, 1200), 200, 300, 1280, 800).above).toBe(true);
  });

  it('stays below when it fits there, even with more room above', () => {
    expect(menuPlacement(box(400, 1200), 200, 300, 1280, 800).above).toBe(false);
  });

  it('stays below when it fits nowhere and below has the more room', () => {
    expect(menuPlacement(box(100, 1200), 200, 900, 1280, 800).above).toBe(false);
  });

  it('scrolls in the room of the larger side when it fits on neither', () => {
    // Button from 100 to 130 px: 800 - 8 - 130 = 662 px below, 100 - 8 = 92 px above.
    expect(menuPlacement(box(100, 1200), 200, 900, 1280, 800).maxHeightPx).toBe(662);
    // Button from 350 to 380 px of 700: 312 px below, 342 px above.
    expect(menuPlacement(box(350, 1200), 200, 370, 1280, 700)).toEqual({
      above: true,
      alignEnd: true,
      maxHeightPx: 342,
    });
    expect(menuPlacement(box(350, 1200), 200, 300, 1280, 700).maxHeightPx).toBeUndefined();
  });

  it('grows to the right of a button at the left of a 390 px screen', () => {
    expect(menuPlacement(box(300, 16), 220, 300, 390, 844).alignEnd).toBe(false);
  });

  it('keeps growing to the left when neither side fits and the left overflows less', () => {
    // Right edge at 300: aligned to the end it crosses the left edge by 400 - 300 + 8 = 108 px;
    // aligned to the start (left at 260) it crosses the right edge by 260 + 400 - 382 = 278 px.
    expect(menuPlacement(box(100, 260), 400, 100, 390, 844).alignEnd).toBe(true);
  });

  it('keeps the menu inside the screen, across it whenever one side has room (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 320, max: 2000 }),
        fc.integer({ min: 300, max: 1200 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 80, max: 300 }),
        fc.integer({ min: 40, max: 900 }),
        (viewportWidthPx, viewportHeightPx, xSeed, ySeed, menuWidthPx, menuHeightPx) => {
          // A button inside the page's margins, anywhere on the screen.
          const button = box(
            8 + (ySeed / 1000) * (viewportHeightPx - 46),
            8 + (xSeed / 1000) * (viewportWidthPx - 56),
          );
          const place = menuPlacement(
            button,
            menuWidthPx,
            menuHeightPx,
            viewportWidthPx,
            viewportHeightPx,
          );
          const left = place.alignEnd ? button.right - menuWidthPx : button.left;
          const fitsLeftOrRight =
            button.right - menuWidthPx >= 8 || button.left + menuWidthPx <= viewportWidthPx - 8;
          if (fitsLeftOrRight) {
            expect(left).toBeGreaterThanOrEqual(8);
            expect(left + menuWidthPx).toBeLessThanOrEqual(viewportWidthPx - 8);
          }
          // Vertically always: where it does not fit, it is given a height that does.
          const heightPx = place.maxHeightPx ?? menuHeightPx;
          const shownTop = place.above ? button.top - heightPx : button.bottom;
          expect(heightPx).toBeLessThanOrEqual(menuHeightPx);
          expect(shownTop).toBeGreaterThanOrEqual(8);
          expect(shownTop + heightPx).toBeLessThanOrEqual(viewportHeightPx - 8);
        },
      ),
    );
  });

  it('refuses a negative or missing size', () => {
    expect(() => menuPlacement(box(0, 0), -1, 10, 100, 100)).toThrow(RangeError);
    expect(() => menuPlacement(box(0, 0), 10, Number.NaN, 100, 100)).toThrow(RangeError);
    expect(() => menuPlacement(box(0, 0), 10, 10, 100, 100, -4)).toThrow(/marginPx/);
  });
});
