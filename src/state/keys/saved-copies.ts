/**
 * Saving a key file or a backup where the user chooses: the File System Access API's save picker
 * where the browser has it (Chromium), else a download through a Blob link. Small text only (a
 * key file is under 200 bytes); large downloads go through src/transfer's save targets.
 */
import { VeilError } from '../../core/errors';

/** A file to save. */
export interface SaveRequest {
  readonly suggestedName: string;
  readonly text: string;
  readonly mimeType: string;
  /** What the picker calls this kind of file. */
  readonly description: string;
  /** The extension the picker filters on, with its dot (`.jwk`). */
  readonly extension: string;
}

/**
 * What came of it: written where the user chose ('saved'), handed to the browser's downloads
 * ('downloaded': the page cannot tell whether the user kept it, so the caller asks), or
 * cancelled by the user.
 */
export type SaveOutcome = 'saved' | 'downloaded' | 'cancelled';

interface WritableLike {
  write(data: Blob): Promise<void>;
  close(): Promise<void>;
  abort?(): Promise<void>;
}

interface PickerWindow {
  showSaveFilePicker?: (options: {
    suggestedName: string;
    types: { description: string; accept: Record<string, string[]> }[];
  }) => Promise<{ createWritable(): Promise<WritableLike> }>;
}

/** What saveTextFile needs of the page (the real `window` and `document` by default). */
export interface SaveEnvironment {
  readonly window: PickerWindow;
  readonly document: Pick<Document, 'createElement' | 'body'>;
  readonly url: Pick<typeof URL, 'createObjectURL' | 'revokeObjectURL'>;
}

function pageEnvironment(): SaveEnvironment {
  return { window: window as PickerWindow, document, url: URL };
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Saves `request.text` where the user chooses: through the save picker ('saved' or
 * 'cancelled'), else as a download ('downloaded').
 * @throws VeilError KEY_SAVE_FAILED when the file could not be written.
 */
export async function saveTextFile(
  request: SaveRequest,
  env: SaveEnvironment = pageEnvironment(),
): Promise<SaveOutcome> {
  const blob = new Blob([request.text], { type: request.mimeType });
  const picker = env.window.showSaveFilePicker;
  if (typeof picker === 'function') {
    let handle;
    try {
      handle = await picker.call(env.window, {
        suggestedName: request.suggestedName,
        types: [
          {
            description: request.description,
            accept: { [request.mimeType]: [request.extension] },
          },
        ],
      });
    } catch (error) {
      if (isAbort(error)) return 'cancelled';
      throw new VeilError('KEY_SAVE_FAILED', error instanceof Error ? error.name : undefined, {
        cause: error,
      });
    }
    let writable: WritableLike | undefined;
    try {
      writable = await handle.createWritable();
      await writable.write(blob);
      await writable.close();
      return 'saved';
    } catch (error) {
      await writable?.abort?.().catch(() => undefined);
      throw new VeilError('KEY_SAVE_FAILED', error instanceof Error ? error.name : undefined, {
        cause: error,
      });
    }
  }
  const href = env.url.createObjectURL(blob);
  try {
    const link = env.document.createElement('a');
    link.href = href;
    link.download = request.suggestedName;
    link.rel = 'noopener';
    env.document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The download has started from the click; the URL may go once the event loop turns.
    setTimeout(() => env.url.revokeObjectURL(href), 60_000);
  }
  // A download may be cancelled, blocked or deleted later without the page hearing of it.
  return 'downloaded';
}
