/**
 * What the Upload specs share: the environment the global setup gives, opening and connecting the
 * app, a queue row, holding chosen UploadPart requests, and reading the queue's figures.
 */
import { expect, type Page } from '@playwright/test';

export const MiB = 1024 * 1024;
// Requests under page.route pass their bodies through Playwright, so an 8 MiB part takes seconds.
export const PART_TIMEOUT = { timeout: 30_000 };

/** A variable the global setup set (playwright.config.ts). */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

export async function openApp(page: Page, view = 'upload'): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/${view}`);
  await expect(page.getByTestId('worker-status')).toHaveText(/Worker ready/);
}

export async function connectGuest(page: Page): Promise<void> {
  await openApp(page, 'settings');
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
}

export function row(page: Page, path: string) {
  return page.locator(`[data-testid="upload-row"][data-path="${path}"]`);
}

/**
 * Holds the UploadPart requests of the listed part numbers, by file name, until `release()`; the
 * other parts go through, so the upload is reliably part-way when the test acts. The held parts
 * are the big ones: requests under page.route pass their bodies through Playwright, which is slow
 * for 8 MiB.
 */
export async function holdParts(
  page: Page,
  held: Record<string, number[]>,
): Promise<{ release(): Promise<void> }> {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const matcher = (url: URL): boolean => url.searchParams.has('partNumber');
  await page.route(matcher, async (route) => {
    const url = new URL(route.request().url());
    const part = Number(url.searchParams.get('partNumber'));
    const name = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
    if (route.request().method() === 'PUT' && held[name]?.includes(part)) await gate;
    await route.continue().catch(() => undefined);
  });
  return {
    release: async () => {
      open();
      await page.unroute(matcher);
    },
  };
}

export async function uploadedValue(page: Page, path: string): Promise<number> {
  return row(page, path)
    .getByTestId('bar-uploaded')
    .evaluate((bar) => (bar as HTMLProgressElement).value);
}

/** The resume records in the app's IndexedDB (read only; the app created the database). */
export async function storedRecords(page: Page): Promise<{ key: string; parts: number }[]> {
  return page.evaluate(
    () =>
      new Promise<{ key: string; parts: number }[]>((resolve, reject) => {
        const open = indexedDB.open('veil-uploads');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('uploads')) {
            db.close();
            resolve([]);
            return;
          }
          const request = db.transaction('uploads', 'readonly').objectStore('uploads').getAll();
          request.onerror = () => reject(request.error ?? new Error('read failed'));
          request.onsuccess = () => {
            const values = request.result as { key: string; parts: unknown[] }[];
            db.close();
            resolve(values.map((value) => ({ key: value.key, parts: value.parts.length })));
          };
        };
      }),
  );
}
