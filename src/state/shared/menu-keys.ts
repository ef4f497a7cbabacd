/**
 * The keyboard and placement rules of a menu button (views/ui/MenuButton.svelte), after the
 * WAI-ARIA APG menu button pattern: which item a key moves to, which item a typed letter
 * jumps to, and on which side of its button the menu opens so it stays on screen. Pure: the
 * component measures and focuses, these functions decide.
 */

/** One item of a menu button's menu. */
export interface MenuItem {
  /** Stable id, the item's `data-action`. */
  readonly id: string;
  /** The visible text, e.g. "Rename…"; type-ahead matches its first letter. */
  readonly label: string;
  /** The accessible name, e.g. "Rename report.pdf". */
  readonly name: string;
  /** Destructive: shown apart, last, in the colour of danger. */
  readonly danger?: boolean;
  /** Runs it, once the menu closed; `button` is the menu button, for dialogs to return focus to. */
  readonly run: (button: HTMLElement) => void;
}

/** What a key pressed on the button or in the open menu asks for. */
export type MenuMove =
  | { readonly kind: 'focus'; readonly index: number }
  | { readonly kind: 'close'; readonly refocus: boolean }
  | { readonly kind: 'none' };

const NONE: MenuMove = { kind: 'none' };

/**
 * The item a key moves to in an open menu of `count` items whose item `current` has focus:
 * ArrowDown and ArrowUp step and wrap, Home and End go to the first and last; Escape closes and
 * puts focus back on the button, Tab closes and lets focus move on; a single printable
 * character jumps by type-ahead over `labels`. Anything else: none.
 * @throws RangeError when `current` is not an index of `labels`.
 */
export function menuKeyMove(key: string, current: number, labels: readonly string[]): MenuMove {
  const count = labels.length;
  if (!Number.isInteger(current) || current < 0 || current >= count) {
    throw new RangeError(`current must be an index below ${count}, not ${current}`);
  }
  switch (key) {
    case 'ArrowDown':
      return { kind: 'focus', index: (current + 1) % count };
    case 'ArrowUp':
      return { kind: 'focus', index: (current - 1 + count) % count };
    case 'Home':
    case 'PageUp':
      return { kind: 'focus', index: 0 };
    case 'End':
    case 'PageDown':
      return { kind: 'focus', index: count - 1 };
    case 'Escape':
      return { kind: 'close', refocus: true };
    case 'Tab':
      return { kind: 'close', refocus: false };
    default: {
      const index = typeAheadIndex(labels, current, key);
      return index === undefined ? NONE : { kind: 'focus', index };
    }
  }
}

/**
 * The item that opens the menu for a key pressed on its closed button: ArrowDown the first,
 * ArrowUp the last (Enter and Space click the button, which opens on the first); undefined for
 * any other key.
 */
export function openingIndex(key: string, count: number): number | undefined {
  if (count <= 0) return undefined;
  if (key === 'ArrowDown') return 0;
  if (key === 'ArrowUp') return count - 1;
  return undefined;
}

/**
 * Type-ahead: the first item after `current` (wrapping round) whose label starts with `typed`,
 * ignoring case and leading symbols; undefined when `typed` is not one printable character or
 * no label starts with it. Pressing the same letter again cycles through the items it matches.
 */
export function typeAheadIndex(
  labels: readonly string[],
  current: number,
  typed: string,
): number | undefined {
  if ([...typed].length !== 1 || typed.trim() === '') return undefined;
  const letter = typed.toLocaleLowerCase();
  for (let step = 1; step <= labels.length; step += 1) {
    const index = (current + step) % labels.length;
    const label = (labels[index] ?? '').replace(/^[^\p{L}\p{N}]+/u, '').toLocaleLowerCase();
    if (label.startsWith(letter)) return index;
  }
  return undefined;
}

/** A box on screen in CSS pixels, as from getBoundingClientRect. */
export interface ScreenBox {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** Where the menu opens: below or above its button, its left or right edge on the button's. */
export interface MenuPlacement {
  readonly above: boolean;
  /** True: the menu's right edge lines up with the button's (it grows to the left). */
  readonly alignEnd: boolean;
  /** The room on that side when the menu is taller (it scrolls), else undefined. */
  readonly maxHeightPx: number | undefined;
}

/**
 * Where a menu of `menuWidthPx` by `menuHeightPx` opens beside `button` in a viewport of
 * `viewportWidthPx` by `viewportHeightPx`, keeping `marginPx` from the edges: below unless it
 * does not fit there and there is more room above (near the bottom of the page it flips up);
 * its right edge on the button's unless that would cross the left edge of the screen and the
 * other way fits better (a button at the left of a narrow screen). Where it fits on neither
 * side it gets the room of the larger one as its height, and scrolls.
 * @throws RangeError when a size is negative or not a number.
 */
export function menuPlacement(
  button: ScreenBox,
  menuWidthPx: number,
  menuHeightPx: number,
  viewportWidthPx: number,
  viewportHeightPx: number,
  marginPx = 8,
): MenuPlacement {
  for (const [name, value] of Object.entries({
    menuWidthPx,
    menuHeightPx,
    viewportWidthPx,
    viewportHeightPx,
    marginPx,
  })) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a size of 0 or more, not ${value}`);
    }
  }
  const roomBelowPx = viewportHeightPx - marginPx - button.bottom;
  const roomAbovePx = button.top - marginPx;
  const above = menuHeightPx > roomBelowPx && roomAbovePx > roomBelowPx;
  const overflowEndPx = Math.max(0, marginPx - (button.right - menuWidthPx));
  const overflowStartPx = Math.max(0, button.left + menuWidthPx - (viewportWidthPx - marginPx));
  const alignEnd = overflowEndPx === 0 || overflowEndPx <= overflowStartPx;
  const roomPx = Math.max(0, above ? roomAbovePx : roomBelowPx);
  return { above, alignEnd, maxHeightPx: menuHeightPx > roomPx ? roomPx : undefined };
}
