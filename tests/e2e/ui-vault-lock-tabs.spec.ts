/**
 * The vault's lock holds for every tab and takes the clear names with it ([Note: one lock for
 * every tab], followVaultLock in state/shared/location-names-core.ts): in a private-names
 * location whose names key is sealed under a Model A key behind a passphrase lock, "Lock now" in
 * a second tab locks the first one too, whose Files listing then shows no clear name (the names
 * open again only through an unlock); after the unlock the clear names come back.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servePrivateLocation } from './support/private-location';

const PASSPHRASE = 'granite willow ferry lantern';
const ROOT = 'e2e-lock-tabs/';
const NAME = 'merger-plan-acme.txt';

/** A link of the main navigation (a banner may link to Keys too). */
const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function connect(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

async function unlockInKeys(page: Page): Promise<void> {
  await nav(page, 'Keys').click();
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-passphrase').press('Enter');
  await expect(page.getByTestId('vault-lock')).toHaveAttribute('data-status', 'unlocked', {
    timeout: 15_000,
  });
}

test('Lock now in one tab locks the other, whose listing loses its clear names until unlocked', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const location = await servePrivateLocation(ROOT);
  const work = await mkdtemp(join(tmpdir(), 'veil-lock-tabs-'));
  const context = await browser.newContext();
  try {
    const first = await context.newPage();
    await connect(first, location.app.origin);
    await nav(first, 'Keys').click();
    await first.getByTestId('lock-passphrase').fill(PASSPHRASE);
    await first.getByTestId('lock-repeat').fill(PASSPHRASE);
    await first.getByTestId('lock-set').click();
    await expect(first.getByTestId('vault-lock')).toHaveAttribute('data-status', 'unlocked', {
      timeout: 15_000,
    });
    await first.getByTestId('new-key-name').fill('team-key');
    await first.getByTestId('generate-key').click();
    await expect(first.getByTestId('pending-key')).toBeVisible();
    await first.getByTestId('pending-done').click();

    const file = join(work, NAME);
    await writeFile(file, 'confidential\n');
    await nav(first, 'Upload').click();
    await first.getByTestId('mode-A').check();
    await first.getByTestId('file-input').setInputFiles(file);
    await expect(first.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(1, {
      timeout: 30_000,
    });
    expect((await location.keys()).join('\n')).not.toContain('merger');

    await nav(first, 'Files').click();
    const clearRow = first.locator(`[data-testid="row"][data-name="${NAME}"]`);
    await expect(clearRow).toHaveCount(1);

    // A second tab of the same browser: it starts locked, is unlocked, and locks.
    const second = await context.newPage();
    await second.goto(`${location.app.origin}/#/keys`);
    await unlockInKeys(second);
    await second.getByTestId('lock-now').click();
    await expect(second.getByTestId('vault-lock')).toHaveAttribute('data-status', 'locked');

    // The first tab locked too: its listing no longer shows the clear name; opening the names
    // again asks for the unlock where the user is, and Escape leaves them closed.
    await expect(clearRow).toHaveCount(0);
    const prompt = first.getByTestId('unlock-prompt');
    await expect(prompt).toBeVisible();
    await first.keyboard.press('Escape');
    await expect(prompt).toBeHidden();
    await expect(first.getByTestId('names-unreadable')).toBeVisible();
    await expect(first.getByTestId('row').first()).toBeVisible();
    await expect(clearRow).toHaveCount(0);
    // A refresh lists the stored keys again, still without the clear name.
    await first.getByTestId('refresh').click();
    await expect(first.getByTestId('row').first()).toBeVisible();
    await expect(clearRow).toHaveCount(0);
    await nav(first, 'Keys').click();
    await expect(first.getByTestId('vault-lock')).toHaveAttribute('data-status', 'locked');

    // Unlocked again: the clear name is back.
    await unlockInKeys(first);
    await nav(first, 'Files').click();
    await expect(clearRow).toHaveCount(1);
  } finally {
    await context.close();
    await location.close();
    await rm(work, { recursive: true, force: true });
  }
});
