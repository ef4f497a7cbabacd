/**
 * Downloads saved into the page's origin-private file system: a save picker stub that hands the
 * app a file there under the name it suggests (Chromium's real picker needs a person), and the
 * SHA-256 and size of what was saved, read back in the page.
 */
import type { Page } from '@playwright/test';

/** An init script: showSaveFilePicker returns a file of the origin-private file system. */
export const SAVE_PICKER_STUB = `
  window.showSaveFilePicker = async (options) => {
    const root = await navigator.storage.getDirectory();
    return root.getFileHandle(options.suggestedName, { create: true });
  };
`;

/** The hex SHA-256 and size of the file `name` saved in `page` (size -1 when there is none). */
export function savedFile(
  page: Page,
  name: string,
): Promise<{ sha256: string; sizeBytes: number }> {
  return page.evaluate(async (fileName) => {
    const root = await navigator.storage.getDirectory();
    let file: File;
    try {
      file = await (await root.getFileHandle(fileName)).getFile();
    } catch {
      return { sha256: '', sizeBytes: -1 };
    }
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    return {
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
      sizeBytes: file.size,
    };
  }, name);
}
