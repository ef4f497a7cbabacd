/**
 * A Files row's "More actions" menu (views/ui/MenuButton.svelte) for the e2e specs: a row shows
 * its primary action (Download of a file) as a button and every other action as an item of its
 * menu, under the accessible name the row's button had ("Rename notes.txt", "Delete folder
 * album"). `rowAction` opens the menu and clicks the item; a dialog it opens returns focus to
 * `rowMenuButton`. Rows are found by their `data-name` (the name as shown).
 */
import { expect, type Locator, type Page } from '@playwright/test';

/** The Files row named `rowName` (a file's or a folder's name as shown, without a slash). */
export function fileRowOf(page: Page, rowName: string): Locator {
  return page.locator(`[data-testid="row"][data-name=${JSON.stringify(rowName)}]`);
}

/** The row's "More actions for …" button. */
export function rowMenuButton(page: Page, rowName: string): Locator {
  return fileRowOf(page, rowName).getByTestId('row-menu');
}

/** Opens the row's menu (if it is not open) and returns it. */
export async function openRowMenu(page: Page, rowName: string): Promise<Locator> {
  const button = rowMenuButton(page, rowName);
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  const menu = fileRowOf(page, rowName).getByRole('menu');
  await expect(menu).toBeVisible();
  return menu;
}

/**
 * Opens the row's menu and clicks the item whose accessible name is `actionName` exactly, such
 * as "Change protection of folder album".
 */
export async function rowAction(page: Page, rowName: string, actionName: string): Promise<void> {
  const menu = await openRowMenu(page, rowName);
  await menu.getByRole('menuitem', { name: actionName, exact: true }).click();
}
