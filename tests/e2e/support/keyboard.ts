/**
 * Keyboard-only helpers for the e2e specs: move focus with Tab (or Shift+Tab) until a control
 * with a given accessible name has it, and read whether the focused control shows a focus ring.
 * Nothing here clicks.
 */
import { expect, type Page } from '@playwright/test';

/** What the focused element is and how its focus shows. */
export interface FocusedElement {
  readonly tag: string;
  /** Its aria-label, else its label's text, else its text, with white space collapsed. */
  readonly name: string;
  /** True when `:focus-visible` applies and an outline or a box shadow is drawn. */
  readonly ringShown: boolean;
  /** The test id of the nearest open dialog around it ('' outside dialogs). */
  readonly inDialog: string;
}

/** Describes document.activeElement. */
export function focused(page: Page): Promise<FocusedElement> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) {
      return { tag: 'body', name: '', ringShown: false, inDialog: '' };
    }
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none';
    const dialog = element.closest('dialog[open]');
    return {
      tag: element.tagName.toLowerCase(),
      name: (
        element.getAttribute('aria-label') ??
        (element as HTMLInputElement).labels?.[0]?.textContent ??
        element.textContent ??
        ''
      )
        .replace(/\s+/g, ' ')
        .trim(),
      ringShown: element.matches(':focus-visible') && (outline || shadow),
      inDialog: dialog?.getAttribute('data-testid') ?? (dialog ? 'dialog' : ''),
    };
  });
}

/**
 * Presses Tab (or Shift+Tab with `backwards`) until the focused element's name is `name`, each
 * stop showing a focus ring; fails after `maxPresses`.
 */
export async function tabTo(
  page: Page,
  name: string | RegExp,
  options: { backwards?: boolean; maxPresses?: number } = {},
): Promise<FocusedElement> {
  const key = options.backwards ? 'Shift+Tab' : 'Tab';
  const stops: string[] = [];
  for (let press = 0; press < (options.maxPresses ?? 120); press += 1) {
    await page.keyboard.press(key);
    const now = await focused(page);
    stops.push(now.name.slice(0, 40));
    if (now.tag !== 'body') {
      expect(now.ringShown, `no visible focus on ${now.tag} “${now.name}”`).toBe(true);
    }
    if (typeof name === 'string' ? now.name === name : name.test(now.name)) return now;
  }
  throw new Error(`“${String(name)}” was not reached with ${key}; stops: ${stops.join(' | ')}`);
}
